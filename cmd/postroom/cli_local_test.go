package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/internal/sqsmd5"
	"github.com/postroom/postroom/localaws"
)

// localEndpoint serves the local AWS endpoint for one test and returns
// its URL and a client configuration.
func localEndpoint(t *testing.T) (string, aws.Config) {
	t.Helper()
	_, cfg := localaws.NewTestServer(t, localaws.Options{})
	return *cfg.BaseEndpoint, cfg
}

// createQueue creates a queue on the local endpoint and returns its URL.
func createQueue(t *testing.T, cfg aws.Config, name string) string {
	t.Helper()
	out, err := sqs.NewFromConfig(cfg).CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	require.NoError(t, err)
	return *out.QueueUrl
}

// TestCLILocalSQS runs the SQS tutorial's flow with the binary against
// the local endpoint: send "Hello, SQS!", receive, delete with the receipt
// handle, with the queue named by awssqs:// and by its https:// URL.
func TestCLILocalSQS(t *testing.T) {
	c := buildCLI(t)
	endpoint, cfg := localEndpoint(t)
	createQueue(t, cfg, "seed")
	q := "awssqs://seed?endpoint=" + endpoint
	httpsURL := "https://sqs.us-east-1.amazonaws.com/000000000000/seed?endpoint=" + endpoint

	var sent sendOut
	c.ok("send", q, "Hello, SQS!", "--attr", "kind=greeting", "--attr", "n:Number=42").json(t, &sent)
	assert.NotEmpty(t, sent.MessageId)
	assert.Equal(t, sqsmd5.Body([]byte("Hello, SQS!")), sent.MD5OfMessageBody)
	assert.NotEmpty(t, sent.MD5OfMessageAttributes)

	var stats struct{ Attributes map[string]string }
	c.ok("stats", q).json(t, &stats)
	assert.Equal(t, map[string]string{"ApproximateNumberOfMessages": "1", "ApproximateNumberOfMessagesNotVisible": "0", "ApproximateNumberOfMessagesDelayed": "0"}, stats.Attributes)

	// --visibility 0 leaves the message visible.
	var got receiveOut
	c.ok("receive", "--visibility", "0", "--wait", "1", q).json(t, &got)
	require.Len(t, got.Messages, 1)
	assert.Equal(t, "1", got.Messages[0].Attributes["ApproximateReceiveCount"])

	c.ok("receive", "--max", "10", "--visibility", "60", "--wait", "1s", q).json(t, &got)
	require.Len(t, got.Messages, 1)
	m := got.Messages[0]
	assert.Equal(t, sent.MessageId, m.MessageId)
	assert.Equal(t, "Hello, SQS!", m.Body)
	assert.Equal(t, sent.MD5OfMessageBody, m.MD5OfBody)
	assert.Equal(t, sent.MD5OfMessageAttributes, m.MD5OfMessageAttributes)
	assert.Equal(t, "2", m.Attributes["ApproximateReceiveCount"])
	assert.NotEmpty(t, m.Attributes["SentTimestamp"])
	assert.Equal(t, "String", m.MessageAttributes["kind"].DataType)
	assert.Equal(t, "greeting", m.MessageAttributes["kind"].StringValue)
	assert.Equal(t, "Number", m.MessageAttributes["n"].DataType)
	assert.Equal(t, "42", m.MessageAttributes["n"].StringValue)
	require.NotEmpty(t, m.ReceiptHandle)

	c.ok("stats", q).json(t, &stats)
	assert.Equal(t, "1", stats.Attributes["ApproximateNumberOfMessagesNotVisible"])

	// A receive with nothing to receive prints nothing, as the AWS CLI.
	r := c.ok("receive", "--wait", "0", q)
	assert.Empty(t, r.stdout)

	// delete with the receipt handle, through the https:// queue URL.
	assert.Empty(t, c.ok("delete", httpsURL, m.ReceiptHandle).stdout)
	c.ok("stats", q).json(t, &stats)
	assert.Equal(t, "0", stats.Attributes["ApproximateNumberOfMessages"])
	assert.Equal(t, "0", stats.Attributes["ApproximateNumberOfMessagesNotVisible"])

	// The body from standard input; receive --ack deletes.
	r = c.runIn("from stdin\n", "send", httpsURL)
	require.Equal(t, 0, r.code, r.stderr)
	c.ok("receive", "--ack", "--wait", "1", q).json(t, &got)
	require.Len(t, got.Messages, 1)
	assert.Equal(t, "from stdin\n", got.Messages[0].Body)
	c.ok("stats", q).json(t, &stats)
	assert.Equal(t, "0", stats.Attributes["ApproximateNumberOfMessagesNotVisible"])

	// purge
	c.ok("send", q, "one")
	c.ok("send", q, "two", "--delay", "5m")
	c.ok("stats", q).json(t, &stats)
	assert.Equal(t, "1", stats.Attributes["ApproximateNumberOfMessagesDelayed"])
	assert.Empty(t, c.ok("purge", q).stdout)
	c.ok("stats", q).json(t, &stats)
	assert.Equal(t, "0", stats.Attributes["ApproximateNumberOfMessages"])
	assert.Equal(t, "0", stats.Attributes["ApproximateNumberOfMessagesDelayed"])

	// The queue URL the local endpoint returns works as it is.
	qurl := createQueue(t, cfg, "plain")
	c.ok("send", qurl, "by queue URL")
	c.ok("receive", "--wait", "1", qurl).json(t, &got)
	require.Len(t, got.Messages, 1)
	assert.Equal(t, "by queue URL", got.Messages[0].Body)
	c.ok("delete", qurl, got.Messages[0].ReceiptHandle)
	c.ok("stats", qurl).json(t, &stats)
	assert.Equal(t, "0", stats.Attributes["ApproximateNumberOfMessagesNotVisible"])

	// Failures exit with 1 and one line.
	line := c.fails(1, "send", "awssqs://nope?endpoint="+endpoint, "x")
	assert.Contains(t, line, "does not exist")
	line = c.fails(1, "delete", q, "not-a-receipt")
	assert.Contains(t, line, "ReceiptHandleIsInvalid")
	c.fails(2, "send", "awssqs://seed?endpoint="+endpoint+"&bogus=1", "x")
}

