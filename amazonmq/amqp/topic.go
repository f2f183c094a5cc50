package amqp

import (
	"github.com/postroom/postroom"

	"context"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

var (
	_ pubsub.Topic        = (*Topic)(nil)
	_ pubsub.Subscription = (*Subscription)(nil)
	_ pubsub.Unsubscriber = (*Subscription)(nil)
)

// Topic is a durable fanout exchange: every subscription is a queue bound
// to it. Get one from [Broker.OpenTopic] or [Broker.Topic].
type Topic struct {
	b    *Broker
	name string
	h    driverkit.Handle // closed; holds the broker when opened by URL
}

// OpenTopic declares the durable fanout exchange name unless it exists,
// records it so that it is declared again after a reconnection, and
// returns it. An existing exchange of another kind fails with an error
// matching postroom.ErrExists.
func (b *Broker) OpenTopic(ctx context.Context, name string, opts TopicOptions) (*Topic, error) {
	const op = "open topic"
	if err := checkName(op, name); err != nil {
		return nil, err
	}
	d := &decl{key: "exchange " + name, run: func(ch *amqp091.Channel) error {
		return ch.ExchangeDeclare(name, amqp091.ExchangeFanout, true, false, false, false, nil)
	}}
	if err := b.declare(ctx, op, d, true); err != nil {
		return nil, err
	}
	t := &Topic{b: b, name: name}
	if err := b.adopt(t); err != nil {
		return nil, err
	}
	return t, nil
}

// Name returns the exchange's name.
func (t *Topic) Name() string { return t.name }

// Publish publishes msgs persistent to the exchange with publisher
// confirms, setting each one's ID, and returns once the broker confirmed
// them all. Publishes are mandatory: a message no subscription receives
// fails with ErrUnroutable, unless Options.DropUnroutable is set.
// Subject travels as the String attribute "Subject"; GroupID as a header
// (no ordering follows from it); DeduplicationID is unsupported.
func (t *Topic) Publish(ctx context.Context, msgs ...*pubsub.Message) error {
	const op = "publish"
	if t.h.Closed() {
		return ek.Closed(op)
	}
	return publishAll(ctx, t.b, op, msgs, t.outgoing)
}

func (t *Topic) outgoing(op string, m *pubsub.Message) (outgoing, error) {
	if m == nil {
		return outgoing{}, ek.Errorf(postroom.ErrInvalid, op, "nil message")
	}
	if m.DeduplicationID != "" {
		return outgoing{}, ek.Unsupported(op, "RabbitMQ exchanges do not deduplicate (DeduplicationID)")
	}
	attrs := m.Attributes
	if m.Subject != "" {
		if a, ok := attrs[pubsub.SubjectAttribute]; ok && (a.Type != queue.TypeString || a.Value != m.Subject) {
			return outgoing{}, ek.Errorf(postroom.ErrInvalid, op, "the message has both a Subject and a different %q attribute", pubsub.SubjectAttribute)
		}
		attrs = attrs.Clone()
		if attrs == nil {
			attrs = queue.Attributes{}
		}
		attrs[pubsub.SubjectAttribute] = queue.String(m.Subject)
	}
	pub, err := t.b.publishing(op, m.ID, m.Body, attrs, m.GroupID)
	if err != nil {
		return outgoing{}, err
	}
	m.ID = pub.MessageId
	return outgoing{exchange: t.name, mandatory: !t.b.cfg.DropUnroutable, msg: pub}, nil
}

// Subscribe binds a queue to the exchange and returns it as a
// subscription, whose dynamic type is *[Subscription]. With opts.Name the queue is durable and named opts.Name:
// it keeps collecting messages while detached, and binding it again
// attaches to it. Without a name the queue is exclusive to the broker's
// connection, named "<topic>.sub.<unique id>", and deleted by Close; it is
// declared and bound again after a reconnection, but messages published
// while the connection was down are lost to it. A filter policy fails
// with postroom.ErrUnsupported; delivery is always raw.
func (t *Topic) Subscribe(ctx context.Context, opts pubsub.SubscribeOptions) (pubsub.Subscription, error) {
	const op = "subscribe"
	if t.h.Closed() {
		return nil, ek.Closed(op)
	}
	if opts.FilterPolicy != "" {
		return nil, ek.Unsupported(op, "RabbitMQ fanout exchanges cannot apply an SNS filter policy")
	}
	durable := opts.Name != ""
	name := opts.Name
	if durable {
		if err := checkName(op, name); err != nil {
			return nil, err
		}
	} else {
		name = "postroom.sub." + t.b.newID()
		if len(t.name) <= 200 {
			name = t.name + ".sub." + t.b.newID()
		}
	}
	var args amqp091.Table
	if durable && t.b.cfg.QueueType != "" {
		args = amqp091.Table{"x-queue-type": t.b.cfg.QueueType}
	}
	qd := &decl{key: "queue " + name, run: func(ch *amqp091.Channel) error {
		_, err := ch.QueueDeclare(name, durable, false, !durable, false, args)
		return err
	}}
	if durable {
		qd.durable = name
	}
	bd := &decl{key: "bind " + name + " " + t.name, run: func(ch *amqp091.Channel) error {
		return ch.QueueBind(name, "", t.name, false, nil)
	}}
	if err := t.b.declare(ctx, op, qd, true); err != nil {
		return nil, err
	}
	if err := t.b.declare(ctx, op, bd, true); err != nil {
		t.b.forget(qd.key)
		return nil, err
	}
	s := &Subscription{b: t.b, name: name, durable: durable, keys: []string{bd.key, qd.key}, r: newReceiver(t.b, name, durable, !durable)}
	if err := t.b.adopt(s); err != nil {
		return nil, err
	}
	t.b.kids.Inherit(&s.h, &t.h)
	return s, nil
}

// Delete deletes the exchange (bindings go with it, subscription queues
// stay) and closes t.
func (t *Topic) Delete(ctx context.Context) error {
	if t.h.Closed() {
		return ek.Closed("delete")
	}
	err := t.b.undeclare(ctx, "delete topic", "exchange "+t.name, func(ch *amqp091.Channel) error {
		return ch.ExchangeDelete(t.name, false, false)
	})
	_ = t.Close()
	return err
}

// Close makes Publish and Subscribe fail with postroom.ErrClosed.
// Subscriptions stay usable until closed themselves. A topic opened with
// pubsub.Open releases its connection once it and its subscriptions are
// closed.
func (t *Topic) Close() error {
	return t.b.kids.Close(t, &t.h, t.b.Close)
}

func (t *Topic) shutdown() { t.h.Shutdown() }

// Subscription is a queue bound to a topic's exchange, received from like
// a [Queue].
type Subscription struct {
	b       *Broker
	name    string
	durable bool
	keys    []string // its declarations
	r       *receiver
	h       driverkit.Handle // closed; holds the broker when opened by URL
}

// Name returns the name of the subscription's queue.
func (s *Subscription) Name() string { return s.name }

// Receive works as [Queue.Receive].
func (s *Subscription) Receive(ctx context.Context, opts queue.ReceiveOptions) ([]*queue.Delivery, error) {
	if s.h.Closed() {
		return nil, ek.Closed("receive")
	}
	return s.r.receive(ctx, opts)
}

// Ack works as [Queue.Ack].
func (s *Subscription) Ack(ctx context.Context, ds ...*queue.Delivery) error {
	if s.h.Closed() {
		return ek.Closed("ack")
	}
	return s.r.ack(ctx, ds)
}

// Nack works as [Queue.Nack]; the retry queues of a subscription without a
// name are exclusive to the connection, like the subscription.
func (s *Subscription) Nack(ctx context.Context, delay time.Duration, ds ...*queue.Delivery) error {
	if s.h.Closed() {
		return ek.Closed("nack")
	}
	return s.r.nack(ctx, delay, ds)
}

// Unsubscribe deletes the subscription's queue, its retry queues and the
// messages in them, and closes s.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	if s.h.Closed() {
		return ek.Closed("unsubscribe")
	}
	for _, k := range s.keys[:len(s.keys)-1] {
		s.b.forget(k)
	}
	err := s.b.undeclare(ctx, "unsubscribe", s.keys[len(s.keys)-1], func(ch *amqp091.Channel) error {
		if _, err := ch.QueueDelete(s.name, false, false, false); err != nil {
			return err
		}
		return s.b.deleteRetryQueues(ch, s.name)
	})
	_ = s.Close()
	return err
}

// Close detaches: the consumer stops and the broker requeues what was not
// acked. A durable subscription keeps collecting messages (Unsubscribe
// deletes it); one without a name is deleted.
func (s *Subscription) Close() error {
	if !s.h.Close() {
		return nil
	}
	s.r.close()
	for _, k := range s.keys {
		s.b.forget(k)
	}
	if !s.durable {
		s.deleteNow()
	}
	s.b.kids.Done(s, &s.h, s.b.Close)
	return nil
}

// deleteNow deletes a subscription's exclusive queue if the broker is
// connected; otherwise the queue went with the connection already.
func (s *Subscription) deleteNow() {
	s.b.mu.Lock()
	sess := s.b.sess
	s.b.mu.Unlock()
	if sess == nil || sess.dead() {
		return
	}
	_ = sess.control(func(ch *amqp091.Channel) error {
		_, err := ch.QueueDelete(s.name, false, false, false)
		return err
	})
}

func (s *Subscription) shutdown() {
	s.h.Shutdown()
	s.r.close()
}
