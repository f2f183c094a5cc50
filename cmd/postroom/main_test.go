package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/localaws"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() {
		runErr = run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, nil, pw, io.Discard)
		pw.Close()
	})
	lines := bufio.NewScanner(pr)
	require.True(t, lines.Scan())
	assert.Contains(t, lines.Text(), "postroom: serving SQS, SNS and EventBridge on http://127.0.0.1:")
	require.True(t, lines.Scan())
	url, ok := strings.CutPrefix(lines.Text(), "export AWS_ENDPOINT_URL=")
	require.True(t, ok, lines.Text())
	go func() { // drain the rest
		for lines.Scan() {
		}
	}()

	c := sqs.NewFromConfig(localaws.New(localaws.Options{}).AWSConfig(url))
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("seed")})
	require.NoError(t, err)
	assert.Equal(t, url+"/000000000000/seed", *q.QueueUrl)

	// A long poll pending (or not yet arrived) does not hold up the stop:
	// localaws's own tests show Close answering a pending poll.
	var polled sync.WaitGroup
	var got *sqs.ReceiveMessageOutput
	var perr error
	start := time.Now()
	polled.Go(func() {
		got, perr = c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 20})
	})
	cancel()
	polled.Wait()
	wg.Wait()
	require.NoError(t, runErr)
	if perr == nil {
		assert.Empty(t, got.Messages)
	}
	assert.Less(t, time.Since(start), 15*time.Second)
}

func TestRunErrors(t *testing.T) {
	assert.Error(t, run(context.Background(), nil, nil, io.Discard, io.Discard))
	assert.Error(t, run(context.Background(), []string{"nope"}, nil, io.Discard, io.Discard))
	assert.Error(t, run(context.Background(), []string{"serve", "-access-key", "k"}, nil, io.Discard, io.Discard))
	assert.Error(t, run(context.Background(), []string{"serve", "-addr", "256.0.0.1:1"}, nil, io.Discard, io.Discard))
}

// startServe runs "postroom serve" with args until ctx ends, and returns
// its URL and a function that waits for it to stop and returns its error.
func startServe(t *testing.T, ctx context.Context, args ...string) (string, func() error) {
	t.Helper()
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() {
		runErr = run(ctx, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...), nil, pw, io.Discard)
		pw.Close()
	})
	lines := bufio.NewScanner(pr)
	require.True(t, lines.Scan())
	require.True(t, lines.Scan())
	url, ok := strings.CutPrefix(lines.Text(), "export AWS_ENDPOINT_URL=")
	require.True(t, ok, lines.Text())
	go func() {
		for lines.Scan() {
		}
	}()
	return url, func() error { wg.Wait(); return runErr }
}

