package consumer

import (
	"time"

	"github.com/postroom/postroom/queue"
)

// Hooks are optional functions a [Consumer] calls as it works, for metrics
// and logs. Any of them may be nil. They are called from the consumer's
// goroutines, concurrently with each other, and must return quickly; they
// must not keep or change the slices they are given.
type Hooks struct {
	// Received is called after a receive that returned messages.
	Received func(ds []*queue.Delivery)

	// EmptyPoll is called after a long poll that ended with no message.
	EmptyPoll func()

	// PollError is called when a receive fails; polling pauses for pause
	// before the next one.
	PollError func(err error, pause time.Duration)

	// Handled is called when a handler returned nil, with the time it
	// took. The message is then acked.
	Handled func(d *queue.Delivery, elapsed time.Duration)

	// Failed is called when a handler returned an error, panicked (err is
	// a *PanicError) or ran out of time. The message is then retried or
	// dead-lettered.
	Failed func(d *queue.Delivery, err error)

	// Panic is called when a handler panicked, with the messages it was
	// handling (one, or a batch handler's batch).
	Panic func(ds []*queue.Delivery, err *PanicError)

	// Acked is called after the consumer deleted messages from the queue.
	Acked func(ds []*queue.Delivery)

	// AckFailed is called for each message the queue did not delete. When
	// retry is true the consumer tries again; when it is false it gave up:
	// the receipt was stale (err matches postroom.ErrReceiptExpired or
	// postroom.ErrReceiptInvalid: the message was, or will be, delivered again) or
	// the attempts ran out.
	AckFailed func(d *queue.Delivery, err error, retry bool)

	// Nacked is called after the consumer gave messages back to the queue
	// to be delivered again after delay.
	Nacked func(ds []*queue.Delivery, delay time.Duration)

	// NackFailed is called for each message the queue did not take back;
	// it becomes visible again when its visibility timeout passes.
	NackFailed func(d *queue.Delivery, err error)

	// DeadLettered is called after a message was sent to the dead-letter
	// sender and acked, with the reason: the handler's last error, or
	// ErrExhausted.
	DeadLettered func(d *queue.Delivery, cause error)

	// DeadLetterFailed is called when sending a message to the dead-letter
	// sender failed; the message is nacked to be tried again.
	DeadLetterFailed func(d *queue.Delivery, err error)

	// Extended is called after the heartbeat extended the visibility of
	// in-flight messages to timeout from now.
	Extended func(ds []*queue.Delivery, timeout time.Duration)

	// ExtendFailed is called for each message whose visibility could not
	// be extended. A stale receipt or the visibility cap stops the
	// extensions of that message; other errors are retried on the next
	// heartbeat.
	ExtendFailed func(d *queue.Delivery, err error)

	// InFlight is called with the number of messages the consumer holds
	// (received and not yet settled by their handler) whenever it changes.
	InFlight func(n int)
}
