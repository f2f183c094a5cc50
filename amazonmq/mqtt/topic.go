package mqtt

import (
	"context"
	"strconv"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/internal/longpoll"
	"github.com/postroom/postroom/internal/rawvalue"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

var (
	_ pubsub.Topic        = (*Topic)(nil)
	_ pubsub.Subscription = (*Subscription)(nil)
	_ pubsub.Unsubscriber = (*Subscription)(nil)
)

// Topic is an MQTT topic, or a topic filter, vended by a [Broker].
type Topic struct {
	b    *Broker
	name string
	h    driverkit.Handle // closed; holds the broker when opened by URL
}

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// Publish publishes up to MaxBatch messages with QoS 1, each in an
// envelope with its id, attributes, subject and group id (see the package
// documentation), and waits for every PUBACK. On a lost connection it
// publishes the unconfirmed messages again on the next connection until
// ctx ends, so a message may arrive twice. A topic whose name holds a
// wildcard cannot be published to; DeduplicationID is not supported.
func (t *Topic) Publish(ctx context.Context, msgs ...*pubsub.Message) error {
	const op = "publish"
	switch {
	case t.h.Closed():
		return ek.Closed(op)
	case len(msgs) == 0:
		return ek.Reason(op, postroom.ErrTooManyEntries, "no messages")
	case len(msgs) > MaxBatch:
		return ek.Reason(op, postroom.ErrTooManyEntries, "more than "+strconv.Itoa(MaxBatch)+" messages")
	}
	if err := checkTopic(op, t.name); err != nil {
		return err
	}
	cfg := t.b.cfg
	errs := make([]error, len(msgs))
	payloads := make([][]byte, 0, len(msgs))
	idx := make([]int, 0, len(msgs))
	now := time.Now()
	for i, m := range msgs {
		switch {
		case m == nil:
			errs[i] = ek.Errorf(postroom.ErrInvalid, op, "nil message")
		case m.DeduplicationID != "":
			errs[i] = ek.Unsupported(op, "MQTT has no deduplication ids")
		case cfg.RawPayload && (len(m.Attributes) > 0 || m.Subject != "" || m.GroupID != ""):
			errs[i] = ek.Unsupported(op, "attributes, subject and group id need the envelope (Options.RawPayload is set)")
		default:
			errs[i] = checkAttributes(op, m.Attributes)
		}
		if errs[i] != nil {
			continue
		}
		m.ID = t.b.newID()
		var p []byte
		if cfg.RawPayload {
			p = append([]byte(nil), m.Body...)
		} else {
			e := envelope{id: m.ID, sentAt: now, subject: m.Subject, groupID: m.GroupID, attrs: m.Attributes}
			p = appendEnvelope(make([]byte, 0, envelopeSize(&e)+len(m.Body)), &e, m.Body)
		}
		payloads = append(payloads, p)
		idx = append(idx, i)
	}
	if len(payloads) > 0 {
		if err := t.b.main.publish(ctx, op, t.name, payloads); err != nil {
			if len(payloads) == len(msgs) {
				return err
			}
			for _, i := range idx {
				errs[i] = err
			}
		}
	}
	if len(msgs) == 1 {
		return errs[0]
	}
	return postroom.NewBatchError("mqtt", errs)
}

// Subscribe subscribes to the topic (a filter, with + and #) with QoS 1,
// on a connection of the subscription's own (an MQTT session holds one
// subscription, so that overlapping filters do not deliver twice and the
// in-flight window of one subscription does not hold up another). Without
// a Name the session is clean, under the broker's client id with a "-sN"
// suffix, and the subscription is made again after every reconnection;
// messages published while the connection is down are not kept for it.
// With a Name, the session is persistent (CleanSession false) under the
// client id Name: the broker keeps its messages while it is closed or
// disconnected, and Subscribe with the same Name takes them. A client id
// must be unique among the broker's connections. A FilterPolicy is not
// supported; delivery is always raw. The subscription's dynamic type is
// *[Subscription].
func (t *Topic) Subscribe(ctx context.Context, opts pubsub.SubscribeOptions) (pubsub.Subscription, error) {
	const op = "subscribe"
	switch {
	case t.h.Closed():
		return nil, ek.Closed(op)
	case opts.FilterPolicy != "":
		return nil, ek.Unsupported(op, "filter policies")
	}
	sub := &Subscription{
		b: t.b, filter: t.name, name: opts.Name,
		avail:    make(chan struct{}, 1),
		inflight: make(map[string]*entry),
	}
	if err := t.b.adopt(sub); err != nil {
		return nil, err
	}
	if opts.Name == "" {
		sub.s = newSession(t.b, t.b.subClientID(), true, sub)
	} else {
		sub.s = newSession(t.b, opts.Name, false, sub)
	}
	if err := sub.s.start(ctx); err != nil {
		t.b.disown(sub)
		return nil, err
	}
	t.b.kids.Inherit(&sub.h, &t.h)
	return sub, nil
}

// Close marks the topic closed; its subscriptions stay usable until closed
// themselves. Close of a topic opened by URL closes its connection once its
// subscriptions are closed too.
func (t *Topic) Close() error {
	return t.b.kids.Close(t, &t.h, t.b.Close)
}

func (t *Topic) shutdown() { t.h.Shutdown() }

// Subscription is a subscription to a [Topic]. It is received from like a
// queue; there is no Nack.
type Subscription struct {
	b      *Broker
	s      *session // the broker's own, or (durable) the subscription's own
	filter string
	name   string
	h      driverkit.Handle // closed; holds the broker when opened by URL

	avail chan struct{} // cap 1: a message was pushed, or the subscription closed

	mu       sync.Mutex // guards everything below
	buf      []*entry
	inflight map[string]*entry
	seq      uint64
	done     bool // closed: drop what comes
}

// An entry is one received message.
type entry struct {
	l       *link
	m       paho.Message
	receipt string
}

// push is called on paho's router goroutine; it never blocks for long. A
// message that comes after Close is dropped unacked.
func (sub *Subscription) push(l *link, m paho.Message) {
	sub.mu.Lock()
	if sub.done {
		sub.mu.Unlock()
		return
	}
	sub.buf = append(sub.buf, &entry{l: l, m: m})
	sub.mu.Unlock()
	sub.signal()
}

func (sub *Subscription) signal() {
	select {
	case sub.avail <- struct{}{}:
	default:
	}
}

// purge drops the buffered messages of lost link l: a persistent session
// gets them again; a clean session has lost them.
func (sub *Subscription) purge(l *link) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	out := sub.buf[:0]
	for _, e := range sub.buf {
		if e.l != l {
			out = append(out, e)
		}
	}
	clear(sub.buf[len(out):])
	sub.buf = out
}

