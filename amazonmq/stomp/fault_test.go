package stomp

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/internal/testsupport/drivertest"
	"github.com/postroom/postroom/internal/testsupport/testenv"
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
	pq, err := prod.OpenQueue(ctx, name, QueueOptions{})
	require.NoError(t, err)
	cq, err := cons.OpenQueue(ctx, name, QueueOptions{})
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
	pq, err := prod.OpenQueue(ctx, name, QueueOptions{})
	require.NoError(t, err)
	cq, err := cons.OpenQueue(ctx, name, QueueOptions{})
	require.NoError(t, err)

	drivertest.Kill{
		Script: script, Service: "activemq", Receiver: cq, MaxBatch: MaxBatch,
		Send: func(ctx context.Context, ms []*queue.Message) error { return pq.Send(ctx, ms...) },
	}.Run(t)
}

// TestFaultKillRedelivered kills ActiveMQ while a delivered message waits
// unacked: after the restart it comes again flagged redelivered, so its
// ReceiveCount is 2 (ActiveMQ stores the flag before each dispatch with
// the destination policy persistJMSRedelivered, which scripts/brokers.sh
// sets).
func TestFaultKillRedelivered(t *testing.T) {
	brokerURL(t)
	script := testenv.Get(t, "POSTROOM_BROKER_SCRIPT", "scripts/brokers.sh, which the fault test runs to kill and start ActiveMQ")
	if testing.Short() {
		t.Skip("the fault test kills ActiveMQ; not in -short mode")
	}
	ctx := ctxT(t, 2*time.Minute)
	b := dial(t, Options{})
	q, err := b.OpenQueue(ctx, uniqueName("killflag"), QueueOptions{})
	require.NoError(t, err)
	require.NoError(t, q.Send(ctx, &queue.Message{ID: "flagged", Body: []byte("delivered before the crash")}))
	first := drivertest.ReceiveN(t, q, 1)[0]
	require.Equal(t, 1, first.ReceiveCount)

	out, err := exec.CommandContext(ctx, script, "kill", "activemq").CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.CommandContext(ctx, script, "start", "activemq").CombinedOutput()
	require.NoError(t, err, "%s", out)

	again := drivertest.ReceiveN(t, q, 1)[0]
	assert.Equal(t, first.ID, again.ID)
	assert.Equal(t, 2, again.ReceiveCount, "the delivery before the crash is counted")
	require.NoError(t, q.Ack(ctx, again))
}
