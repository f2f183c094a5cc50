package stomp

import (
	"context"
	"net/url"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// URL schemes this package registers with queue.Register, pubsub.Register
// and broker.Register.
const (
	SchemeSTOMP    = "stomp"
	SchemeSTOMPSSL = "stomp+ssl"
)

func init() {
	for _, s := range []string{SchemeSTOMP, SchemeSTOMPSSL} {
		queue.Register(s, opener{})
		pubsub.Register(s, opener{})
		broker.Register(s, opener{})
	}
}

// opener opens brokers, queues and topics by URL.
type opener struct{}

// OpenBrokerURL dials the broker of u.
func (opener) OpenBrokerURL(ctx context.Context, u *url.URL) (broker.Broker, error) {
	return Dial(ctx, u.String(), Options{})
}

// OpenQueueURL dials a connection of its own for the queue named by u's path;
// closing the queue closes it.
func (opener) OpenQueueURL(ctx context.Context, u *url.URL) (queue.Queue, error) {
	b, err := Dial(ctx, u.String(), Options{})
	if err != nil {
		return nil, err
	}
	q, err := b.OpenQueue(ctx, b.cfg.name, QueueOptions{})
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	q.owned = true
	b.retain()
	return q, nil
}

// OpenTopicURL dials a connection of its own for the topic named by u's path;
// it is closed when the topic and its subscriptions are.
func (opener) OpenTopicURL(ctx context.Context, u *url.URL) (pubsub.Topic, error) {
	b, err := Dial(ctx, u.String(), Options{})
	if err != nil {
		return nil, err
	}
	t, err := b.OpenTopic(ctx, b.cfg.name, TopicOptions{})
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	t.owned = true
	b.retain()
	return t, nil
}
