package awslambda

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/postroom/postroom/queue"
)

// Vectors from SQS's documented algorithm and responses SQS returned.
func TestMD5OfAttributes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs queue.Attributes
		want  string
	}{
		{"none", nil, ""},
		{"one string", queue.Attributes{"k": queue.String("v")}, "0a77b0642718c3d9dd47090567d11e0d"},
		{"string, number, binary", queue.Attributes{"trace": queue.String("abc-123"), "count": queue.Number("42"), "blob": queue.Binary([]byte{1, 2, 0xff})}, "8a8d7bd307da644820059f5979a058f0"},
		{"custom number type", queue.Attributes{"customNumberTypeAttrib": {Type: "Number.float", Value: "4563442423554324324264524243.32543234"}}, "9fe1b90bbd9965bdf77bac517c7d2495"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, md5OfAttributes(tc.attrs))
		})
	}
	assert.Equal(t, "5eb63bbbe01eeed093cb22bb8f5acdc3", md5Hex([]byte("hello world")))
}

// A delivery made into a record and back is the same delivery.
func TestSQSRecordRoundTrip(t *testing.T) {
	sent := time.UnixMilli(1699783090123)
	d := &queue.Delivery{
		Message: queue.Message{
			ID: "m-1", Body: []byte("body"),
			Attributes: queue.Attributes{"s": queue.String("x"), "n": queue.Int(7), "b": queue.Binary([]byte{0}), "e": queue.Binary([]byte{})},
			GroupID:    "g", DeduplicationID: "dd",
		},
		Receipt: "r", ReceiveCount: 3, SentAt: sent, FirstReceivedAt: sent.Add(time.Second),
		SequenceNumber: "42", DeadLetterSource: "arn:aws:sqs:us-east-1:000000000000:src",
	}
	now := time.Now()
	d.ReceivedAt = now
	m := sqsRecord(d, "arn:aws:sqs:us-east-1:000000000000:q.fifo", "us-east-1")
	back := SQSDelivery(m, now)
	var raw any = m
	assert.True(t, back.As(&raw))
	assert.Equal(t, d.Message, back.Message)
	back.Message = d.Message
	assert.Equal(t, d.Receipt, back.Receipt)
	assert.Equal(t, d.ReceiveCount, back.ReceiveCount)
	assert.True(t, d.SentAt.Equal(back.SentAt))
	assert.True(t, d.FirstReceivedAt.Equal(back.FirstReceivedAt))
	assert.Equal(t, d.SequenceNumber, back.SequenceNumber)
	assert.Equal(t, d.DeadLetterSource, back.DeadLetterSource)
}
