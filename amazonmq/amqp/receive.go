package amqp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/rawvalue"
	"github.com/postroom/postroom/queue"
)

// A receiver consumes one AMQP queue for a Queue or a Subscription. Its
// consumer starts on the first Receive, on a channel of its own with the
// broker's prefetch; deliveries wait in amqp091's buffer until Receive
// takes them. When the channel breaks, the next Receive consumes again on
// the current connection, under a new epoch: receipts name the epoch of
// their channel, since delivery tags are only valid on it.
type receiver struct {
	b         *Broker
	queue     string
	durable   bool // for the retry queues of Nack
	exclusive bool
	closing   chan struct{} // closed by close

	setupMu sync.Mutex // serialises starting the consumer

	mu         sync.Mutex // guards everything below
	closed     bool
	ch         *amqp091.Channel
	deliveries <-chan amqp091.Delivery
	epoch      uint64
	unacked    map[uint64]struct{} // delivery tags received on ch and not settled
}

func newReceiver(b *Broker, name string, durable, exclusive bool) *receiver {
	return &receiver{b: b, queue: name, durable: durable, exclusive: exclusive, closing: make(chan struct{})}
}

// consume returns the deliveries of the current consumer, starting one
// when there is none.
func (r *receiver) consume(ctx context.Context) (<-chan amqp091.Delivery, uint64, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, 0, ek.Closed("receive")
	}
	if r.ch != nil && !r.ch.IsClosed() {
		defer r.mu.Unlock()
		return r.deliveries, r.epoch, nil
	}
	r.mu.Unlock()

	r.setupMu.Lock()
	defer r.setupMu.Unlock()
	r.mu.Lock()
	if r.ch != nil && !r.ch.IsClosed() { // another Receive started one
		defer r.mu.Unlock()
		return r.deliveries, r.epoch, nil
	}
	r.mu.Unlock()
	for {
		s, err := r.b.session(ctx, "receive", r.closing)
		if err != nil {
			return nil, 0, err
		}
		ch, deliveries, err := r.startConsumer(s)
		if err != nil {
			if s.dead() {
				continue
			}
			return nil, 0, wrapErr("receive", err)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.closed {
			_ = ch.Close()
			return nil, 0, ek.Closed("receive")
		}
		r.ch, r.deliveries = ch, deliveries
		r.epoch = r.b.epoch.Add(1)
		r.unacked = make(map[uint64]struct{}, r.b.cfg.Prefetch)
		return deliveries, r.epoch, nil
	}
}

func (r *receiver) startConsumer(s *session) (*amqp091.Channel, <-chan amqp091.Delivery, error) {
	ch, err := s.sub.Channel()
	if err != nil {
		return nil, nil, err
	}
	if err := ch.Qos(r.b.cfg.Prefetch, 0, false); err != nil {
		_ = ch.Close()
		return nil, nil, err
	}
	deliveries, err := ch.Consume(r.queue, "", false, false, false, false, nil)
	if err != nil {
		_ = ch.Close()
		return nil, nil, err
	}
	return ch, deliveries, nil
}

// reset drops the consumer of epoch, closing its channel if it is still
// open, so that the next Receive starts a new one.
func (r *receiver) reset(epoch uint64) {
	r.mu.Lock()
	if r.epoch != epoch || r.ch == nil {
		r.mu.Unlock()
		return
	}
	ch := r.ch
	r.ch, r.deliveries, r.unacked = nil, nil, nil
	r.mu.Unlock()
	_ = ch.Close()
}

// receive long-polls the consumer's deliveries.
func (r *receiver) receive(ctx context.Context, opts queue.ReceiveOptions) ([]*queue.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := max(opts.MaxMessages, 1)
	// Fast path: a delivery is waiting already.
	r.mu.Lock()
	deliveries, epoch, ready := r.deliveries, r.epoch, r.ch != nil && !r.closed
	r.mu.Unlock()
	if ready {
		select {
		case first, ok := <-deliveries:
			if ok {
				return r.take2(first, deliveries, epoch, n), nil
			}
			r.reset(epoch)
		default:
		}
	}
	wait := opts.WaitTime
	switch {
	case opts.NoWait:
		wait = 0
	case wait == 0:
		wait = r.b.cfg.WaitTime
	case wait < 0:
		return nil, ek.Errorf(postroom.ErrInvalid, "receive", "WaitTime %v is negative", wait)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		deliveries, epoch, err := r.consume(wctx)
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return nil, ctx.Err()
			case errors.Is(err, postroom.ErrClosed):
				return nil, err
			case wctx.Err() != nil:
				return nil, nil // the wait ended while reconnecting
			}
			return nil, err
		}
		var first amqp091.Delivery
		var ok bool
		if wait == 0 {
			select {
			case first, ok = <-deliveries:
			default:
				return nil, nil
			}
		} else {
			select {
			case first, ok = <-deliveries:
			case <-wctx.Done():
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, nil
			case <-r.closing:
				return nil, ek.Closed("receive")
			}
		}
		if !ok {
			// The channel broke, or the broker cancelled the consumer (the
			// queue was deleted): consume again.
			r.reset(epoch)
			continue
		}
		return r.take2(first, deliveries, epoch, n), nil
	}
}

