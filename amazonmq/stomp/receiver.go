package stomp

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/go-stomp/stomp/v3/frame"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/longpoll"
	"github.com/postroom/postroom/internal/rawvalue"
	"github.com/postroom/postroom/queue"
)

// A receiver is one STOMP subscription, kept across reconnections with the
// same id and headers: the driver side of a Queue's receiving half and of a
// Subscription. The connection's reader pushes MESSAGE frames into its
// buffer without ever blocking; Receive takes them out. The broker sends at
// most Prefetch unacked messages, which bounds the buffer.
type receiver struct {
	b       *Broker
	id      string // subscription id, the same on every connection
	dest    string // /queue/NAME or /topic/NAME
	durable string // activemq.subscriptionName, for durable topic subscriptions
	// local makes Nack redeliver from this process's buffer (topic
	// subscriptions, where sending again would reach every subscriber)
	// rather than send the message again to the queue.
	local bool

	subMu     sync.Mutex // guards the three fields below
	subConn   *conn      // the connection the subscription is active on
	subOp     *op        // a SUBSCRIBE awaiting its receipt
	subOpConn *conn      // the connection subOp was sent on

	avail chan struct{} // cap 1: a frame was pushed, or the receiver closed

	mu       sync.Mutex // guards everything below
	buf      []*entry   // received, not yet handed out
	inflight map[string]*entry
	timers   map[*entry]*time.Timer // local redeliveries waiting for their delay
	seq      uint64
	closed   bool
}

// An entry is one received MESSAGE frame.
type entry struct {
	c       *conn
	f       *frame.Frame
	receipt string    // of the latest hand-out
	count   int       // ReceiveCount of the latest hand-out
	first   time.Time // FirstReceivedAt
	local   int       // local redeliveries so far
}

func newReceiver(b *Broker, dest, durable string, local bool) *receiver {
	return &receiver{
		b:        b,
		id:       "sub-" + strconv.FormatUint(b.subSeq.Add(1), 10),
		dest:     dest,
		durable:  durable,
		local:    local,
		avail:    make(chan struct{}, 1),
		inflight: make(map[string]*entry),
		timers:   make(map[*entry]*time.Timer),
	}
}

// push is called by c's reader for every MESSAGE frame of this
// subscription. It never blocks for long.
func (r *receiver) push(c *conn, f *frame.Frame) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.buf = append(r.buf, &entry{c: c, f: f})
	r.mu.Unlock()
	r.signal()
}

func (r *receiver) signal() {
	select {
	case r.avail <- struct{}{}:
	default:
	}
}

func (r *receiver) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// subscribeOn subscribes on c unless the subscription is active there
// already. When ctx ends before the broker's receipt, the SUBSCRIBE stays
// pending, and the next call waits for its receipt rather than subscribe
// twice.
func (r *receiver) subscribeOn(ctx context.Context, c *conn) error {
	r.subMu.Lock()
	if r.subConn == c {
		r.subMu.Unlock()
		return nil
	}
	if r.isClosed() {
		r.subMu.Unlock()
		return ek.Closed("subscribe")
	}
	if r.subOp == nil || r.subOpConn != c {
		f := frame.New(frame.SUBSCRIBE,
			frame.Destination, r.dest,
			frame.Id, r.id,
			frame.Ack, frame.AckClientIndividual,
			hdrPrefetch, strconv.Itoa(r.b.cfg.Prefetch))
		if r.durable != "" {
			f.Header.Add(hdrSubName, r.durable)
		}
		c.addSub(r.id, r)
		r.subOp, r.subOpConn = newOp(opEach, f), c
		if err := c.submit(ctx, r.subOp); err != nil {
			r.subOp, r.subOpConn = nil, nil
			c.removeSub(r.id)
			r.subMu.Unlock()
			return err
		}
	}
	o := r.subOp
	r.subMu.Unlock()

	err := c.await(ctx, o)
	if err != nil && ctx.Err() != nil && c.alive() {
		return err // still pending
	}
	if err == nil {
		err = o.errs[0]
	}
	r.subMu.Lock()
	defer r.subMu.Unlock()
	if r.subOp == o {
		r.subOp, r.subOpConn = nil, nil
		if err == nil {
			r.subConn = c
		} else {
			c.removeSub(r.id)
		}
	}
	return err
}

// unsubscribe ends the subscription on its connection, waiting for the
// broker's receipt up to ctx.
func (r *receiver) unsubscribe(ctx context.Context) error {
	r.subMu.Lock()
	c := r.subConn
	if c == nil {
		c = r.subOpConn // a SUBSCRIBE awaiting its receipt
	}
	r.subConn, r.subOp, r.subOpConn = nil, nil, nil
	r.subMu.Unlock()
	if c == nil || !c.alive() {
		return nil
	}
	defer c.removeSub(r.id)
	o := newOp(opEach, frame.New(frame.UNSUBSCRIBE, frame.Id, r.id))
	if err := c.do(ctx, o); err != nil {
		return err
	}
	return o.errs[0]
}

