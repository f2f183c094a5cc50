package stomp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/internal/drivertest"
	"github.com/postroom/postroom/internal/testenv"
	"github.com/postroom/postroom/queue"
)

// TestFaultBrokerRestart restarts ActiveMQ while producers send 10,000
// persistent messages and a consumer acks them: afterwards every message
// has been received at least once.
func TestFaultBrokerRestart(t *testing.T) {
	brokerURL(t)
	script := testenv.Get(t, "POSTROOM_BROKER_SCRIPT", "scripts/brokers.sh, which the fault test runs to restart ActiveMQ")
	if testing.Short() {
		t.Skip("the fault test restarts ActiveMQ; not in -short mode")
	}
	ctx := ctxT(t, time.Minute)
	name := uniqueName("fault")
	prod := dial(t, Options{})
	cons := dial(t, Options{})
	pq, err := prod.OpenQueue(ctx, name)
	require.NoError(t, err)
	cq, err := cons.OpenQueue(ctx, name)
	require.NoError(t, err)

	drivertest.Restart{
		Script: script, Service: "activemq", Consumer: cons, Receiver: cq, MaxBatch: MaxBatch,
		Send: func(ctx context.Context, ms []*queue.Message) error { return pq.Send(ctx, ms...) },
	}.Run(t)
}

// TestFaultBrokerKill kills ActiveMQ with SIGKILL while producers send
// persistent messages and a backlog waits on the broker: no message whose
// Send returned nil is lost.
func TestFaultBrokerKill(t *testing.T) {
	brokerURL(t)
	script := testenv.Get(t, "POSTROOM_BROKER_SCRIPT", "scripts/brokers.sh, which the fault test runs to kill and start ActiveMQ")
	if testing.Short() {
		t.Skip("the fault test kills ActiveMQ; not in -short mode")
	}
	ctx := ctxT(t, time.Minute)
	name := uniqueName("kill")
	prod := dial(t, Options{})
	cons := dial(t, Options{})
	pq, err := prod.OpenQueue(ctx, name)
	require.NoError(t, err)
	cq, err := cons.OpenQueue(ctx, name)
	require.NoError(t, err)

	drivertest.Kill{
		Script: script, Service: "activemq", Receiver: cq, MaxBatch: MaxBatch,
		Send: func(ctx context.Context, ms []*queue.Message) error { return pq.Send(ctx, ms...) },
	}.Run(t)
}
