package stomp

import (
	"github.com/postroom/postroom"

	"context"
	"strings"
	"time"

	"github.com/go-stomp/stomp/v3/frame"

	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

var (
	_ pubsub.Topic        = (*Topic)(nil)
	_ pubsub.Subscription = (*Subscription)(nil)
	_ pubsub.Unsubscriber = (*Subscription)(nil)
)

// Topic is an ActiveMQ topic, /topic/NAME, vended by a [Broker].
type Topic struct {
	b    *Broker
	name string
	dest string
	h    driverkit.Handle // closed; holds the broker when opened by URL
}

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// Publish publishes up to MaxBatch persistent messages, confirmed like
// [Queue.Send]. Subject travels in the x-postroom-subject header, and
// subscriptions deliver it as the attribute "Subject". A topic whose name
// holds a wildcard cannot be published to.
func (t *Topic) Publish(ctx context.Context, msgs ...*pubsub.Message) error {
	const op = "publish"
	if t.h.Closed() {
		return ek.Closed(op)
	}
	if strings.ContainsAny(t.name, "*>") {
		return ek.Errorf(postroom.ErrInvalid, op, "topic %q holds a wildcard: subscribe to it, publish to a topic without", t.name)
	}
	ms := make([]outMessage, len(msgs))
	now := time.Now()
	for i, m := range msgs {
		if m == nil {
			continue
		}
		ms[i] = outMessage{id: t.b.newID(), body: m.Body, attrs: m.Attributes, groupID: m.GroupID, subject: m.Subject, sentAt: now}
		m.ID = ms[i].id
		if m.DeduplicationID != "" {
			ms[i].err = ek.Unsupported(op, "STOMP has no deduplication ids")
		}
	}
	return t.b.sendMessages(ctx, op, t.dest, ms)
}

// Subscribe subscribes to the topic, with client-individual acks. With a
// Name the subscription is an ActiveMQ durable subscriber (the
// activemq.subscriptionName header, keyed by Options.ClientID, which must
// then be set): the broker keeps its messages while it is closed, and
// Subscribe with the same Name attaches to it again. A topic name may hold
// ActiveMQ wildcards: "*" for one dot-separated level, ">" for the rest. A
// FilterPolicy is not supported (ActiveMQ selectors are not SNS filter
// policies); delivery is always raw. The subscription's dynamic type is
// *[Subscription].
func (t *Topic) Subscribe(ctx context.Context, opts pubsub.SubscribeOptions) (pubsub.Subscription, error) {
	const op = "subscribe"
	switch {
	case t.h.Closed():
		return nil, ek.Closed(op)
	case opts.FilterPolicy != "":
		return nil, ek.Unsupported(op, "filter policies")
	case opts.Name != "" && t.b.cfg.ClientID == "":
		return nil, ek.Errorf(postroom.ErrInvalid, op, "a durable subscription (Name %q) needs Options.ClientID", opts.Name)
	}
	s := &Subscription{b: t.b, name: opts.Name}
	s.r = newReceiver(t.b, t.dest, opts.Name, true)
	if err := t.b.adopt(s); err != nil {
		return nil, err
	}
	t.b.track(s.r)
	if err := t.b.subscribe(ctx, s.r); err != nil {
		t.b.untrack(s.r)
		s.r.close()
		t.b.disown(s)
		return nil, err
	}
	t.b.kids.Inherit(&s.h, &t.h)
	return s, nil
}

// Close marks the topic closed; its subscriptions stay usable until closed
// themselves. Close of a topic opened by URL closes its connection once its
// subscriptions are closed too.
func (t *Topic) Close() error {
	return t.b.kids.Close(t, &t.h, t.b.Close)
}

func (t *Topic) shutdown() { t.h.Shutdown() }

// Subscription is a subscription to a [Topic]. It is received from like a
// queue.
type Subscription struct {
	b    *Broker
	name string // durable subscription name, or ""
	r    *receiver
	h    driverkit.Handle // closed; holds the broker when opened by URL
}

// Receive waits up to opts.WaitTime (Options.WaitTime when zero) for a
// message and returns up to opts.MaxMessages (at most MaxBatch) of those
// the broker has pushed.
func (s *Subscription) Receive(ctx context.Context, opts queue.ReceiveOptions) ([]*queue.Delivery, error) {
	if s.h.Closed() {
		return nil, ek.Closed("receive")
	}
	return s.r.receive(ctx, opts, s.ensure)
}

func (s *Subscription) ensure(ctx context.Context) error {
	if s.h.Closed() {
		return ek.Closed("receive")
	}
	return s.b.subscribe(ctx, s.r)
}

// Ack acks deliveries, like [Queue.Ack].
func (s *Subscription) Ack(ctx context.Context, ds ...*queue.Delivery) error {
	if s.h.Closed() {
		return ek.Closed("ack")
	}
	return s.r.ack(ctx, ds)
}

// Nack hands deliveries out again from this subscription after delay,
// with a higher receive count. The broker is not involved: sending again
// to the topic would reach every subscriber, and a STOMP NACK moves the
// message to the dead-letter queue. The message stays unacked meanwhile,
// so it counts against the prefetch, and if the connection is lost the
// broker delivers it again itself.
func (s *Subscription) Nack(ctx context.Context, delay time.Duration, ds ...*queue.Delivery) error {
	if s.h.Closed() {
		return ek.Closed("nack")
	}
	return s.r.nack(ctx, delay, ds)
}

// DeadLetter sends a STOMP NACK for deliveries, like [Queue.DeadLetter].
func (s *Subscription) DeadLetter(ctx context.Context, ds ...*queue.Delivery) error {
	if s.h.Closed() {
		return ek.Closed("dead-letter")
	}
	return s.r.deadLetter(ctx, ds)
}

// Close detaches from the subscription. A durable subscription keeps
// collecting messages; Unsubscribe deletes it.
func (s *Subscription) Close() error {
	if !s.h.Close() {
		return nil
	}
	s.detach()
	return nil
}

func (s *Subscription) detach() {
	s.b.untrack(s.r)
	s.r.close()
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	_ = s.r.unsubscribe(ctx)
	cancel()
	s.b.kids.Done(s, &s.h, s.b.Close)
}

// Unsubscribe closes the subscription and, for a durable one, deletes it
// with its pending messages (an UNSUBSCRIBE with activemq.subscriptionName).
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	const op = "unsubscribe"
	if !s.h.Close() {
		return ek.Closed(op)
	}
	if s.name == "" {
		s.detach()
		return nil
	}
	s.b.untrack(s.r)
	s.r.close()
	err := s.r.unsubscribe(ctx)
	if err == nil {
		var c *conn
		if c, err = s.b.current(ctx, op); err == nil {
			o := newOp(opEach, frame.New(frame.UNSUBSCRIBE, frame.Id, s.r.id, hdrSubName, s.name))
			if err = c.do(ctx, o); err == nil {
				err = o.errs[0]
			}
		}
	}
	s.b.kids.Done(s, &s.h, s.b.Close)
	return err
}

func (s *Subscription) shutdown() {
	s.h.Shutdown()
	s.r.close()
}
