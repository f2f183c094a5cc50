package localaws

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/queue"
)

func newSQS(t *testing.T, opts Options) (*Server, *sqs.Client) {
	t.Helper()
	s, cfg := NewTestServer(t, opts)
	return s, sqs.NewFromConfig(cfg)
}

func createQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	require.NoError(t, err)
	return *out.QueueUrl
}

func TestSDKSeedFlow(t *testing.T) {
	ctx := context.Background()
	_, c := newSQS(t, Options{})
	url := createQueue(t, c, "orders", nil)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/000000000000/orders$`, url)

	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("Hello, SQS!"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"trace": {DataType: aws.String("String"), StringValue: aws.String("abc-123")},
			"count": {DataType: aws.String("Number"), StringValue: aws.String("42")},
			"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 0xff}},
		}})
	require.NoError(t, err) // the SDK checks MD5OfMessageBody
	assert.Equal(t, "8a8d7bd307da644820059f5979a058f0", *sent.MD5OfMessageAttributes)

	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}})
	require.NoError(t, err)
	require.Len(t, got.Messages, 1)
	m := got.Messages[0]
	assert.Equal(t, "Hello, SQS!", *m.Body)
	assert.Equal(t, *sent.MessageId, *m.MessageId)
	assert.Equal(t, "8a8d7bd307da644820059f5979a058f0", *m.MD5OfMessageAttributes)
	assert.Equal(t, []byte{1, 2, 0xff}, m.MessageAttributes["blob"].BinaryValue)
	assert.Equal(t, "1", m.Attributes["ApproximateReceiveCount"])

	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle})
	require.NoError(t, err)
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"All"}})
	require.NoError(t, err)
	assert.Equal(t, "0", attrs.Attributes["ApproximateNumberOfMessages"])
	assert.Equal(t, "0", attrs.Attributes["ApproximateNumberOfMessagesNotVisible"])
	assert.Equal(t, "arn:aws:sqs:us-east-1:000000000000:orders", attrs.Attributes["QueueArn"])
}

func TestSDKTypedErrors(t *testing.T) {
	ctx := context.Background()
	_, c := newSQS(t, Options{})
	_, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var qdne *types.QueueDoesNotExist
	require.True(t, errors.As(err, &qdne), "%v", err)
	var api smithy.APIError
	require.True(t, errors.As(err, &api))
	assert.Equal(t, "AWS.SimpleQueueService.NonExistentQueue", api.ErrorCode())
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var api smithy.APIError
	require.True(t, errors.As(err, &api), "%v", err)
	return api.ErrorCode()
}

func TestSDKQueues(t *testing.T) {
	ctx := context.Background()
	_, c := newSQS(t, Options{})
	url := createQueue(t, c, "orders", map[string]string{"VisibilityTimeout": "45"})
	assert.Equal(t, url, createQueue(t, c, "orders", map[string]string{"VisibilityTimeout": "45"}), "idempotent")
	_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders"), Attributes: map[string]string{"VisibilityTimeout": "46"}})
	var exists *types.QueueNameExists
	assert.True(t, errors.As(err, &exists), "%v", err)

	for _, n := range []string{"orders-a", "orders-b", "orders-c", "other"} {
		createQueue(t, c, n, nil)
	}
	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders-b")})
	require.NoError(t, err)
	assert.Equal(t, url+"-b", *got.QueueUrl)

	// Paging through the prefix "orders" two at a time.
	var all []string
	in := &sqs.ListQueuesInput{QueueNamePrefix: aws.String("orders"), MaxResults: aws.Int32(2)}
	for p := sqs.NewListQueuesPaginator(c, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(page.QueueUrls), 2)
		all = append(all, page.QueueUrls...)
	}
	assert.Equal(t, []string{url, url + "-a", url + "-b", url + "-c"}, all)
	lq, err := c.ListQueues(ctx, &sqs.ListQueuesInput{})
	require.NoError(t, err)
	assert.Len(t, lq.QueueUrls, 5)
	assert.Nil(t, lq.NextToken)

	// Attributes.
	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{
		"VisibilityTimeout": "60", "DelaySeconds": "0", "MaximumMessageSize": "2048", "MessageRetentionPeriod": "120",
		"ReceiveMessageWaitTimeSeconds": "1", "RedriveAllowPolicy": `{"redrivePermission":"denyAll"}`}})
	require.NoError(t, err)
	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []types.QueueAttributeName{"VisibilityTimeout", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "RedriveAllowPolicy"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"VisibilityTimeout": "60", "MaximumMessageSize": "2048", "MessageRetentionPeriod": "120",
		"ReceiveMessageWaitTimeSeconds": "1", "RedriveAllowPolicy": `{"redrivePermission":"denyAll"}`}, ga.Attributes)
	_, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"Nope"}})
	var badName *types.InvalidAttributeName
	assert.True(t, errors.As(err, &badName), "%v", err)
	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"VisibilityTimeout": "99999"}})
	var badValue *types.InvalidAttributeValue
	assert.True(t, errors.As(err, &badValue), "%v", err)
	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"ContentBasedDeduplication": "true"}})
	assert.True(t, errors.As(err, &badName), "a FIFO attribute on a standard queue: %v", err)

	// Tags.
	_, err = c.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: &url, Tags: map[string]string{"env": "dev", "team": "a"}})
	require.NoError(t, err)
	_, err = c.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: &url, TagKeys: []string{"team"}})
	require.NoError(t, err)
	tags, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: &url})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"env": "dev"}, tags.Tags)
	tagged, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("tagged"), Tags: map[string]string{"k": "v"}})
	require.NoError(t, err)
	tags, err = c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: tagged.QueueUrl})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"k": "v"}, tags.Tags)

	// Purge, twice.
	_, err = c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &url})
	require.NoError(t, err)
	_, err = c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &url})
	var purging *types.PurgeQueueInProgress
	assert.True(t, errors.As(err, &purging), "%v", err)

	// Delete.
	_, err = c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &url})
	require.NoError(t, err)
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x")})
	var qdne *types.QueueDoesNotExist
	assert.True(t, errors.As(err, &qdne), "%v", err)
	_, err = c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &url})
	assert.True(t, errors.As(err, &qdne), "%v", err)
}

func TestSDKQueueURLForms(t *testing.T) {
	ctx := context.Background()
	_, c := newSQS(t, Options{})
	createQueue(t, c, "orders", nil)
	for _, u := range []string{
		"http://sqs.us-east-1.other-host.example:9999/000000000000/orders",
		"https://sqs.us-east-1.amazonaws.com/000000000000/orders",
		"http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/orders",
		"http://localhost:4566/000000000000/orders",
	} {
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("x")})
		assert.NoError(t, err, u)
	}
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("http://h/111111111111/orders"), MessageBody: aws.String("x")})
	var qdne *types.QueueDoesNotExist
	assert.True(t, errors.As(err, &qdne), "another account: %v", err)
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("http://sqs.eu-west-1.h/000000000000/orders"), MessageBody: aws.String("x")})
	assert.True(t, errors.As(err, &qdne), "another region: %v", err)
}

func TestSDKRegions(t *testing.T) {
	ctx := context.Background()
	s, cfg := NewTestServer(t, Options{AccountID: "123456789012"})
	cfg.Region = "eu-west-1"
	eu := sqs.NewFromConfig(cfg)
	cfg.Region = "us-east-1"
	us := sqs.NewFromConfig(cfg)
	url := createQueue(t, eu, "orders", nil)
	assert.Contains(t, url, "/123456789012/orders")
	ga, err := eu.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"QueueArn"}})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sqs:eu-west-1:123456789012:orders", ga.Attributes["QueueArn"])
	_, err = us.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	var qdne *types.QueueDoesNotExist
	assert.True(t, errors.As(err, &qdne), "queues are per region: %v", err)
	assert.Equal(t, "123456789012", s.AccountID())
}

func TestSDKSignatures(t *testing.T) {
	ctx := context.Background()
	s, cfg := NewTestServer(t, Options{AccessKey: "AKIDLOCAL", SecretKey: "secret"})
	_, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{})
	require.NoError(t, err, "signed with the server's key")
	_ = s

	bad := cfg.Copy()
	bad.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDLOCAL", SecretAccessKey: "wrong"}, nil
	})
	_, err = sqs.NewFromConfig(bad).ListQueues(ctx, &sqs.ListQueuesInput{})
	assert.Equal(t, "SignatureDoesNotMatch", apiCode(t, err))

	bad.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "OTHER", SecretAccessKey: "secret"}, nil
	})
	_, err = sqs.NewFromConfig(bad).ListQueues(ctx, &sqs.ListQueuesInput{})
	assert.Equal(t, "InvalidClientTokenId", apiCode(t, err))

	bad.Credentials = nil // unsigned
	_, err = sqs.NewFromConfig(bad).ListQueues(ctx, &sqs.ListQueuesInput{})
	assert.Equal(t, "MissingAuthenticationToken", apiCode(t, err))
}

func toQueueAttrs(in map[string]types.MessageAttributeValue) queue.Attributes {
	out := queue.Attributes{}
	for k, v := range in {
		a := queue.Attribute{Type: *v.DataType, Binary: v.BinaryValue}
		if v.StringValue != nil {
			a.Value = *v.StringValue
		}
		out[k] = a
	}
	return out
}