// TestCLIReceiveMatchesAWSCLI receives one message with the AWS CLI and
// one with postroom and compares the shapes: every key aws sqs
// receive-message prints, postroom prints too.
func TestCLIReceiveMatchesAWSCLI(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the aws command (AWS CLI) is not on PATH")
	}
	c := buildCLI(t)
	endpoint, cfg := localEndpoint(t)
	qurl := createQueue(t, cfg, "shape")
	q := "awssqs://shape?endpoint=" + endpoint
	c.ok("send", q, "a", "--attr", "k=v", "--attr", "b:Binary=AAE=")
	c.ok("send", q, "b", "--attr", "k=v", "--attr", "b:Binary=AAE=")

	cmd := exec.Command(awsPath, "--endpoint-url", endpoint, "--output", "json", "sqs", "receive-message", "--queue-url", qurl,
		"--attribute-names", "All", "--message-attribute-names", "All")
	cmd.Env = append(c.env, "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=")
	out, err := cmd.Output()
	require.NoError(t, err)
	var theirs, ours map[string][]map[string]any
	require.NoError(t, json.Unmarshal(out, &theirs))
	require.NoError(t, json.Unmarshal([]byte(c.ok("receive", q).stdout), &ours))
	require.Len(t, theirs["Messages"], 1)
	require.Len(t, ours["Messages"], 1)
	tm, om := theirs["Messages"][0], ours["Messages"][0]
	assert.Equal(t, keys(tm), keys(om))
	assert.Equal(t, tm["MessageAttributes"], om["MessageAttributes"])
	assert.Equal(t, tm["MD5OfMessageAttributes"], om["MD5OfMessageAttributes"])
	for k := range om["Attributes"].(map[string]any) {
		assert.Contains(t, tm["Attributes"], k)
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestCLILocalSNS publishes with the binary to a topic of the local
// endpoint and receives the SNS envelope from its subscribed queue.
func TestCLILocalSNS(t *testing.T) {
	c := buildCLI(t)
	endpoint, cfg := localEndpoint(t)
	ctx := context.Background()
	createQueue(t, cfg, "inbox")
	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("news")})
	require.NoError(t, err)
	_, err = sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:inbox")})
	require.NoError(t, err)

	var pub struct{ MessageId string }
	c.ok("publish", "awssns://news?endpoint="+endpoint, "Hello, SNS!", "--subject", "greeting", "--attr", "kind=hello").json(t, &pub)
	require.NotEmpty(t, pub.MessageId)

	var got receiveOut
	c.ok("receive", "--ack", "--wait", "2", "awssqs://inbox?endpoint="+endpoint).json(t, &got)
	require.Len(t, got.Messages, 1)
	var env struct {
		Type, MessageId, Subject, Message string
		MessageAttributes                 map[string]struct{ Type, Value string }
	}
	require.NoError(t, json.Unmarshal([]byte(got.Messages[0].Body), &env))
	assert.Equal(t, "Notification", env.Type)
	assert.Equal(t, pub.MessageId, env.MessageId)
	assert.Equal(t, "greeting", env.Subject)
	assert.Equal(t, "Hello, SNS!", env.Message)
	assert.Equal(t, "hello", env.MessageAttributes["kind"].Value)

	line := c.fails(1, "publish", "awssns://nope?endpoint="+endpoint, "x")
	assert.Contains(t, line, "postroom: ")
}

