package memory

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/queue"
)

// Receive returns up to opts.MaxMessages (1 to 10) messages, waiting up to
// opts.WaitTime (at most 20 s; zero uses the queue's ReceiveWaitTime) for
// the first one. It returns as soon as a message is available. Each
// returned delivery has a new receipt, and stays invisible to other
// receives for the visibility timeout.
//
// A message received more times than its queue's redrive policy allows is
// moved to the dead-letter queue instead of being returned.
func (q *Queue) Receive(ctx context.Context, opts queue.ReceiveOptions) ([]*queue.Delivery, error) {
	var ds []*queue.Delivery
	err := q.receive(ctx, opts, "", func(taken []*message) {
		ds = q.deliveries(taken, nil)
	})
	return ds, err
}

// SQSReceiveOptions are the options of ReceiveSQS.
type SQSReceiveOptions struct {
	queue.ReceiveOptions

	// AttemptID is SQS's ReceiveRequestAttemptId, for FIFO queues
	// (standard queues ignore it): 1 to 128 alphanumeric and punctuation
	// characters. A retry with the same id within 5 minutes of the receive
	// that first used it returns the same messages with the same receipts
	// at once, restarting their visibility timeout, as long as none of
	// them was deleted, had its visibility changed or became visible
	// again; otherwise it receives anew.
	AttemptID string
}

// SQSDelivery is a delivery with what SQS's ReceiveMessage returns beside
// a queue.Delivery.
type SQSDelivery struct {
	queue.Delivery

	// TraceHeader is the AWSTraceHeader system attribute the message was
	// sent with (SQSMessage.TraceHeader), or "".
	TraceHeader string
}

// ReceiveSQS is Receive with SQS's ReceiveMessage extras, for the local
// AWS endpoint: the ReceiveRequestAttemptId of FIFO queues, and each
// message's AWSTraceHeader.
func (q *Queue) ReceiveSQS(ctx context.Context, opts SQSReceiveOptions) ([]*SQSDelivery, error) {
	if q.fifo && opts.AttemptID != "" && !validate.ID(opts.AttemptID) {
		return nil, validate.Invalid("memory", "receive", "InvalidParameterValue",
			"Value %s for parameter ReceiveRequestAttemptId is invalid. Reason: ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in length.", opts.AttemptID)
	}
	var sds []*SQSDelivery
	err := q.receive(ctx, opts.ReceiveOptions, opts.AttemptID, func(taken []*message) {
		if len(taken) == 0 {
			return
		}
		block := make([]SQSDelivery, len(taken))
		sds = make([]*SQSDelivery, len(taken))
		ptrs := make([]*queue.Delivery, len(taken))
		for i := range block {
			sds[i], ptrs[i] = &block[i], &block[i].Delivery
			block[i].TraceHeader = taken[i].x().trace
		}
		q.deliveries(taken, ptrs)
	})
	return sds, err
}

// receiveAttemptWindow is how long a ReceiveRequestAttemptId can be
// retried.
const receiveAttemptWindow = 5 * time.Minute

// An attempt is a FIFO receive made with a ReceiveRequestAttemptId: its
// messages with the receipt generation and visibility time it gave them.
type attempt struct {
	expires   time.Time
	msgs      []*message
	gens      []uint64
	visibleAt []time.Time
}

// replay returns the messages of attempt id again, restarting their
// visibility timeout, if the attempt is recent and none of its messages
// changed since; otherwise it forgets the attempt. Callers hold q.mu.
func (q *Queue) replay(id string, now time.Time, vt time.Duration) []*message {
	a := q.attempts[id]
	if a == nil {
		return nil
	}
	ok := now.Before(a.expires)
	for i, m := range a.msgs {
		if !ok {
			break
		}
		ok = !m.deleted && m.inFlight && m.gen == a.gens[i] && m.visibleAt.Equal(a.visibleAt[i])
	}
	if !ok {
		delete(q.attempts, id)
		return nil
	}
	for i, m := range a.msgs {
		m.visibleAt = now.Add(vt)
		heap.Fix(&q.pending, m.index)
		a.visibleAt[i] = m.visibleAt
	}
	return a.msgs
}