// take2 returns first with the deliveries already waiting, up to n in
// all, converted and recorded as unacked.
func (r *receiver) take2(first amqp091.Delivery, deliveries <-chan amqp091.Delivery, epoch uint64, n int) []*queue.Delivery {
	var scratch [8]amqp091.Delivery
	got := append(scratch[:0], first)
drain:
	for len(got) < n {
		select {
		case d, ok := <-deliveries:
			if !ok {
				break drain
			}
			got = append(got, d)
		default:
			break drain
		}
	}
	// One allocation of the exact size: Delivery.Raw points into it.
	batch := make([]amqp091.Delivery, len(got))
	copy(batch, got)
	now := time.Now()
	ds := make([]queue.Delivery, len(batch))
	out := make([]*queue.Delivery, len(batch))
	r.mu.Lock()
	current := r.epoch == epoch && r.unacked != nil
	for i := range batch {
		if current {
			r.unacked[batch[i].DeliveryTag] = struct{}{}
		}
		toDelivery(&ds[i], &batch[i], epoch, now)
		out[i] = &ds[i]
	}
	r.mu.Unlock()
	return out
}

// toDelivery maps an amqp091 delivery to a queue delivery.
func toDelivery(qd *queue.Delivery, d *amqp091.Delivery, epoch uint64, now time.Time) {
	*qd = queue.Delivery{
		Message: queue.Message{
			ID:         d.MessageId,
			Body:       d.Body,
			Attributes: decodeHeaders(d.Headers),
		},
		Receipt:      receipt(epoch, d.DeliveryTag),
		ReceiveCount: receiveCount(d),
		SentAt:       d.Timestamp,
		ReceivedAt:   now,
	}
	rawvalue.Set(qd, d)
	if d.Headers != nil {
		if g, ok := d.Headers[hdrGroupID].(string); ok {
			qd.GroupID = g
		}
		if ms, ok := intValue(d.Headers[hdrFirstReceived]); ok {
			qd.FirstReceivedAt = time.UnixMilli(ms)
		}
	}
	if qd.FirstReceivedAt.IsZero() && qd.ReceiveCount == 1 {
		qd.FirstReceivedAt = now
	}
}

// receiveCount is how often the message was received, this time
// included: the receives before its delayed retries (our header), plus the
// broker's redeliveries: exact on quorum queues (x-delivery-count), at
// least one when a classic queue flags a redelivery.
func receiveCount(d *amqp091.Delivery) int {
	n := 1
	if before, ok := intValue(d.Headers[hdrReceiveCount]); ok && before > 0 {
		n += int(before)
	}
	if dc, ok := intValue(d.Headers[hdrDeliveryCount]); ok {
		n += int(dc)
	} else if d.Redelivered {
		n++
	}
	return n
}

// receipt is "<epoch>.<delivery tag>".
func receipt(epoch, tag uint64) string {
	var b [41]byte
	s := strconv.AppendUint(b[:0], epoch, 10)
	s = append(s, '.')
	s = strconv.AppendUint(s, tag, 10)
	return string(s)
}

func parseReceipt(s string) (epoch, tag uint64, ok bool) {
	e, t, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	epoch, err1 := strconv.ParseUint(e, 10, 64)
	tag, err2 := strconv.ParseUint(t, 10, 64)
	return epoch, tag, err1 == nil && err2 == nil
}

// take checks a delivery's receipt and removes it from the unacked set, so
// that it is settled once. It returns the channel to settle it on. The
// caller holds r.mu.
func (r *receiver) take(op string, d *queue.Delivery) (*amqp091.Channel, uint64, error) {
	if d == nil {
		return nil, 0, ek.Errorf(postroom.ErrInvalid, op, "nil delivery")
	}
	epoch, tag, ok := parseReceipt(d.Receipt)
	if !ok {
		return nil, 0, fmt.Errorf("amqp: %s: %w: %q", op, postroom.ErrReceiptInvalid, d.Receipt)
	}
	if epoch != r.epoch || r.ch == nil || r.ch.IsClosed() {
		return nil, 0, fmt.Errorf("amqp: %s: %w: the channel of receipt %s was closed; the broker redelivers the message", op, postroom.ErrReceiptExpired, d.Receipt)
	}
	if _, ok := r.unacked[tag]; !ok {
		return nil, 0, fmt.Errorf("amqp: %s: %w: receipt %s was settled already", op, postroom.ErrReceiptInvalid, d.Receipt)
	}
	delete(r.unacked, tag)
	return r.ch, tag, nil
}

