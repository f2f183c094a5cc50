package mqtt

import (
	"context"
	"net/url"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// URL schemes this package registers with pubsub.Register and
// broker.Register. paho's own names (tcp://, ssl://) are accepted by
// [Dial] too, but not registered: they name no protocol.
const (
	SchemeMQTT    = "mqtt"
	SchemeMQTTS   = "mqtts"
	SchemeMQTTSSL = "mqtt+ssl" // as the Amazon MQ console shows MQTT endpoints
)

func init() { driverkit.Register(opener{}, SchemeMQTT, SchemeMQTTS, SchemeMQTTSSL) }

// opener opens brokers and topics by URL.
type opener struct{}

// OpenBrokerURL dials the broker of u.
func (opener) OpenBrokerURL(ctx context.Context, u *url.URL) (broker.Broker, error) {
	return driverkit.Upcast[broker.Broker](Dial(ctx, u.String(), Options{}))
}

// OpenTopicURL dials a connection of its own for the topic named by u's path
// (escape # as %23); it is closed when the topic and its subscriptions
// are.
func (opener) OpenTopicURL(ctx context.Context, u *url.URL) (pubsub.Topic, error) {
	return driverkit.OpenOwned[pubsub.Topic](dialer(ctx, u), func(b *Broker) (*Topic, error) {
		return b.OpenTopic(ctx, b.cfg.name, TopicOptions{})
	}, func(b *Broker, t *Topic) { b.kids.Own(&t.h) })
}

// TopicOf returns the topic a delivery of this driver was published to,
// which tells the topics of a wildcard subscription apart.
func TopicOf(d *queue.Delivery) (string, bool) {
	var m paho.Message
	if d == nil || !d.As(&m) {
		return "", false
	}
	return m.Topic(), true
}

// dialer dials the broker of u with the zero Options, for the URL openers.
func dialer(ctx context.Context, u *url.URL) func() (*Broker, error) {
	return func() (*Broker, error) { return Dial(ctx, u.String(), Options{}) }
}
