package amqp

import (
	"github.com/postroom/postroom"

	"cmp"
	"context"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/queue"
)

var (
	_ queue.Queue     = (*Queue)(nil)
	_ queue.Describer = (*Queue)(nil)
)

// Queue is a durable RabbitMQ queue. Messages are published persistent
// through the default exchange with the queue's name as routing key,
// mandatory and with publisher confirms. Get one from
// [Broker.OpenQueue] or [Broker.Queue].
type Queue struct {
	b    *Broker
	name string
	r    *receiver
	h    driverkit.Handle // closed; holds the broker when opened by URL
}

// OpenQueue declares the durable queue name (of type opts.Type, or
// Options.QueueType) unless it exists, records it so that it is declared
// again after a reconnection, and returns it. Declaring an existing queue
// with other arguments fails with an error matching postroom.ErrExists.
func (b *Broker) OpenQueue(ctx context.Context, name string, opts QueueOptions) (*Queue, error) {
	const op = "open queue"
	if err := checkName(op, name); err != nil {
		return nil, err
	}
	qtype := cmp.Or(opts.Type, b.cfg.QueueType)
	if err := checkQueueType(op, qtype); err != nil {
		return nil, err
	}
	var args amqp091.Table
	if qtype != "" {
		args = amqp091.Table{"x-queue-type": qtype}
	}
	d := &decl{key: "queue " + name, run: func(ch *amqp091.Channel) error {
		_, err := ch.QueueDeclare(name, true, false, false, false, args)
		return err
	}, durable: name}
	if err := b.declare(ctx, op, d, true); err != nil {
		return nil, err
	}
	q := &Queue{b: b, name: name, r: newReceiver(b, name, true, false)}
	if err := b.adopt(q); err != nil {
		return nil, err
	}
	return q, nil
}

// checkName checks a queue, exchange or subscription name: AMQP allows 1
// to 255 bytes (a short string).
func checkName(op, name string) error {
	switch {
	case name == "":
		return ek.Errorf(postroom.ErrInvalid, op, "empty name")
	case len(name) > 255:
		return ek.Errorf(postroom.ErrInvalid, op, "name %.20q… is over 255 bytes", name)
	}
	return nil
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// Send publishes msgs to the queue and returns once the broker confirmed
// every one of them (the confirms are pipelined: one round trip for the
// batch, not one per message). Each message's ID is set. A message that
// no queue took (the queue was deleted) fails with ErrUnroutable, one the
// broker nacked with ErrNacked, in a *postroom.BatchError when others went
// through. When the connection breaks, unconfirmed messages are published
// again after the reconnection, so a Send either succeeds or fails before
// ctx ends; a message may then be delivered twice. A message with a
// Delay goes through the retry queue of the delay's bucket. Send takes
// any number of messages.
func (q *Queue) Send(ctx context.Context, msgs ...*queue.Message) error {
	const op = "send"
	if q.h.Closed() {
		return ek.Closed(op)
	}
	return publishAll(ctx, q.b, op, msgs, q.outgoing)
}

func (q *Queue) outgoing(op string, m *queue.Message) (outgoing, error) {
	if m == nil {
		return outgoing{}, ek.Errorf(postroom.ErrInvalid, op, "nil message")
	}
	if m.DeduplicationID != "" {
		return outgoing{}, ek.Unsupported(op, "RabbitMQ queues do not deduplicate (DeduplicationID)")
	}
	pub, err := q.b.publishing(op, m.ID, m.Body, m.Attributes, m.GroupID)
	if err != nil {
		return outgoing{}, err
	}
	m.ID = pub.MessageId
	o := outgoing{key: q.name, mandatory: true, msg: pub}
	if m.Delay > 0 {
		rq, err := q.b.retryQueue(op, q.name, true, false, m.Delay)
		if err != nil {
			return outgoing{}, err
		}
		o.key, o.retry = rq.name, rq
	}
	return o, nil
}

// publishing builds a persistent AMQP message. body is not copied: the
// publish writes it out before Send returns.
func (b *Broker) publishing(op, id string, body []byte, attrs queue.Attributes, groupID string) (amqp091.Publishing, error) {
	extra := 0
	if groupID != "" {
		extra = 1
	}
	h, err := encodeAttributes(op, attrs, extra)
	if err != nil {
		return amqp091.Publishing{}, err
	}
	if groupID != "" {
		h[hdrGroupID] = groupID
	}
	if id == "" {
		id = b.newID()
	}
	return amqp091.Publishing{
		Headers:      h,
		DeliveryMode: amqp091.Persistent,
		MessageId:    id,
		Timestamp:    time.Now(),
		Body:         body,
	}, nil
}

// Receive waits up to opts.WaitTime (Options.WaitTime when zero) for a
// delivery and returns it with those already buffered, up to
// opts.MaxMessages. The first Receive starts the queue's consumer; at most
// Options.Prefetch deliveries are unacked at a time.
// opts.VisibilityTimeout is ignored: a delivery stays with this consumer
// until it is acked or nacked or the channel closes.
func (q *Queue) Receive(ctx context.Context, opts queue.ReceiveOptions) ([]*queue.Delivery, error) {
	if q.h.Closed() {
		return nil, ek.Closed("receive")
	}
	return q.r.receive(ctx, opts)
}

// Ack acknowledges deliveries (basic.ack): the broker deletes them. A
// delivery received on a channel that has since closed (a reconnection
// happened) fails with postroom.ErrReceiptExpired: the broker will deliver
// it again.
func (q *Queue) Ack(ctx context.Context, ds ...*queue.Delivery) error {
	if q.h.Closed() {
		return ek.Closed("ack")
	}
	return q.r.ack(ctx, ds)
}

// Nack gives deliveries back. With no delay they are requeued at once
// (basic.nack with requeue). With a delay, a copy goes to the retry queue
// "<queue>.retry.<bucket>" (the delay rounded up to a bucket of
// Options.RetryBuckets), whose TTL dead-letters it back into the queue,
// and the original is acked once the broker confirmed the copy; the copy
// carries the receive count, so ReceiveCount keeps counting.
func (q *Queue) Nack(ctx context.Context, delay time.Duration, ds ...*queue.Delivery) error {
	if q.h.Closed() {
		return ek.Closed("nack")
	}
	return q.r.nack(ctx, delay, ds)
}

// Describe reports the queue's name and the prefetch as its batch limit.
func (q *Queue) Describe() queue.Info {
	return queue.Info{Name: q.name, MaxBatch: q.b.cfg.Prefetch}
}

// Delete deletes the queue, its retry queues and the messages in them,
// and closes q.
func (q *Queue) Delete(ctx context.Context) error {
	if q.h.Closed() {
		return ek.Closed("delete")
	}
	err := q.b.undeclare(ctx, "delete queue", "queue "+q.name, func(ch *amqp091.Channel) error {
		if _, err := ch.QueueDelete(q.name, false, false, false); err != nil {
			return err
		}
		return q.b.deleteRetryQueues(ch, q.name)
	})
	_ = q.Close()
	return err
}

// Close stops the queue's consumer (the broker requeues what was not
// acked) and makes every method return an error matching postroom.ErrClosed.
// The queue stays on the broker. A queue opened with queue.Open closes its
// connection too.
func (q *Queue) Close() error {
	if !q.h.Close() {
		return nil
	}
	q.shutdown()
	q.b.kids.Done(q, &q.h, q.b.Close)
	return nil
}

func (q *Queue) shutdown() {
	q.h.Shutdown()
	q.r.close()
}