// settle acks or nacks (requeue) each delivery by its delivery tag.
func (r *receiver) settle(ctx context.Context, op string, ds []*queue.Delivery, ack bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ek.Closed(op)
	}
	var errs []error // allocated on the first error
	for i, d := range ds {
		ch, tag, err := r.take(op, d)
		if err == nil {
			if ack {
				err = ch.Ack(tag, false)
			} else {
				err = ch.Nack(tag, false, true)
			}
			if err != nil {
				err = fmt.Errorf("amqp: %s: %w: %v", op, postroom.ErrReceiptExpired, err)
			}
		}
		if err != nil {
			if errs == nil {
				errs = make([]error, len(ds))
			}
			errs[i] = err
		}
	}
	return batchResult(errs)
}

func (r *receiver) ack(ctx context.Context, ds []*queue.Delivery) error {
	return r.settle(ctx, "ack", ds, true)
}

// nack requeues at once, or for a positive delay publishes a copy to the
// retry queue of the delay's bucket with the receive count so far, and
// acks the original once the broker confirmed the copy.
func (r *receiver) nack(ctx context.Context, delay time.Duration, ds []*queue.Delivery) error {
	const op = "nack"
	if delay <= 0 {
		return r.settle(ctx, op, ds, false)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rq, err := r.b.retryQueue(op, r.queue, r.durable, r.exclusive, delay)
	if err != nil {
		return err
	}

	errs := make([]error, len(ds))
	type taken struct {
		i   int
		ch  *amqp091.Channel
		tag uint64
	}
	var ts []taken
	var out []outgoing
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ek.Closed(op)
	}
	now := time.Now()
	for i, d := range ds {
		ch, tag, err := r.take(op, d)
		if err != nil {
			errs[i] = err
			continue
		}
		ts = append(ts, taken{i, ch, tag})
		out = append(out, outgoing{key: rq.name, mandatory: true, msg: retryPublishing(d, now), retry: rq})
	}
	r.mu.Unlock()

	perrs := r.b.publish(ctx, op, out, r.closing)
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, t := range ts {
		if perr := perrs[k]; perr != nil {
			// The copy did not make it: give the message back now rather
			// than leave it unacked.
			_ = t.ch.Nack(t.tag, false, true)
			errs[t.i] = fmt.Errorf("amqp: nack: the message was requeued without delay: %w", perr)
			continue
		}
		if err := t.ch.Ack(t.tag, false); err != nil {
			errs[t.i] = fmt.Errorf("amqp: nack: %w: the delayed copy was sent, but the original could not be acked and will be redelivered too: %v", postroom.ErrReceiptExpired, err)
		}
	}
	return batchResult(errs)
}

// retryPublishing is the copy of d that Nack sends through a retry queue.
func retryPublishing(d *queue.Delivery, now time.Time) amqp091.Publishing {
	var p amqp091.Publishing
	if raw, ok := rawvalue.Get(d).(*amqp091.Delivery); ok && raw != nil {
		p = amqp091.Publishing{
			Headers:         make(amqp091.Table, len(raw.Headers)+2),
			ContentType:     raw.ContentType,
			ContentEncoding: raw.ContentEncoding,
			DeliveryMode:    raw.DeliveryMode,
			Priority:        raw.Priority,
			CorrelationId:   raw.CorrelationId,
			ReplyTo:         raw.ReplyTo,
			MessageId:       raw.MessageId,
			Timestamp:       raw.Timestamp,
			Type:            raw.Type,
			UserId:          raw.UserId,
			AppId:           raw.AppId,
			Body:            raw.Body,
		}
		for k, v := range raw.Headers {
			if k == "x-death" || k == hdrDeliveryCount || strings.HasPrefix(k, "x-first-death-") || strings.HasPrefix(k, "x-last-death-") {
				continue
			}
			p.Headers[k] = v
		}
	} else {
		h, err := encodeAttributes("nack", d.Attributes, 3)
		if err != nil || h == nil {
			h = amqp091.Table{}
		}
		if d.GroupID != "" {
			h[hdrGroupID] = d.GroupID
		}
		p = amqp091.Publishing{Headers: h, MessageId: d.ID, Timestamp: d.SentAt, DeliveryMode: amqp091.Persistent, Body: d.Body}
	}
	p.Headers[hdrReceiveCount] = int64(d.ReceiveCount)
	first := d.FirstReceivedAt
	if first.IsZero() {
		first = now
	}
	p.Headers[hdrFirstReceived] = first.UnixMilli()
	return p
}

// close stops the consumer; the broker requeues what was not acked.
func (r *receiver) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.closing)
	ch := r.ch
	r.ch = nil
	r.mu.Unlock()
	if ch != nil {
		_ = ch.Close()
	}
}