// receive takes up to opts.MaxMessages frames out of the buffer, waiting
// up to the wait time for the first. ensure makes sure the subscription is
// active first.
func (r *receiver) receive(ctx context.Context, opts queue.ReceiveOptions, ensure func(context.Context) error) ([]*queue.Delivery, error) {
	const op = "receive"
	n, wait, err := longpoll.Limits(opts, MaxBatch, r.b.cfg.WaitTime)
	if err != nil {
		return nil, ek.Errorf(postroom.ErrInvalid, op, "%v", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.isClosed() {
		return nil, ek.Closed(op)
	}
	deadline := time.Now().Add(wait)
	if ensure != nil {
		// Subscribing waits for a connection; while there is none, this is
		// an empty long poll.
		ectx, cancel := context.WithDeadline(ctx, deadline)
		err = ensure(ectx)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errLost):
			return nil, nil
		default:
			return nil, err
		}
	}
	return longpoll.Wait(ctx, r.avail, deadline, func() ([]*queue.Delivery, error) { return r.take(n) })
}

// take hands out up to n buffered frames, dropping those of lost
// connections (the broker redelivers them).
func (r *receiver) take(n int) ([]*queue.Delivery, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ek.Closed("receive")
	}
	now := time.Now()
	ds, more := longpoll.Take(&r.buf, n, func(e *entry) bool { return e.c.alive() },
		func(e *entry) *queue.Delivery { return r.handOut(e, now) })
	if more {
		r.signal() // for the next Receive
	}
	return ds, nil
}

// handOut turns e into a delivery with a new receipt. Callers hold r.mu.
func (r *receiver) handOut(e *entry, now time.Time) *queue.Delivery {
	rv := decodeFrame(e.f)
	r.seq++
	e.receipt = r.id + "." + strconv.FormatUint(e.c.gen, 36) + "." + strconv.FormatUint(r.seq, 36)
	e.count = rv.receiveCount + 1 + e.local
	if rv.redelivered {
		e.count++
	}
	if e.first.IsZero() {
		e.first = rv.firstRecv
		if e.first.IsZero() {
			e.first = now
		}
	}
	r.inflight[e.receipt] = e
	d := &queue.Delivery{
		Message:         rv.msg,
		Receipt:         e.receipt,
		ReceiveCount:    e.count,
		SentAt:          rv.sentAt,
		FirstReceivedAt: e.first,
		ReceivedAt:      now,
	}
	rawvalue.Set(d, e.f)
	return d
}

// settling takes the entries of ds out of the in-flight set for ack or
// nack. errs[i] is set for a delivery that cannot be settled; entries[i] is
// nil then.
func (r *receiver) settling(op string, ds []*queue.Delivery) (entries []*entry, errs []error, err error) {
	switch {
	case len(ds) == 0:
		return nil, nil, ek.Reason(op, postroom.ErrTooManyEntries, "no deliveries")
	case len(ds) > MaxBatch:
		return nil, nil, ek.Reason(op, postroom.ErrTooManyEntries, "more than "+strconv.Itoa(MaxBatch)+" deliveries")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, nil, ek.Closed(op)
	}
	entries = make([]*entry, len(ds))
	errs = make([]error, len(ds))
	for i, d := range ds {
		var e *entry
		if d != nil {
			e = r.inflight[d.Receipt]
		}
		switch {
		case e == nil:
			errs[i] = ek.Reason(op, postroom.ErrReceiptInvalid, "the receipt is not of this receiver, or its message was settled already")
		case !e.c.alive():
			delete(r.inflight, d.Receipt)
			errs[i] = ek.Reason(op, postroom.ErrReceiptExpired, "the connection that delivered the message was lost; the broker delivers it again")
		default:
			delete(r.inflight, d.Receipt)
			entries[i] = e
		}
	}
	return entries, errs, nil
}

