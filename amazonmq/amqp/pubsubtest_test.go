package amqp

import (
	"context"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/pubsub/pubsubtest"
)

func TestTopicConformance(t *testing.T) {
	amqpURL(t)
	pubsubtest.Run(t, pubsubtest.Harness{
		As:  new(*amqp091.Delivery),
		Pkg: "amqp",
		New: func(t *testing.T, cfg pubsubtest.Config) pubsub.Topic {
			b := dial(t, Options{})
			name := uniqueName(t, "t")
			tp, err := b.OpenTopic(t.Context(), name, TopicOptions{})
			require.NoError(t, err)
			// The suite closes tp: delete the exchange through a broker of
			// its own.
			t.Cleanup(func() {
				ctx := context.Background()
				other, err := Dial(ctx, amqpURL(t), Options{})
				if err != nil {
					return
				}
				defer other.Close()
				if t, err := other.OpenTopic(ctx, name, TopicOptions{}); err == nil {
					_ = t.Delete(ctx)
				}
			})
			return tp
		},
		Caps: pubsubtest.Capabilities{Durable: true, Attributes: true},
	})
}
