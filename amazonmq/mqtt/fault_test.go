package mqtt

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/internal/drivertest"
	"github.com/postroom/postroom/internal/testenv"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// TestFaultBrokerRestart restarts ActiveMQ while producers publish 10,000
// QoS 1 messages and a durable subscription acks them: afterwards every
// message has been received at least once.
func TestFaultBrokerRestart(t *testing.T) {
	url := testenv.Get(t, "POSTROOM_MQTT_URL", "ActiveMQ over MQTT (tcp://127.0.0.1:1884)")
	script := testenv.Get(t, "POSTROOM_BROKER_SCRIPT", "scripts/brokers.sh, which the fault test runs to restart ActiveMQ")
	if testing.Short() {
		t.Skip("the fault test restarts ActiveMQ; not in -short mode")
	}
	ctx := ctxT(t, time.Minute)
	prod := dial(t, url, Options{})
	cons := dial(t, url, Options{})
	name := "postroom/test/" + uniqueName("fault")
	pt, err := prod.OpenTopic(ctx, name, TopicOptions{})
	require.NoError(t, err)
	ct, err := cons.OpenTopic(ctx, name, TopicOptions{})
	require.NoError(t, err)
	sub, err := ct.Subscribe(ctx, pubsub.SubscribeOptions{Name: uniqueName("fault")})
	require.NoError(t, err)
	defer func() { assert.NoError(t, sub.(pubsub.Unsubscriber).Unsubscribe(context.Background())) }()

	drivertest.Restart{
		Script: script, Service: "activemq", Consumer: cons, Receiver: sub, MaxBatch: MaxBatch,
		Send: func(ctx context.Context, ms []*queue.Message) error {
			pms := make([]*pubsub.Message, len(ms))
			for i, m := range ms {
				pms[i] = &pubsub.Message{Body: m.Body, Attributes: m.Attributes}
			}
			return pt.Publish(ctx, pms...)
		},
	}.Run(t)
}
