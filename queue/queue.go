package queue

import (
	"context"
	"time"
)

// A Sender sends messages to a queue.
type Sender interface {
	// Send sends msgs in one call; a driver splits them into as many
	// transport calls as its batch limit requires, or rejects more than
	// it can take at once with postroom.ErrTooManyEntries (the memory and SQS
	// drivers take at most 10). On success each message's ID is set.
	//
	// When some messages were sent and others were not, Send returns a
	// *postroom.BatchError whose entries are index-aligned with msgs. Other errors
	// mean that nothing was sent.
	Send(ctx context.Context, msgs ...*Message) error
}

// A Receiver receives messages from a queue and settles them.
type Receiver interface {
	// Receive waits up to opts.WaitTime for at least one message and returns
	// up to opts.MaxMessages of them. It returns early, with no messages and
	// ctx.Err(), when ctx ends. An empty result with a nil error means the
	// wait ended with no message.
	Receive(ctx context.Context, opts ReceiveOptions) ([]*Delivery, error)

	// Ack deletes delivered messages: they will not be delivered again.
	// A *postroom.BatchError reports the deliveries that could not be acked.
	Ack(ctx context.Context, ds ...*Delivery) error

	// Nack gives delivered messages back: they become visible again after
	// delay. A transport that cannot delay a redelivery returns an error
	// matching postroom.ErrUnsupported for a positive delay.
	Nack(ctx context.Context, delay time.Duration, ds ...*Delivery) error
}

// A Queue sends and receives. Close releases the driver's resources; after
// Close every method returns an error matching postroom.ErrClosed.
type Queue interface {
	Sender
	Receiver
	Close() error
}

// ReceiveOptions tune one call to [Receiver.Receive]. The zero value asks for
// one message with the queue's default wait and visibility timeout.
//
// Every options struct of postroom follows one rule: zero means the default,
// and each field says what its default is; where a field mirrors an SQS
// parameter, its default is what SQS does when the parameter is omitted.
type ReceiveOptions struct {
	// MaxMessages is how many messages to return at most: 1 to the driver's
	// batch limit (10 for SQS and memory). Zero means 1.
	MaxMessages int

	// WaitTime is how long to wait for a first message (a long poll; SQS
	// and memory allow up to 20 s). Zero means the receiver's default: on
	// SQS and memory the queue's ReceiveMessageWaitTimeSeconds (0, a short
	// poll, unless the queue sets one); on the broker drivers their
	// Options.WaitTime (20 s). Negative values are invalid.
	WaitTime time.Duration

	// NoWait returns at once with what is ready (a short poll), whatever
	// WaitTime and the queue's default say.
	NoWait bool

	// VisibilityTimeout overrides the queue's visibility timeout for the
	// returned messages. Zero means the queue's own. (SQS's explicit 0 has
	// the effect of Nack with no delay right after the receive.)
	VisibilityTimeout time.Duration
}

// An Extender can keep received messages in flight longer, for example to
// heartbeat the visibility of messages whose handler is still running.
type Extender interface {
	// Extend sets the visibility timeout of deliveries to timeout counted
	// from now (SQS ChangeMessageVisibility). A delivery whose receipt has
	// expired is reported in a *postroom.BatchError with postroom.ErrReceiptExpired or
	// postroom.ErrReceiptInvalid.
	Extend(ctx context.Context, timeout time.Duration, ds ...*Delivery) error
}

// A Purger deletes every message of a queue, in flight or not.
type Purger interface {
	Purge(ctx context.Context) error
}

// A Stater reports approximate message counts.
type Stater interface {
	Stats(ctx context.Context) (Stats, error)
}

// Stats are approximate counts of the messages in a queue.
type Stats struct {
	Visible  int // ready to be received
	InFlight int // received and neither acked nor visible again
	Delayed  int // sent or nacked with a delay that has not passed

	// OldestAge is the age of the oldest message not deleted, counted from
	// when it was enqueued (SQS's ApproximateAgeOfOldestMessage metric,
	// what queue-depth autoscaling reads); 0 for an empty queue or where
	// the transport cannot tell.
	OldestAge time.Duration
}

// A Describer reports static facts about a queue that helpers adapt to.
type Describer interface {
	Describe() Info
}

// Info describes a queue.
type Info struct {
	Name string
	// FIFO is true when messages of one group are delivered in order and
	// a group is locked while one of its messages is in flight; helpers
	// then handle a group's messages one at a time.
	FIFO bool
	// VisibilityTimeout is the default time a received message stays
	// invisible; zero when the transport has no such notion.
	VisibilityTimeout time.Duration
	// MaxBatch is the most messages one Send, Receive or Ack call takes.
	MaxBatch int
	// MaxVisibility is the longest a message can stay in flight counted
	// from its receive (12 hours on SQS); zero means no limit.
	MaxVisibility time.Duration
	// MaxWaitTime is the longest ReceiveOptions.WaitTime a Receive takes
	// (20 s on SQS); zero means no limit.
	MaxWaitTime time.Duration
}
