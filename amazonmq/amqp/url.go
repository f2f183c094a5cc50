package amqp

import (
	"github.com/postroom/postroom"

	"context"
	"net/url"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

func init() { driverkit.Register(urlOpener{}, "amqp", "amqps") }

// urlOpener opens brokers, queues and topics from URLs; see the package
// documentation for the form.
type urlOpener struct{}

// OpenBrokerURL dials the URL with the zero Options plus its query
// parameters.
func (urlOpener) OpenBrokerURL(ctx context.Context, u *url.URL) (broker.Broker, error) {
	return driverkit.Upcast[broker.Broker](Dial(ctx, u.String(), Options{}))
}

// OpenQueueURL dials the URL and declares the queue its queue parameter
// names. The queue owns the connection: closing it closes the connection.
func (urlOpener) OpenQueueURL(ctx context.Context, u *url.URL) (queue.Queue, error) {
	name := u.Query().Get("queue")
	if name == "" {
		return nil, ek.Errorf(postroom.ErrInvalid, "open", "the URL %q has no queue parameter (want amqp://host/vhost?queue=name)", u.Redacted())
	}
	return driverkit.OpenOwned[queue.Queue](dialer(ctx, u), func(b *Broker) (*Queue, error) {
		return b.OpenQueue(ctx, name, QueueOptions{})
	}, func(b *Broker, q *Queue) { b.kids.Own(&q.h) })
}

// OpenTopicURL dials the URL and declares the exchange its topic parameter
// names. The connection closes once the topic and every subscription made
// from it are closed.
func (urlOpener) OpenTopicURL(ctx context.Context, u *url.URL) (pubsub.Topic, error) {
	name := u.Query().Get("topic")
	if name == "" {
		return nil, ek.Errorf(postroom.ErrInvalid, "open", "the URL %q has no topic parameter (want amqp://host/vhost?topic=name)", u.Redacted())
	}
	return driverkit.OpenOwned[pubsub.Topic](dialer(ctx, u), func(b *Broker) (*Topic, error) {
		return b.OpenTopic(ctx, name, TopicOptions{})
	}, func(b *Broker, t *Topic) { b.kids.Own(&t.h) })
}

// dialer dials the broker of u with the zero Options, for the URL openers.
func dialer(ctx context.Context, u *url.URL) func() (*Broker, error) {
	return func() (*Broker, error) { return Dial(ctx, u.String(), Options{}) }
}
