package stomp

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-stomp/stomp/v3/frame"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/queue"
)

var (
	_ queue.Queue     = (*Queue)(nil)
	_ queue.Describer = (*Queue)(nil)
)

// Queue is an ActiveMQ queue, /queue/NAME, vended by a [Broker]. Sending
// needs nothing more; the first Receive subscribes (client-individual
// acks, activemq.prefetchSize of Options.Prefetch), and the subscription
// lasts until Close, across reconnections.
type Queue struct {
	b       *Broker
	name    string
	dest    string
	r       *receiver
	h       driverkit.Handle // closed; holds the broker when opened by URL
	tracked atomic.Bool      // r is restored on reconnection
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// Describe reports the batch limit; a STOMP queue has no visibility
// timeout and no FIFO groups.
func (q *Queue) Describe() queue.Info {
	return queue.Info{Name: q.name, MaxBatch: MaxBatch}
}

// Send sends up to MaxBatch persistent messages, each confirmed by the
// broker's receipt (one transaction for the batch, so the valid messages
// of one call are stored together or not at all). A message the driver
// refuses on its own (a bad attribute, a Delay without
// Options.ScheduledDelivery, a DeduplicationID) is reported in a
// *postroom.BatchError while the others are sent. Send sets each message's
// ID. When the connection is lost before the receipt, Send sends again on
// the next connection until ctx ends, so a message may arrive twice.
func (q *Queue) Send(ctx context.Context, msgs ...*queue.Message) error {
	const op = "send"
	if q.h.Closed() {
		return ek.Closed(op)
	}
	ms := make([]outMessage, len(msgs))
	now := time.Now()
	for i, m := range msgs {
		if m == nil {
			continue
		}
		ms[i] = outMessage{id: q.b.newID(), body: m.Body, attrs: m.Attributes, groupID: m.GroupID, sentAt: now}
		m.ID = ms[i].id
		switch {
		case m.DeduplicationID != "":
			ms[i].err = ek.Unsupported(op, "STOMP has no deduplication ids")
		case m.Delay > 0 && !q.b.cfg.ScheduledDelivery:
			ms[i].err = ek.Unsupported(op, "a delay needs ActiveMQ's scheduler (Options.ScheduledDelivery)")
		case m.Delay > 0:
			ms[i].delay = m.Delay
		}
	}
	return q.b.sendMessages(ctx, op, q.dest, ms)
}

// Receive waits up to opts.WaitTime (Options.WaitTime when zero) for a
// message and returns up to opts.MaxMessages (at most MaxBatch) of those
// the broker has pushed. opts.VisibilityTimeout is ignored: a received
// message stays with this receiver until it is acked or nacked, or the
// connection is lost.
func (q *Queue) Receive(ctx context.Context, opts queue.ReceiveOptions) ([]*queue.Delivery, error) {
	if q.h.Closed() {
		return nil, ek.Closed("receive")
	}
	return q.r.receive(ctx, opts, q.ensure)
}

func (q *Queue) ensure(ctx context.Context) error {
	if q.h.Closed() {
		return ek.Closed("receive")
	}
	if !q.tracked.Swap(true) {
		q.b.track(q.r)
	}
	return q.b.subscribe(ctx, q.r)
}

// Ack acks deliveries with STOMP ACK frames, returning once they are
// written (or, with Options.AckReceipts, once the broker's receipt for
// them came). A delivery of a lost connection fails with
// postroom.ErrReceiptExpired: the broker delivers the message again.
func (q *Queue) Ack(ctx context.Context, ds ...*queue.Delivery) error {
	if q.h.Closed() {
		return ek.Closed("ack")
	}
	return q.r.ack(ctx, ds)
}

// Nack gives deliveries back. A STOMP NACK would move the message to
// ActiveMQ's dead-letter queue at once, so Nack instead sends each
// message again to the queue, with its receive count, and acks the
// original, in one transaction: the message goes to the back of the
// queue. A positive delay sends it with AMQ_SCHEDULED_DELAY and needs
// Options.ScheduledDelivery; without it Nack returns an error matching
// postroom.ErrUnsupported. See DeadLetter for the NACK.
func (q *Queue) Nack(ctx context.Context, delay time.Duration, ds ...*queue.Delivery) error {
	if q.h.Closed() {
		return ek.Closed("nack")
	}
	return q.r.nack(ctx, delay, ds)
}

// DeadLetter sends a STOMP NACK for deliveries, which ActiveMQ takes as a
// poison ack: the message moves to the dead-letter queue (ActiveMQ.DLQ
// unless the broker's deadLetterStrategy says otherwise) at once.
func (q *Queue) DeadLetter(ctx context.Context, ds ...*queue.Delivery) error {
	if q.h.Closed() {
		return ek.Closed("dead-letter")
	}
	return q.r.deadLetter(ctx, ds)
}

// Close ends the queue's subscription, if it has one; the broker delivers
// the messages this receiver held and did not ack to other receivers.
// Close of a queue opened by URL closes its connection.
func (q *Queue) Close() error {
	if !q.h.Close() {
		return nil
	}
	q.b.untrack(q.r)
	q.r.close()
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	_ = q.r.unsubscribe(ctx)
	cancel()
	q.b.kids.Done(q, &q.h, q.b.Close)
	return nil
}

func (q *Queue) shutdown() {
	q.h.Shutdown()
	q.r.close()
}

// sendMessages sends the messages that passed the checks to dest and
// reports every message's outcome: nil, or an index-aligned
// *postroom.BatchError (or, for one message, its error).
func (b *Broker) sendMessages(ctx context.Context, op, dest string, ms []outMessage) error {
	switch {
	case len(ms) == 0:
		return ek.Reason(op, postroom.ErrTooManyEntries, "no messages")
	case len(ms) > MaxBatch:
		return ek.Reason(op, postroom.ErrTooManyEntries, "more than "+strconv.Itoa(MaxBatch)+" messages")
	}
	errs := make([]error, len(ms))
	frames := make([]*frame.Frame, 0, len(ms))
	idx := make([]int, 0, len(ms))
	failed := false
	for i := range ms {
		m := &ms[i]
		if m.id == "" {
			errs[i], failed = ek.Errorf(postroom.ErrInvalid, op, "nil message"), true
			continue
		}
		if m.err != nil {
			errs[i], failed = m.err, true
			continue
		}
		m.body = append([]byte(nil), m.body...) // the caller may reuse the slice once Send returns
		f, err := sendFrame(op, dest, m)
		if err != nil {
			errs[i], failed = err, true
			continue
		}
		frames = append(frames, f)
		idx = append(idx, i)
	}
	if len(frames) > 0 {
		ferrs, err := b.send(ctx, op, frames)
		if err != nil && !failed {
			return err
		}
		for j, i := range idx {
			switch {
			case err != nil:
				errs[i] = err
			case ferrs != nil:
				errs[i] = ferrs[j]
			}
		}
	}
	if len(ms) == 1 {
		return errs[0]
	}
	return postroom.NewBatchError("stomp", errs)
}
