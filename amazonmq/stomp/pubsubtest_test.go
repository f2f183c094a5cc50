package stomp

import (
	"testing"

	"github.com/go-stomp/stomp/v3/frame"

	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/pubsub/pubsubtest"
)

func TestTopicConformance(t *testing.T) {
	brokerURL(t)
	pubsubtest.Run(t, pubsubtest.Harness{
		As:  new(*frame.Frame),
		Pkg: "stomp",
		New: func(t *testing.T, cfg pubsubtest.Config) pubsub.Topic {
			b := dial(t, Options{ClientID: uniqueName("pubsubtest")})
			tp, err := b.OpenTopic(t.Context(), uniqueName("topic"), TopicOptions{})
			require.NoError(t, err)
			return tp
		},
		Caps: pubsubtest.Capabilities{Durable: true, Attributes: true},
	})
}
