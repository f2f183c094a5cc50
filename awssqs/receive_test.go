package awssqs

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

func TestReceiveMapsSystemAttributes(t *testing.T) {
	f := newFake()
	q := openFake(t, f, Options{})
	f.received = []types.Message{{
		MessageId: aws.String("m-1"), ReceiptHandle: aws.String("r-1"), Body: aws.String("hello"),
		Attributes: map[string]string{
			"ApproximateReceiveCount":          "3",
			"SentTimestamp":                    "1700000000123",
			"ApproximateFirstReceiveTimestamp": "1700000001456",
			"MessageGroupId":                   "g",
			"MessageDeduplicationId":           "d",
			"SequenceNumber":                   "18849496460467696128",
			"DeadLetterQueueSourceArn":         "arn:aws:sqs:us-east-1:123456789012:orders",
		},
		MessageAttributes: map[string]types.MessageAttributeValue{
			"n": {DataType: aws.String("Number.int"), StringValue: aws.String("7")},
			"b": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2}},
		},
	}}
	ds, err := q.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 10, WaitTime: 5 * time.Second})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	d := ds[0]
	assert.Equal(t, "m-1", d.ID)
	assert.Equal(t, "r-1", d.Receipt)
	assert.Equal(t, 3, d.ReceiveCount)
	assert.Equal(t, time.UnixMilli(1700000000123), d.SentAt)
	assert.Equal(t, time.UnixMilli(1700000001456), d.FirstReceivedAt)
	assert.Equal(t, "g", d.GroupID)
	assert.Equal(t, "d", d.DeduplicationID)
	assert.Equal(t, "18849496460467696128", d.SequenceNumber)
	assert.Equal(t, "arn:aws:sqs:us-east-1:123456789012:orders", d.DeadLetterSource)
	assert.Equal(t, queue.Attribute{Type: "Number.int", Value: "7"}, d.Attributes["n"])
	assert.Equal(t, queue.Binary([]byte{1, 2}), d.Attributes["b"])
	var raw types.Message
	require.True(t, d.As(&raw), "As reaches the SDK's message")
	assert.Equal(t, "r-1", aws.ToString(raw.ReceiptHandle))

	in := f.recvIn[0]
	assert.Equal(t, int32(10), in.MaxNumberOfMessages)
	assert.Equal(t, int32(5), in.WaitTimeSeconds)
	assert.Equal(t, []string{"All"}, in.MessageAttributeNames)
	assert.Equal(t, []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}, in.MessageSystemAttributeNames)
	assert.Nil(t, in.ReceiveRequestAttemptId, "a standard queue sends no attempt id")
}

// The long poll never outlasts ctx's deadline: SQS is asked to wait only
// the whole seconds that are left, and with nothing received Receive
// waits out ctx and returns its error.
func TestReceiveWaitCappedByDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		q := openFake(t, f, Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 3500*time.Millisecond)
		defer cancel()
		start := time.Now()
		ds, err := q.Receive(ctx, queue.ReceiveOptions{WaitTime: 20 * time.Second})
		assert.Empty(t, ds)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 3500*time.Millisecond, time.Since(start))
		require.NotEmpty(t, f.recvIn)
		assert.Equal(t, int32(3), f.recvIn[0].WaitTimeSeconds, "capped at the 3 whole seconds left")
	})
}

func TestReceiveOptionsChecked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.attrs["ReceiveMessageWaitTimeSeconds"] = "7"
		f.attrs["FifoQueue"] = "true"
		q := openFake(t, f, Options{})
		for name, o := range map[string]queue.ReceiveOptions{
			"too many":      {MaxMessages: 11},
			"negative wait": {WaitTime: -time.Second},
			"long wait":     {WaitTime: 21 * time.Second},
			"visibility":    {VisibilityTimeout: 13 * time.Hour},
		} {
			_, err := q.Receive(context.Background(), o)
			assert.ErrorIs(t, err, postroom.ErrInvalid, name)
		}
		_, err := q.Receive(context.Background(), queue.ReceiveOptions{})
		require.NoError(t, err)
		_, err = q.Receive(context.Background(), queue.ReceiveOptions{NoWait: true})
		require.NoError(t, err)
		require.Len(t, f.recvIn, 2)
		assert.Equal(t, int32(7), f.recvIn[0].WaitTimeSeconds, "zero is the queue's ReceiveMessageWaitTimeSeconds")
		assert.Equal(t, int32(0), f.recvIn[1].WaitTimeSeconds, "NoWait short-polls")
		assert.NotEmpty(t, aws.ToString(f.recvIn[0].ReceiveRequestAttemptId), "a FIFO receive sends an attempt id")
		assert.NotEqual(t, aws.ToString(f.recvIn[0].ReceiveRequestAttemptId), aws.ToString(f.recvIn[1].ReceiveRequestAttemptId))
	})
}
