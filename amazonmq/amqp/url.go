package amqp

import (
	"github.com/postroom/postroom"

	"context"
	"net/url"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

func init() {
	for _, scheme := range []string{"amqp", "amqps"} {
		queue.Register(scheme, urlOpener{})
		pubsub.Register(scheme, urlOpener{})
		broker.Register(scheme, urlOpener{})
	}
}

// urlOpener opens brokers, queues and topics from URLs; see the package
// documentation for the form.
type urlOpener struct{}

// OpenBrokerURL dials the URL with the zero Options plus its query
// parameters.
func (urlOpener) OpenBrokerURL(ctx context.Context, u *url.URL) (broker.Broker, error) {
	b, err := Dial(ctx, u.String(), Options{})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// OpenQueueURL dials the URL and declares the queue its queue parameter
// names. The queue owns the connection: closing it closes the connection.
func (urlOpener) OpenQueueURL(ctx context.Context, u *url.URL) (queue.Queue, error) {
	name := u.Query().Get("queue")
	if name == "" {
		return nil, ek.Errorf(postroom.ErrInvalid, "open", "the URL %q has no queue parameter (want amqp://host/vhost?queue=name)", u.Redacted())
	}
	b, err := Dial(ctx, u.String(), Options{})
	if err != nil {
		return nil, err
	}
	q, err := b.OpenQueue(ctx, name, QueueOptions{})
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	q.owner = true
	b.retain()
	return q, nil
}

// OpenTopicURL dials the URL and declares the exchange its topic parameter
// names. The connection closes once the topic and every subscription made
// from it are closed.
func (urlOpener) OpenTopicURL(ctx context.Context, u *url.URL) (pubsub.Topic, error) {
	name := u.Query().Get("topic")
	if name == "" {
		return nil, ek.Errorf(postroom.ErrInvalid, "open", "the URL %q has no topic parameter (want amqp://host/vhost?topic=name)", u.Redacted())
	}
	b, err := Dial(ctx, u.String(), Options{})
	if err != nil {
		return nil, err
	}
	t, err := b.OpenTopic(ctx, name, TopicOptions{})
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	t.owner = true
	b.retain()
	return t, nil
}