// Receive waits up to opts.WaitTime (Options.WaitTime when zero) for a
// message and returns up to opts.MaxMessages (at most MaxBatch) of those
// the broker has pushed. opts.VisibilityTimeout is ignored: a message
// stays unacked until it is acked or the connection is lost.
func (sub *Subscription) Receive(ctx context.Context, opts queue.ReceiveOptions) ([]*queue.Delivery, error) {
	const op = "receive"
	if sub.h.Closed() {
		return nil, ek.Closed(op)
	}
	n, wait, err := longpoll.Limits(opts, MaxBatch, sub.b.cfg.WaitTime)
	if err != nil {
		return nil, ek.Errorf(postroom.ErrInvalid, op, "%v", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return longpoll.Wait(ctx, sub.avail, time.Now().Add(wait), func() ([]*queue.Delivery, error) { return sub.take(n) })
}

func (sub *Subscription) take(n int) ([]*queue.Delivery, error) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.done {
		return nil, ek.Closed("receive")
	}
	now := time.Now()
	ds, more := longpoll.Take(&sub.buf, n, func(e *entry) bool { return e.l.alive() },
		func(e *entry) *queue.Delivery { return sub.handOut(e, now) })
	if more {
		sub.signal() // for the next Receive
	}
	return ds, nil
}

// handOut turns e into a delivery. Callers hold sub.mu.
func (sub *Subscription) handOut(e *entry, now time.Time) *queue.Delivery {
	sub.seq++
	e.receipt = strconv.FormatUint(e.l.gen, 36) + "." + strconv.FormatUint(sub.seq, 36)
	sub.inflight[e.receipt] = e
	d := &queue.Delivery{Receipt: e.receipt, ReceiveCount: 1, FirstReceivedAt: now, ReceivedAt: now}
	rawvalue.Set(d, e.m)
	if e.m.Duplicate() {
		d.ReceiveCount = 2
	}
	env, body, ok := openEnvelope(e.m.Payload())
	d.Body = body
	if ok {
		d.ID, d.SentAt, d.GroupID, d.Attributes = env.id, env.sentAt, env.groupID, env.attrs
		if env.subject != "" {
			if _, taken := d.Attributes[pubsub.SubjectAttribute]; !taken {
				if d.Attributes == nil {
					d.Attributes = make(queue.Attributes, 1)
				}
				d.Attributes[pubsub.SubjectAttribute] = queue.String(env.subject)
			}
		}
	}
	return d
}

// Ack sends the PUBACK of each delivery. MQTT confirms no PUBACK, so a
// nil error means the acks were handed to the connection. A delivery of a
// lost connection fails with postroom.ErrReceiptExpired: a persistent session
// gets the message again.
func (sub *Subscription) Ack(ctx context.Context, ds ...*queue.Delivery) error {
	const op = "ack"
	if sub.h.Closed() {
		return ek.Closed(op)
	}
	switch {
	case len(ds) == 0:
		return ek.Reason(op, postroom.ErrTooManyEntries, "no deliveries")
	case len(ds) > MaxBatch:
		return ek.Reason(op, postroom.ErrTooManyEntries, "more than "+strconv.Itoa(MaxBatch)+" deliveries")
	}
	errs := make([]error, len(ds))
	acks := make([]paho.Message, 0, len(ds))
	sub.mu.Lock()
	for i, d := range ds {
		var e *entry
		if d != nil {
			e = sub.inflight[d.Receipt]
		}
		switch {
		case e == nil:
			errs[i] = ek.Reason(op, postroom.ErrReceiptInvalid, "the receipt is not of this subscription, or its message was acked already")
		case !e.l.alive():
			delete(sub.inflight, d.Receipt)
			errs[i] = ek.Reason(op, postroom.ErrReceiptExpired, "the connection that delivered the message was lost")
		default:
			delete(sub.inflight, d.Receipt)
			acks = append(acks, e.m)
		}
	}
	sub.mu.Unlock()
	for _, m := range acks {
		m.Ack()
	}
	return postroom.NewBatchError("mqtt", errs)
}

// Nack returns an error matching postroom.ErrUnsupported: MQTT 3.1.1 has no
// negative acknowledgement. A message that is not acked stays with the
// session and is delivered again when a persistent session (a durable
// subscription) reconnects.
func (sub *Subscription) Nack(ctx context.Context, delay time.Duration, ds ...*queue.Delivery) error {
	if sub.h.Closed() {
		return ek.Closed("nack")
	}
	return ek.Unsupported("nack", "MQTT has no nack; an unacked message comes again when a durable subscription reconnects")
}

// Close detaches from the subscription: its connection is closed. A
// durable subscription's session stays on the broker, collecting
// messages; Unsubscribe deletes it.
func (sub *Subscription) Close() error {
	if !sub.h.Close() {
		return nil
	}
	sub.stop()
	sub.s.close()
	sub.release()
	return nil
}

// Unsubscribe closes the subscription and, for a durable one, deletes it
// with the messages it kept: an MQTT UNSUBSCRIBE, then a connection with
// CleanSession set under its client id, which ends the session.
func (sub *Subscription) Unsubscribe(ctx context.Context) error {
	const op = "unsubscribe"
	if sub.name == "" {
		return sub.Close()
	}
	if !sub.h.Close() {
		return ek.Closed(op)
	}
	sub.stop()
	var err error
	if l, cerr := sub.s.current(ctx, op); cerr == nil {
		tok := l.cl.Unsubscribe(sub.filter)
		select {
		case <-tok.Done():
			err = tok.Error()
		case <-l.lost:
		case <-ctx.Done():
			err = ek.Context(op, ctx.Err(), nil)
		}
	}
	sub.s.close()
	if err == nil {
		wipe := newSession(sub.b, sub.name, true, nil)
		if err = wipe.start(ctx); err == nil {
			wipe.close()
		}
	}
	sub.release()
	return err
}

func (sub *Subscription) stop() {
	sub.mu.Lock()
	sub.done = true
	sub.buf = nil
	clear(sub.inflight)
	sub.mu.Unlock()
	sub.signal()
}

func (sub *Subscription) release() {
	sub.b.kids.Done(sub, &sub.h, sub.b.Close)
}

func (sub *Subscription) shutdown() {
	sub.h.Shutdown()
	sub.stop()
	sub.s.close()
}
