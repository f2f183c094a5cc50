package stomp

import (
	"context"
	"net/url"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// URL schemes this package registers with queue.Register, pubsub.Register
// and broker.Register.
const (
	SchemeSTOMP    = "stomp"
	SchemeSTOMPSSL = "stomp+ssl"
)

func init() { driverkit.Register(opener{}, SchemeSTOMP, SchemeSTOMPSSL) }

// opener opens brokers, queues and topics by URL.
type opener struct{}

// OpenBrokerURL dials the broker of u.
func (opener) OpenBrokerURL(ctx context.Context, u *url.URL) (broker.Broker, error) {
	return driverkit.Upcast[broker.Broker](Dial(ctx, u.String(), Options{}))
}

// OpenQueueURL dials a connection of its own for the queue named by u's path;
// closing the queue closes it.
func (opener) OpenQueueURL(ctx context.Context, u *url.URL) (queue.Queue, error) {
	return driverkit.OpenOwned[queue.Queue](dialer(ctx, u), func(b *Broker) (*Queue, error) {
		return b.OpenQueue(ctx, b.cfg.name, QueueOptions{})
	}, func(b *Broker, q *Queue) { b.kids.Own(&q.h) })
}

// OpenTopicURL dials a connection of its own for the topic named by u's path;
// it is closed when the topic and its subscriptions are.
func (opener) OpenTopicURL(ctx context.Context, u *url.URL) (pubsub.Topic, error) {
	return driverkit.OpenOwned[pubsub.Topic](dialer(ctx, u), func(b *Broker) (*Topic, error) {
		return b.OpenTopic(ctx, b.cfg.name, TopicOptions{})
	}, func(b *Broker, t *Topic) { b.kids.Own(&t.h) })
}

// dialer dials the broker of u with the zero Options, for the URL openers.
func dialer(ctx context.Context, u *url.URL) func() (*Broker, error) {
	return func() (*Broker, error) { return Dial(ctx, u.String(), Options{}) }
}