// record keeps the messages a receive with attempt id returned, forgetting
// attempts whose window has passed. Callers hold q.mu.
func (q *Queue) record(id string, now time.Time, taken []*message) {
	if q.attempts == nil {
		q.attempts = make(map[string]*attempt)
	}
	if len(q.attempts) >= 1024 && len(q.attempts)%1024 == 0 {
		for k, a := range q.attempts {
			if !now.Before(a.expires) {
				delete(q.attempts, k)
			}
		}
	}
	a := &attempt{expires: now.Add(receiveAttemptWindow), msgs: slices.Clone(taken),
		gens: make([]uint64, len(taken)), visibleAt: make([]time.Time, len(taken))}
	for i, m := range taken {
		a.gens[i], a.visibleAt[i] = m.gen, m.visibleAt
	}
	q.attempts[id] = a
}

// receive takes messages as Receive does and passes them (none when the
// wait ends empty) to build while it holds q.mu. A FIFO receive with an
// attempt id replays that attempt when it can.
func (q *Queue) receive(ctx context.Context, opts queue.ReceiveOptions, attemptID string, build func([]*message)) error {
	max, wait, vt, err := q.receiveOptions(opts)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !q.fifo {
		attemptID = ""
	}
	deadline := time.Now().Add(wait)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()

	var buf [maxBatch]*message // taken messages, without an allocation
	q.mu.Lock()
	for {
		if q.closed {
			q.mu.Unlock()
			return errClosed("receive")
		}
		now := time.Now()
		q.advance(now)
		if attemptID != "" {
			if again := q.replay(attemptID, now, vt); again != nil {
				build(again)
				q.mu.Unlock()
				return nil
			}
		}
		taken, moved, dlq := q.take(buf[:0], now, max, vt)
		if len(taken) > 0 || !now.Before(deadline) {
			if attemptID != "" && len(taken) > 0 {
				q.record(attemptID, now, taken)
			}
			build(taken)
			q.mu.Unlock()
			q.deadLetter(dlq, moved)
			return nil
		}
		next := deadline
		if len(q.pending) > 0 && q.pending[0].visibleAt.Before(next) {
			next = q.pending[0].visibleAt
		}
		wake := q.wake
		q.waiters++
		q.mu.Unlock()
		q.deadLetter(dlq, moved)

		if timer == nil {
			timer = time.NewTimer(next.Sub(now))
		} else {
			timer.Reset(next.Sub(now))
		}
		var ctxErr error
		select {
		case <-wake:
		case <-timer.C:
		case <-ctx.Done():
			ctxErr = ctx.Err()
		}
		q.mu.Lock()
		q.waiters--
		if ctxErr != nil {
			q.mu.Unlock()
			return ctxErr
		}
	}
}

