package awssqs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

const traceHeader = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

// TestTraceHeaderSend checks that the trace header attribute goes out as
// the AWSTraceHeader system attribute, not as a message attribute, and
// counts towards neither the attribute limit nor the size.
func TestTraceHeaderSend(t *testing.T) {
	f := newFake()
	q := openFake(t, f, Options{BatchWait: -1})
	attrs := queue.Attributes{TraceHeaderAttribute: queue.String(traceHeader)}
	for i := range maxAttributes {
		attrs[string(rune('a'+i))] = queue.String("v")
	}
	require.NoError(t, q.Send(context.Background(), &queue.Message{Body: []byte("one"), Attributes: attrs}),
		"ten message attributes and the trace header are within the limit")
	require.NoError(t, q.Send(context.Background(),
		&queue.Message{Body: []byte("two"), Attributes: queue.Attributes{TraceHeaderAttribute: queue.String(traceHeader)}},
		&queue.Message{Body: []byte("three")}))

	require.Len(t, f.sentE, 3)
	e := f.sentE[0]
	assert.Len(t, e.MessageAttributes, maxAttributes)
	assert.NotContains(t, e.MessageAttributes, TraceHeaderAttribute)
	assert.Equal(t, map[string]types.MessageSystemAttributeValue{
		"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(traceHeader)},
	}, e.MessageSystemAttributes)
	assert.Nil(t, f.sentE[1].MessageAttributes, "a message with only a trace header has no message attributes")
	assert.Equal(t, traceHeader, aws.ToString(f.sentE[1].MessageSystemAttributes["AWSTraceHeader"].StringValue))
	assert.Nil(t, f.sentE[2].MessageSystemAttributes)
	assert.Equal(t, queue.String(traceHeader), attrs[TraceHeaderAttribute], "Send leaves the caller's attributes alone")

	// The header does not count towards the size: a body of exactly the
	// maximum size with a header is sent.
	f.attrs["MaximumMessageSize"] = "1024"
	q = openFake(t, f, Options{BatchWait: -1})
	require.NoError(t, q.Send(context.Background(), &queue.Message{Body: []byte(strings.Repeat("x", 1024)),
		Attributes: queue.Attributes{TraceHeaderAttribute: queue.String(traceHeader)}}))
}

func TestTraceHeaderInvalid(t *testing.T) {
	f := newFake()
	q := openFake(t, f, Options{BatchWait: -1})
	for _, a := range []queue.Attribute{queue.Number("1"), queue.Binary([]byte{1}), queue.String("")} {
		err := q.Send(context.Background(), &queue.Message{Body: []byte("x"), Attributes: queue.Attributes{TraceHeaderAttribute: a}})
		require.ErrorIs(t, err, postroom.ErrInvalid, "type %s", a.Type)
		assert.True(t, strings.HasPrefix(err.Error(), "awssqs: send: "), err.Error())
	}
	assert.Zero(t, f.count("SendMessageBatch"), "nothing invalid is sent")
}

func TestTraceHeaderReceive(t *testing.T) {
	f := newFake()
	q := openFake(t, f, Options{})
	f.received = []types.Message{
		{MessageId: aws.String("m-1"), ReceiptHandle: aws.String("r-1"), Body: aws.String("a"),
			Attributes: map[string]string{"AWSTraceHeader": traceHeader}},
		{MessageId: aws.String("m-2"), ReceiptHandle: aws.String("r-2"), Body: aws.String("b"),
			Attributes: map[string]string{"AWSTraceHeader": traceHeader},
			MessageAttributes: map[string]types.MessageAttributeValue{
				"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}},
		{MessageId: aws.String("m-3"), ReceiptHandle: aws.String("r-3"), Body: aws.String("c")},
	}
	ds, err := q.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 10, WaitTime: time.Second})
	require.NoError(t, err)
	require.Len(t, ds, 3)
	assert.Equal(t, queue.Attributes{TraceHeaderAttribute: queue.String(traceHeader)}, ds[0].Attributes)
	assert.Equal(t, queue.Attributes{TraceHeaderAttribute: queue.String(traceHeader), "k": queue.String("v")}, ds[1].Attributes)
	assert.Equal(t, traceHeader, TraceHeader(ds[1]))
	assert.Nil(t, ds[2].Attributes)
	assert.Empty(t, TraceHeader(ds[2]))
	assert.Empty(t, TraceHeader(nil))
}
