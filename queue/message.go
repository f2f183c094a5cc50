package queue

import (
	"time"

	"github.com/postroom/postroom/internal/rawvalue"
)

// A Message is what a [Sender] sends.
type Message struct {
	// ID is the message's identifier. Send sets it; a value set by the
	// caller is ignored by drivers whose transport assigns ids.
	ID string

	// Body is the payload. Drivers copy it on Send; the caller may reuse
	// the slice once Send returns.
	Body []byte

	// Attributes are typed name/value pairs carried beside the body (SQS
	// and SNS message attributes, AMQP headers, STOMP headers, an envelope
	// on MQTT).
	Attributes Attributes

	// GroupID orders messages on FIFO queues: messages of one group are
	// delivered in order, one in flight at a time. Required on FIFO
	// queues; on SQS standard queues it names a fair-queue tenant.
	GroupID string

	// DeduplicationID suppresses duplicates sent within the deduplication
	// window (5 minutes on SQS FIFO). Empty uses content-based
	// deduplication where the queue enables it.
	DeduplicationID string

	// Delay postpones the first delivery: 0 to 15 minutes on SQS. Zero
	// means the queue's delay (SQS's DelaySeconds attribute, 0 by
	// default), as when the Go SDK omits DelaySeconds. FIFO queues reject
	// a per-message delay.
	Delay time.Duration
}

// A Delivery is a received message together with what the transport knows
// about this receipt of it.
type Delivery struct {
	Message

	// Receipt identifies this receipt of the message: a new receipt is
	// issued on every receive. It is what Ack, Nack and Extend use.
	Receipt string

	// ReceiveCount is how many times the message has been received,
	// this time included (SQS ApproximateReceiveCount).
	ReceiveCount int

	// SentAt is when the message was first enqueued.
	SentAt time.Time

	// FirstReceivedAt is when the message was received the first time.
	FirstReceivedAt time.Time

	// ReceivedAt is when this receipt was issued.
	ReceivedAt time.Time

	// SequenceNumber is the FIFO sequence number where the transport has
	// one.
	SequenceNumber string

	// DeadLetterSource names the queue a redrive policy moved the message
	// from (its ARN on SQS and memory), or "" for a message that was not
	// dead-lettered.
	DeadLetterSource string

	// raw is the driver's own value for this delivery, reached with As.
	raw any
}

// As sets target, which must be a non-nil pointer, to the driver's raw value
// for this delivery and reports whether it could. Each driver documents the
// types it supports in its package documentation, under "As".
func (d *Delivery) As(target any) bool {
	return rawvalue.As(d.raw, target)
}

func init() {
	rawvalue.SetDelivery = func(d, v any) { d.(*Delivery).raw = v }
	rawvalue.GetDelivery = func(d any) any { return d.(*Delivery).raw }
}