func (q *Queue) receiveOptions(o queue.ReceiveOptions) (max int, wait, vt time.Duration, err error) {
	max = o.MaxMessages
	if max == 0 {
		max = 1
	}
	if max < 1 || max > maxBatch {
		return 0, 0, 0, validate.Invalid("memory", "receive", "InvalidParameterValue",
			"Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
	}
	qo := q.options()
	switch {
	case o.NoWait:
		wait = 0
	case o.WaitTime == 0:
		wait = qo.ReceiveWaitTime
	case o.WaitTime < 0 || o.WaitTime > maxWaitTime:
		return 0, 0, 0, validate.Invalid("memory", "receive", "InvalidParameterValue",
			"Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", int(o.WaitTime/time.Second))
	default:
		wait = o.WaitTime
	}
	vt = o.VisibilityTimeout
	if vt == 0 {
		vt = qo.VisibilityTimeout
	}
	if vt < 0 || vt > maxVisibilityTimeout {
		return 0, 0, 0, validate.Invalid("memory", "receive", "InvalidParameterValue",
			"Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", int(vt/time.Second))
	}
	return max, wait, vt, nil
}

// take receives up to max visible messages, appending them to taken, and
// removes the ones the redrive policy moves to the dead-letter queue dlq.
// Callers hold q.mu.
func (q *Queue) take(taken []*message, now time.Time, max int, vt time.Duration) (_, moved []*message, dlq *Queue) {
	rp := q.options().RedrivePolicy
	if rp != nil {
		dlq = rp.DeadLetterQueue
	}
	// admit reports whether m is to be delivered; otherwise it was
	// dropped (expired) or moved to the dead-letter queue.
	admit := func(m *message) bool {
		switch {
		case q.expired(m, now):
			q.remove(m)
			return false
		case rp != nil && m.receiveCount >= rp.MaxReceiveCount:
			q.remove(m)
			moved = append(moved, m)
			return false
		}
		return true
	}
	if !q.fifo {
		for len(taken) < max {
			m := q.ready.pop()
			if m == nil {
				break
			}
			if m.deleted || !admit(m) {
				continue
			}
			q.deliver(m, now, vt)
			taken = append(taken, m)
		}
		return taken, moved, dlq
	}
	for len(taken) < max && len(q.readyG) > 0 {
		g := heap.Pop(&q.readyG).(*group)
		for i := 0; i < len(g.msgs) && len(taken) < max; {
			m := g.msgs[i]
			if m.index >= 0 { // delayed or in flight: the rest of the group waits
				break
			}
			if !admit(m) { // removed from g.msgs
				continue
			}
			q.deliver(m, now, vt)
			taken = append(taken, m)
			i++
		}
		if _, live := q.groups[g.id]; live {
			q.maybeReady(g)
		}
	}
	return taken, moved, dlq
}

// deliver makes m in flight for vt with a new receipt. Callers hold q.mu.
func (q *Queue) deliver(m *message, now time.Time, vt time.Duration) {
	m.receiveCount++
	m.gen++
	if m.firstRecv.IsZero() {
		m.firstRecv = now
	}
	m.receivedAt = now
	m.inFlight = true
	m.visibleAt = now.Add(vt)
	heap.Push(&q.pending, m)
	q.inFlight++
	if m.group != nil {
		m.group.inFlight++
	}
}

// deliveries builds the deliveries of taken messages into ptrs, or into
// new ones when ptrs is nil. Each delivery owns its body and attributes:
// the bodies (and binary attribute values) of a batch are copied into one
// buffer, so a batch costs four allocations whatever its size, plus one map
// per message that has attributes. Callers hold q.mu.
func (q *Queue) deliveries(taken []*message, ptrs []*queue.Delivery) []*queue.Delivery {
	if len(taken) == 0 {
		return nil
	}
	if ptrs == nil {
		ds := make([]queue.Delivery, len(taken))
		ptrs = make([]*queue.Delivery, len(taken))
		for i := range ds {
			ptrs[i] = &ds[i]
		}
	}
	size := 0
	for _, m := range taken {
		size += len(m.body)
		for _, a := range m.attrs {
			size += len(a.Binary)
		}
	}
	data := make([]byte, 0, size)
	own := func(b []byte) []byte { // a copy in data, which it cannot grow into its neighbour
		start := len(data)
		data = append(data, b...)
		return data[start:len(data):len(data)]
	}
	buf := make([]byte, 0, len(taken)*(len(q.token)+20))
	ends := make([]int, 0, maxBatch)
	for _, m := range taken {
		buf = appendReceipt(buf, q.token, m.serial, m.gen)
		ends = append(ends, len(buf))
	}
	receipts := unsafe.String(unsafe.SliceData(buf), len(buf)) // buf is not written again
	start := 0
	for i, m := range taken {
		d := ptrs[i]
		d.ID = m.id
		d.Body = own(m.body)
		if len(m.attrs) > 0 {
			d.Attributes = make(queue.Attributes, len(m.attrs))
			for k, a := range m.attrs {
				if a.Binary != nil {
					a.Binary = own(a.Binary)
				}
				d.Attributes[k] = a
			}
		}
		d.GroupID = m.groupID
		if q.fifo {
			d.DeduplicationID = m.x().dedupID
		}
		d.Receipt = receipts[start:ends[i]]
		start = ends[i]
		d.ReceiveCount = m.receiveCount
		d.SentAt = m.sentAt
		d.FirstReceivedAt = m.firstRecv
		d.ReceivedAt = m.receivedAt
		d.SequenceNumber = m.x().seq
		d.DeadLetterSource = m.x().dlSource
	}
	return ptrs
}

// A receipt is "<queue token>.<message serial>.<generation>", in hex.
func appendReceipt(b []byte, token string, serial, gen uint64) []byte {
	b = append(b, token...)
	b = append(b, '.')
	b = strconv.AppendUint(b, serial, 16)
	b = append(b, '.')
	return strconv.AppendUint(b, gen, 16)
}

// parseReceipt returns the serial and generation of a receipt of q.
func (q *Queue) parseReceipt(r string) (serial, gen uint64, ok bool) {
	if len(r) <= len(q.token)+1 || r[:len(q.token)] != q.token || r[len(q.token)] != '.' {
		return 0, 0, false
	}
	r = r[len(q.token)+1:]
	for i := 0; i < len(r); i++ {
		if r[i] == '.' {
			s, err1 := strconv.ParseUint(r[:i], 16, 64)
			g, err2 := strconv.ParseUint(r[i+1:], 16, 64)
			return s, g, err1 == nil && err2 == nil
		}
	}
	return 0, 0, false
}

func invalidReceipt(op, receipt string) error {
	return &postroom.Error{Pkg: "memory", Op: op, Code: "ReceiptHandleIsInvalid",
		Message: fmt.Sprintf("The input receipt handle %q is not a valid receipt handle.", receipt),
		Kind:    postroom.ErrReceiptInvalid}
}

// deadLetter moves messages to the dead-letter queue dlq, keeping their id,
// body, attributes, sent time and receive count. A standard dead-letter
// queue keeps their enqueue time too, so retention counts from the
// original send; a FIFO one resets it, as SQS does. Callers do not hold
// q.mu: the dead-letter queue's lock is taken on its own.
func (q *Queue) deadLetter(dlq *Queue, moved []*message) {
	if len(moved) == 0 {
		return
	}
	if dlq.isClosed() { // deleted: a queue of its ARN made since takes its place
		var err error
		if dlq, err = dlq.world.QueueByARN(dlq.arn); err != nil {
			return
		}
	}
	dlq.mu.Lock()
	defer dlq.mu.Unlock()
	if dlq.closed {
		return
	}
	now := time.Now()
	for _, m := range moved {
		dlq.seq++
		dm := &message{
			serial:       dlq.seq,
			id:           m.id,
			body:         m.body,
			attrs:        m.attrs,
			groupID:      m.groupID,
			sentAt:       m.sentAt,
			enqueuedAt:   m.enqueuedAt,
			firstRecv:    m.firstRecv,
			receiveCount: m.receiveCount,
			ext:          &msgExt{dedupID: m.x().dedupID, trace: m.x().trace, dlSource: q.arn},
			visibleAt:    now,
			index:        -1,
		}
		if dlq.fifo {
			dm.ext.seq = fmt.Sprintf("%020d", dlq.seq)
			dm.ext.dedupID = m.id // as SQS does for FIFO dead-letter moves
			dm.enqueuedAt = now   // a FIFO dead-letter queue resets the enqueue time; a standard one keeps it
		}
		dlq.enqueue(dm, now)
	}
	dlq.broadcast()
}