// TestCLILocalEventBridge puts events with the binary on the default bus
// of the local endpoint, routed by a rule to a queue.
func TestCLILocalEventBridge(t *testing.T) {
	c := buildCLI(t)
	endpoint, cfg := localEndpoint(t)
	ctx := context.Background()
	createQueue(t, cfg, "orders")
	eb := eventbridge.NewFromConfig(cfg)
	_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("placed"),
		EventPattern: aws.String(`{"source": ["com.example.orders"], "detail": {"amount": [{"numeric": [">", 100]}]}}`)})
	require.NoError(t, err)
	_, err = eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("placed"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:orders")}}})
	require.NoError(t, err)
	bus := "awseventbridge://default?endpoint=" + endpoint
	orders := "awssqs://orders?endpoint=" + endpoint

	type putOut struct {
		FailedEntryCount int
		Entries          []struct{ EventId, ErrorCode, ErrorMessage string }
	}
	var out putOut
	c.ok("put-events", bus, "--source", "com.example.orders", "--detail-type", "Order Placed", "--detail", `{"amount": 250}`).json(t, &out)
	assert.Equal(t, 0, out.FailedEntryCount)
	require.Len(t, out.Entries, 1)
	require.NotEmpty(t, out.Entries[0].EventId)

	var got receiveOut
	c.ok("receive", "--ack", "--wait", "2", orders).json(t, &got)
	require.Len(t, got.Messages, 1)
	var ev map[string]any
	require.NoError(t, json.Unmarshal([]byte(got.Messages[0].Body), &ev))
	assert.Equal(t, out.Entries[0].EventId, ev["id"])
	assert.Equal(t, "Order Placed", ev["detail-type"])
	assert.Equal(t, map[string]any{"amount": 250.0}, ev["detail"])

	// --entries as the AWS CLI takes them: the small order is put but
	// matches no rule.
	entries := `[{"Source": "com.example.orders", "DetailType": "Order Placed", "Detail": "{\"amount\": 5}"},
	             {"Source": "com.example.orders", "DetailType": "Order Placed", "Detail": "{\"amount\": 500}", "Time": "2026-01-02T03:04:05Z"}]`
	c.ok("put-events", bus, "--entries", entries).json(t, &out)
	assert.Equal(t, 0, out.FailedEntryCount)
	require.Len(t, out.Entries, 2)
	c.ok("receive", "--ack", "--wait", "2", "--max", "10", orders).json(t, &got)
	require.Len(t, got.Messages, 1)
	require.NoError(t, json.Unmarshal([]byte(got.Messages[0].Body), &ev))
	assert.Equal(t, out.Entries[1].EventId, ev["id"])
	assert.Equal(t, "2026-01-02T03:04:05Z", ev["time"])

	// One entry of two fails: the result is printed, and the exit code is 1.
	entries = `[{"Source": "s", "DetailType": "t", "Detail": "{}"}, {"Source": "s", "DetailType": "t", "Detail": "not json"}]`
	r := c.run("put-events", bus, "--entries", entries)
	assert.Equal(t, 1, r.code, r.stderr)
	r.json(t, &out)
	assert.Equal(t, 1, out.FailedEntryCount)
	assert.NotEmpty(t, out.Entries[0].EventId)
	assert.NotEmpty(t, out.Entries[1].ErrorCode)
	assert.True(t, strings.HasPrefix(r.stderr, "postroom: put-events: 1 of 2 entries failed"), r.stderr)

	c.fails(2, "put-events", bus, "--entries", "[]")
	c.fails(2, "put-events", bus, "--entries", entries, "--source", "x")
}

