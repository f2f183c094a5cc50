package mqtt

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/pubsub/pubsubtest"
)

var topicSeq atomic.Uint64

func TestTopicConformance(t *testing.T) {
	eachBroker(t, func(t *testing.T, url string) {
		pubsubtest.Run(t, pubsubtest.Harness{
			As:  new(paho.Message),
			Pkg: "mqtt",
			New: func(t *testing.T, cfg pubsubtest.Config) pubsub.Topic {
				b := dial(t, url, Options{})
				name := fmt.Sprintf("postroom/test/pubsubtest/%d-%d", time.Now().UnixNano(), topicSeq.Add(1))
				tp, err := b.OpenTopic(t.Context(), name, TopicOptions{})
				require.NoError(t, err)
				return tp
			},
			Caps: pubsubtest.Capabilities{Durable: true, Attributes: true},
		})
	})
}