// settle sends, for every entry, the frames frames(e) returns, as one
// operation of kind per connection, and records the outcome in errs.
func (r *receiver) settle(ctx context.Context, op string, kind opKind, entries []*entry, errs []error, frames func(*entry) []*frame.Frame) error {
	byConn := make(map[*conn][]int, 1)
	for i, e := range entries {
		if e != nil {
			byConn[e.c] = append(byConn[e.c], i)
		}
	}
	for c, idx := range byConn {
		var fs []*frame.Frame
		for _, i := range idx {
			fs = append(fs, frames(entries[i])...)
		}
		o := newOp(kind, fs...)
		err := c.do(ctx, o)
		if err == nil {
			err = o.err
		}
		if err == nil {
			continue
		}
		switch {
		case errors.Is(err, errLost):
			err = ek.Reason(op, postroom.ErrReceiptExpired, "the connection was lost before the broker confirmed; the broker delivers the message again unless it took the "+op)
		case ctx.Err() != nil:
			return ek.Context(op, ctx.Err(), nil)
		}
		for _, i := range idx {
			errs[i] = err
		}
	}
	return postroom.NewBatchError("stomp", errs)
}

func (r *receiver) ack(ctx context.Context, ds []*queue.Delivery) error {
	entries, errs, err := r.settling("ack", ds)
	if err != nil {
		return err
	}
	kind := opWrite
	if r.b.cfg.AckReceipts {
		kind = opTx
	}
	return r.settle(ctx, "ack", kind, entries, errs, func(e *entry) []*frame.Frame {
		return []*frame.Frame{e.c.ackFrame(frame.ACK, e.f, r.id)}
	})
}

// nack gives messages back. A queue receiver sends each one again to the
// queue (with its receive count, and AMQ_SCHEDULED_DELAY for a delay) and
// acks the original in the same transaction; a topic subscription hands it
// out again from its own buffer after delay.
func (r *receiver) nack(ctx context.Context, delay time.Duration, ds []*queue.Delivery) error {
	const op = "nack"
	switch {
	case delay < 0:
		return ek.Errorf(postroom.ErrInvalid, op, "negative delay %v", delay)
	case delay > 0 && !r.local && !r.b.cfg.ScheduledDelivery:
		return ek.Unsupported(op, "a delayed nack needs ActiveMQ's scheduler (Options.ScheduledDelivery)")
	}
	entries, errs, err := r.settling(op, ds)
	if err != nil {
		return err
	}
	if r.local {
		r.mu.Lock()
		for _, e := range entries {
			if e == nil {
				continue
			}
			e.local++
			if delay == 0 {
				r.buf = append(r.buf, e)
				continue
			}
			r.timers[e] = time.AfterFunc(delay, func() { r.redeliver(e) })
		}
		r.mu.Unlock()
		r.signal()
		return postroom.NewBatchError("stomp", errs)
	}
	return r.settle(ctx, op, opTx, entries, errs, func(e *entry) []*frame.Frame {
		return []*frame.Frame{
			resendFrame(e.f, r.dest, e.count, e.first, delay),
			e.c.ackFrame(frame.ACK, e.f, r.id),
		}
	})
}

// redeliver puts a locally nacked entry back after its delay.
func (r *receiver) redeliver(e *entry) {
	r.mu.Lock()
	if _, ok := r.timers[e]; !ok || r.closed {
		r.mu.Unlock()
		return
	}
	delete(r.timers, e)
	r.buf = append(r.buf, e)
	r.mu.Unlock()
	r.signal()
}

// deadLetter sends a STOMP NACK for each delivery: on ActiveMQ a poison
// ack, which moves the message to the dead-letter queue (ActiveMQ.DLQ by
// default) at once.
func (r *receiver) deadLetter(ctx context.Context, ds []*queue.Delivery) error {
	entries, errs, err := r.settling("dead-letter", ds)
	if err != nil {
		return err
	}
	return r.settle(ctx, "dead-letter", opEach, entries, errs, func(e *entry) []*frame.Frame {
		return []*frame.Frame{e.c.ackFrame(frame.NACK, e.f, r.id)}
	})
}

// close stops the receiver: buffered and in-flight messages are dropped
// (the broker delivers them again once the subscription ends) and waiting
// Receive calls return.
func (r *receiver) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	for e, t := range r.timers {
		t.Stop()
		delete(r.timers, e)
	}
	r.buf = nil
	clear(r.inflight)
	r.mu.Unlock()
	r.signal()
}

// purge drops the buffered and locally nacked messages c delivered: c was
// lost, and the broker delivers them again. Their deliveries stay known,
// so that settling one reports postroom.ErrReceiptExpired.
func (r *receiver) purge(c *conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = deleteFunc(r.buf, func(e *entry) bool { return e.c == c })
	for e, t := range r.timers {
		if e.c == c {
			t.Stop()
			delete(r.timers, e)
		}
	}
}

func deleteFunc(s []*entry, del func(*entry) bool) []*entry {
	out := s[:0]
	for _, e := range s {
		if !del(e) {
			out = append(out, e)
		}
	}
	clear(s[len(out):])
	return out
}
