// Package queuetest is a conformance suite for queue drivers, in the spirit
// of testing/fstest: a driver proves itself with one call to [Run],
// declaring in [Capabilities] what its transport can do. The suite skips
// only what a driver declares it cannot do.
package queuetest

import (
	"testing"
	"time"

	"github.com/postroom/postroom/queue"
)

// Harness tells the suite how to make queues of the driver under test.
type Harness struct {
	// New returns a new, empty queue for one test. The suite closes it.
	// New is called inside a testing/synctest bubble when Synctest is set.
	New func(t *testing.T, cfg Config) queue.Queue

	// Caps declares what the driver can do.
	Caps Capabilities

	// Invalid returns a message the driver rejects on its own, while it
	// sends the other messages of the same batch, and the sentinel the
	// rejection matches. Nil skips the partial-failure test.
	Invalid func() (*queue.Message, error)

	// As, when not nil, is a pointer to a variable of the raw type the
	// driver's deliveries reach with Delivery.As, as its documentation
	// says (new(*amqp091.Delivery)): every delivery of the first test
	// must fill one.
	As any

	// Pkg is the name of the driver's package ("memory", "amqp"). When it
	// is set, every error the suite provokes must start with "Pkg: ".
	Pkg string
}

// Config is what a test asks of the queue New makes.
type Config struct {
	// FIFO asks for a FIFO queue (only when Caps.FIFO).
	FIFO bool
	// VisibilityTimeout asks for this default visibility timeout; zero
	// means the driver's default. Drivers whose transport has no
	// visibility timeout ignore it.
	VisibilityTimeout time.Duration
	// ContentBasedDeduplication asks a FIFO queue to deduplicate by body.
	ContentBasedDeduplication bool
}

// Capabilities are what a driver declares it can do.
type Capabilities struct {
	// Synctest runs time-dependent tests inside a testing/synctest bubble
	// (fake time: only drivers whose queues use nothing but the standard
	// library's time and channels). Without it those tests use real time
	// with short durations.
	Synctest bool

	FIFO              bool // FIFO queues: group order, group lock
	Deduplication     bool // FIFO deduplication ids and content-based deduplication
	Delay             bool // per-message send delay (Message.Delay)
	NackDelay         bool // Nack with a positive delay
	VisibilityTimeout bool // unacked messages reappear after the visibility timeout
	ReceiveCount      bool // Delivery.ReceiveCount counts redeliveries exactly
	Extend            bool // queue.Extender
	Purge             bool // queue.Purger
	Stats             bool // queue.Stater with exact counts when nothing moves
	// MaxBatch is the most messages Send and Receive take in one call
	// (10 for SQS); zero means no limit is checked.
	MaxBatch int
	// MaxMessageSize is the largest body the driver accepts; zero means no
	// limit is checked.
	MaxMessageSize int
	// Attributes says attributes round-trip with their types.
	Attributes bool
	// StaleReceiptDeletes says an ack with the receipt of an earlier
	// receive deletes the message on a standard queue (SQS), while a
	// FIFO queue refuses it with postroom.ErrReceiptExpired.
	StaleReceiptDeletes bool
}
