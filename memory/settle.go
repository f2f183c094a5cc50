package memory

import (
	"container/heap"
	"context"
	"fmt"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/queue"
)

var (
	_ queue.Extender  = (*Queue)(nil)
	_ queue.Purger    = (*Queue)(nil)
	_ queue.Stater    = (*Queue)(nil)
	_ queue.Describer = (*Queue)(nil)
)

// Ack deletes up to 10 delivered messages (DeleteMessage and
// DeleteMessageBatch). As on SQS, a standard queue deletes a message even
// with a receipt from an earlier receive, while a FIFO queue refuses a
// receipt whose visibility timeout has passed with an error matching
// postroom.ErrReceiptExpired. Failures are reported by index in a
// *postroom.BatchError.
func (q *Queue) Ack(ctx context.Context, ds ...*queue.Delivery) error {
	if err := q.checkSettle("ack", ds); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errClosed("ack")
	}
	q.advance(time.Now())
	var errs []error
	for i, d := range ds {
		m, gen, err := q.lookup("ack", d)
		if err == nil && m != nil {
			if q.fifo && (m.gen != gen || !m.inFlight) {
				err = &postroom.Error{Pkg: "memory", Op: "ack", Code: "InvalidParameterValue",
					Message: fmt.Sprintf("Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", d.Receipt),
					Kind:    postroom.ErrReceiptExpired}
			} else {
				q.remove(m)
			}
		}
		if err != nil {
			if errs == nil {
				errs = make([]error, len(ds))
			}
			errs[i] = err
		}
	}
	if q.fifo {
		q.broadcast() // a group may be unlocked
	}
	return postroom.NewBatchError("memory", errs)
}

// Nack makes delivered messages visible again after delay (0 to 12 hours),
// like ChangeMessageVisibility: the delay counts from now, and the message
// stays in flight until then, so a FIFO group stays locked.
func (q *Queue) Nack(ctx context.Context, delay time.Duration, ds ...*queue.Delivery) error {
	return q.changeVisibility("nack", delay, ds)
}

// Extend sets the visibility timeout of delivered messages to timeout
// counted from now (ChangeMessageVisibility). It fails for a message whose
// total time in flight since its receive would pass 12 hours. On a standard
// queue a receipt whose visibility already expired is ignored, as on SQS.
func (q *Queue) Extend(ctx context.Context, timeout time.Duration, ds ...*queue.Delivery) error {
	return q.changeVisibility("extend", timeout, ds)
}

func (q *Queue) changeVisibility(op string, timeout time.Duration, ds []*queue.Delivery) error {
	if timeout < 0 || timeout > maxVisibilityTimeout {
		return validate.Invalid("memory", op, "InvalidParameterValue",
			"Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", int(timeout/time.Second))
	}
	if err := q.checkSettle(op, ds); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errClosed(op)
	}
	now := time.Now()
	q.advance(now)
	var errs []error
	for i, d := range ds {
		m, gen, err := q.lookup(op, d)
		switch {
		case err != nil:
		case m == nil:
			err = &postroom.Error{Pkg: "memory", Op: op, Code: "InvalidParameterValue",
				Message: fmt.Sprintf("Value %s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.", d.Receipt),
				Kind:    postroom.ErrReceiptInvalid}
		case m.gen != gen || !m.inFlight:
			if q.fifo {
				err = &postroom.Error{Pkg: "memory", Op: op, Code: "InvalidParameterValue",
					Message: fmt.Sprintf("Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", d.Receipt),
					Kind:    postroom.ErrReceiptExpired}
			} // a standard queue ignores it
		case now.Add(timeout).Sub(m.receivedAt) > maxVisibilityTimeout:
			err = &postroom.Error{Pkg: "memory", Op: op, Code: "InvalidParameterValue",
				Message: fmt.Sprintf("Value %d for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]", int(timeout/time.Second)),
				Kind:    postroom.ErrInvalid}
		default:
			m.visibleAt = now.Add(timeout)
			heap.Fix(&q.pending, m.index)
		}
		if err != nil {
			if errs == nil {
				errs = make([]error, len(ds))
			}
			errs[i] = err
		}
	}
	q.advance(now)
	q.broadcast()
	return postroom.NewBatchError("memory", errs)
}

func (q *Queue) checkSettle(op string, ds []*queue.Delivery) error {
	switch {
	case len(ds) == 0:
		return &postroom.Error{Pkg: "memory", Op: op, Code: "AWS.SimpleQueueService.EmptyBatchRequest",
			Message: "There should be at least one entry in the request.", Kind: postroom.ErrTooManyEntries}
	case len(ds) > maxBatch:
		return &postroom.Error{Pkg: "memory", Op: op, Code: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
			Message: fmt.Sprintf("Maximum number of entries per request are %d. You have sent %d.", maxBatch, len(ds)),
			Kind:    postroom.ErrTooManyEntries}
	}
	return nil
}

// lookup returns the live message a delivery's receipt names, and the
// receipt's generation: nil with no error when the message was deleted.
// Callers hold q.mu.
func (q *Queue) lookup(op string, d *queue.Delivery) (*message, uint64, error) {
	if d == nil {
		return nil, 0, invalidReceipt(op, "")
	}
	serial, gen, ok := q.parseReceipt(d.Receipt)
	if !ok || serial == 0 || serial > q.seq {
		return nil, 0, invalidReceipt(op, d.Receipt)
	}
	return q.msgs[serial], gen, nil
}