func TestServeDataDir(t *testing.T) {
	dir := t.TempDir()
	ctx, stop := context.WithCancel(context.Background())
	url, wait := startServe(t, ctx, "-data", dir)
	cfg := localaws.New(localaws.Options{}).AWSConfig(url)
	q, e, n := sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	bg := context.Background()

	_, err := q.CreateQueue(bg, &sqs.CreateQueueInput{QueueName: aws.String("orders-dlq")})
	require.NoError(t, err)
	orders, err := q.CreateQueue(bg, &sqs.CreateQueueInput{QueueName: aws.String("orders"), Tags: map[string]string{"team": "a"},
		Attributes: map[string]string{"VisibilityTimeout": "600", "RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:orders-dlq","maxReceiveCount":"5"}`}})
	require.NoError(t, err)
	for _, b := range []string{"one", "two"} {
		_, err := q.SendMessage(bg, &sqs.SendMessageInput{QueueUrl: orders.QueueUrl, MessageBody: aws.String(b)})
		require.NoError(t, err)
	}
	inflight, err := q.ReceiveMessage(bg, &sqs.ReceiveMessageInput{QueueUrl: orders.QueueUrl})
	require.NoError(t, err)
	require.Len(t, inflight.Messages, 1)
	topic, err := n.CreateTopic(bg, &sns.CreateTopicInput{Name: aws.String("events")})
	require.NoError(t, err)
	sub, err := n.Subscribe(bg, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:orders-dlq"), ReturnSubscriptionArn: true,
		Attributes: map[string]string{"FilterPolicy": `{"kind":["keep"]}`, "RawMessageDelivery": "true"}})
	require.NoError(t, err)
	_, err = e.PutRule(bg, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["app"]}`)})
	require.NoError(t, err)
	_, err = e.PutTargets(bg, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []ebtypes.Target{
		{Id: aws.String("t"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:orders-dlq"), InputPath: aws.String("$.detail")}}})
	require.NoError(t, err)
	_, err = e.CreateArchive(bg, &eventbridge.CreateArchiveInput{ArchiveName: aws.String("all"),
		EventSourceArn: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/default")})
	require.NoError(t, err)
	_, err = e.PutEvents(bg, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("other"), DetailType: aws.String("x"), Detail: aws.String(`{}`)}}})
	require.NoError(t, err)

	stop()
	require.NoError(t, wait())

	// Started again on the same directory: everything is there.
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	url2, wait2 := startServe(t, ctx2, "-data", dir)
	cfg = localaws.New(localaws.Options{}).AWSConfig(url2)
	q, e, n = sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	list, err := q.ListQueues(bg, &sqs.ListQueuesInput{})
	require.NoError(t, err)
	assert.Equal(t, []string{url2 + "/000000000000/orders", url2 + "/000000000000/orders-dlq"}, list.QueueUrls)
	ordersURL := aws.String(url2 + "/000000000000/orders")
	attrs, err := q.GetQueueAttributes(bg, &sqs.GetQueueAttributesInput{QueueUrl: ordersURL, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	require.NoError(t, err)
	assert.Equal(t, "600", attrs.Attributes["VisibilityTimeout"])
	assert.Equal(t, "1", attrs.Attributes["ApproximateNumberOfMessages"])
	assert.Equal(t, "1", attrs.Attributes["ApproximateNumberOfMessagesNotVisible"])
	assert.Contains(t, attrs.Attributes["RedrivePolicy"], "orders-dlq")
	tags, err := q.ListQueueTags(bg, &sqs.ListQueueTagsInput{QueueUrl: ordersURL})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"team": "a"}, tags.Tags)
	// The receipt handle from before the restart still works.
	_, err = q.DeleteMessage(bg, &sqs.DeleteMessageInput{QueueUrl: ordersURL, ReceiptHandle: inflight.Messages[0].ReceiptHandle})
	require.NoError(t, err)
	rest, err := q.ReceiveMessage(bg, &sqs.ReceiveMessageInput{QueueUrl: ordersURL, MaxNumberOfMessages: 10})
	require.NoError(t, err)
	require.Len(t, rest.Messages, 1)
	assert.Equal(t, "two", *rest.Messages[0].Body)

	subs, err := n.ListSubscriptionsByTopic(bg, &sns.ListSubscriptionsByTopicInput{TopicArn: topic.TopicArn})
	require.NoError(t, err)
	require.Len(t, subs.Subscriptions, 1)
	assert.Equal(t, *sub.SubscriptionArn, *subs.Subscriptions[0].SubscriptionArn)
	_, err = n.Publish(bg, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("kept"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("keep")}}})
	require.NoError(t, err)
	_, err = e.PutEvents(bg, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("app"), DetailType: aws.String("x"), Detail: aws.String(`{"n":1}`)}}})
	require.NoError(t, err)
	got, err := q.ReceiveMessage(bg, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url2 + "/000000000000/orders-dlq"), MaxNumberOfMessages: 10})
	require.NoError(t, err)
	var bodies []string
	for _, m := range got.Messages {
		bodies = append(bodies, *m.Body)
	}
	assert.ElementsMatch(t, []string{"kept", `{"n":1}`}, bodies)
	arch, err := e.DescribeArchive(bg, &eventbridge.DescribeArchiveInput{ArchiveName: aws.String("all")})
	require.NoError(t, err)
	assert.Equal(t, int64(2), arch.EventCount)

	stop2()
	require.NoError(t, wait2())
}
