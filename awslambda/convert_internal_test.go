package awslambda

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/postroom/postroom/queue"
)

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
