package mqtt

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/internal/testsupport/drivertest"
	"github.com/postroom/postroom/internal/testsupport/testenv"
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

// TestFaultBrokerKill kills each broker with SIGKILL while producers
// publish QoS 1 messages and a backlog waits in a durable subscription:
// no message whose Publish returned nil is lost.
func TestFaultBrokerKill(t *testing.T) {
	script := testenv.Get(t, "POSTROOM_BROKER_SCRIPT", "scripts/brokers.sh, which the fault test runs to kill and start the brokers")
	if testing.Short() {
		t.Skip("the fault test kills the brokers; not in -short mode")
	}
	eachBroker(t, func(t *testing.T, url string) {
		kill := drivertest.Kill{Service: "activemq"}
		if strings.HasSuffix(t.Name(), "/Mosquitto") {
			// Mosquitto sends the PUBACKs of a round of its event loop
			// before it saves its store at the end of the round, so a
			// kill can lose the publishes in flight: at most the
			// test's 80.
			kill = drivertest.Kill{Service: "mosquitto", MayLose: 80,
				Why: "Mosquitto acknowledges a publish before it saves its store"}
		}
		ctx := ctxT(t, time.Minute)
		prod := dial(t, url, Options{})
		cons := dial(t, url, Options{})
		name := "postroom/test/" + uniqueName("kill")
		pt, err := prod.OpenTopic(ctx, name, TopicOptions{})
		require.NoError(t, err)
		ct, err := cons.OpenTopic(ctx, name, TopicOptions{})
		require.NoError(t, err)
		sub, err := ct.Subscribe(ctx, pubsub.SubscribeOptions{Name: uniqueName("kill")})
		require.NoError(t, err)
		defer func() { assert.NoError(t, sub.(pubsub.Unsubscriber).Unsubscribe(context.Background())) }()

		kill.Script, kill.Receiver, kill.MaxBatch = script, sub, MaxBatch
		kill.Send = func(ctx context.Context, ms []*queue.Message) error {
			pms := make([]*pubsub.Message, len(ms))
			for i, m := range ms {
				pms[i] = &pubsub.Message{Body: m.Body, Attributes: m.Attributes}
			}
			return pt.Publish(ctx, pms...)
		}
		kill.Run(t)
	})
}