// TestCLIServeFlow runs the README's flow with two processes of the
// binary: postroom serve, and the verbs against the queue URL it returns.
func TestCLIServeFlow(t *testing.T) {
	c := buildCLI(t)
	srv := exec.Command(c.bin, "serve", "-addr", "127.0.0.1:0")
	srv.Env = c.env
	stdout, err := srv.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	drained := make(chan struct{})
	t.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt)
		<-drained // the pipe is read to its end before Wait closes it
		assert.NoError(t, srv.Wait())
	})
	lines := bufio.NewScanner(stdout)
	var endpoint string
	for endpoint == "" && lines.Scan() {
		if e, ok := strings.CutPrefix(lines.Text(), "export AWS_ENDPOINT_URL="); ok {
			endpoint = e
		}
	}
	go func() { // drain the rest
		defer close(drained)
		for lines.Scan() {
		}
	}()
	require.NotEmpty(t, endpoint, "serve printed no endpoint")

	q := createQueue(t, localaws.New(localaws.Options{}).AWSConfig(endpoint), "seed")
	require.Equal(t, endpoint+"/000000000000/seed", q)
	var sent sendOut
	c.ok("send", q, "Hello, SQS!", "--attr", "kind=greeting").json(t, &sent)
	var got receiveOut
	c.ok("receive", q, "--wait", "20", "--max", "10").json(t, &got)
	require.Len(t, got.Messages, 1)
	assert.Equal(t, sent.MessageId, got.Messages[0].MessageId)
	c.ok("delete", q, got.Messages[0].ReceiptHandle)
	var stats struct{ Attributes map[string]string }
	c.ok("stats", q).json(t, &stats)
	assert.Equal(t, "0", stats.Attributes["ApproximateNumberOfMessages"])
	assert.Equal(t, "0", stats.Attributes["ApproximateNumberOfMessagesNotVisible"])
}

// TestCLILocalFIFO sends to a FIFO queue with a group and a deduplication
// id: the duplicate is dropped, and receive prints the group.
func TestCLILocalFIFO(t *testing.T) {
	c := buildCLI(t)
	endpoint, cfg := localEndpoint(t)
	_, err := sqs.NewFromConfig(cfg).CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("jobs.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"}})
	require.NoError(t, err)
	q := "awssqs://jobs.fifo?endpoint=" + endpoint
	var first, dup sendOut
	c.ok("send", q, "one", "--group", "g1", "--dedup-id", "d1").json(t, &first)
	c.ok("send", q, "one again", "--group", "g1", "--dedup-id", "d1").json(t, &dup)
	assert.Equal(t, first.MessageId, dup.MessageId, "a duplicate gets the first one's id")
	assert.Contains(t, c.fails(1, "send", q, "no group"), "MessageGroupId")

	var got receiveOut
	c.ok("receive", q, "--max", "10", "--wait", "1", "--ack").json(t, &got)
	require.Len(t, got.Messages, 1)
	assert.Equal(t, "one", got.Messages[0].Body)
	assert.Equal(t, "g1", got.Messages[0].Attributes["MessageGroupId"])
	assert.Equal(t, "d1", got.Messages[0].Attributes["MessageDeduplicationId"])
	assert.NotEmpty(t, got.Messages[0].Attributes["SequenceNumber"])
}
