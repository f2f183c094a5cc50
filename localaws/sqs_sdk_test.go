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
