package amqp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/queue"
)

// TestReconnectReportsLostQueue deletes a durable queue behind the
// driver's back while its connection is down, as a broker crash can lose
// a freshly declared queue: the reconnection declares it again and reports
// the loss with ErrQueueLost, while a queue that survived is not reported.
func TestReconnectReportsLostQueue(t *testing.T) {
	p, b := dialProxied(t)
	kept, lost := testQueue(t, b), testQueue(t, b)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, lost.Send(ctx, &queue.Message{Body: []byte("gone with the queue")}))
	require.NoError(t, kept.Send(ctx, &queue.Message{Body: []byte("kept")}))

	changes := make(chan broker.StateChange, 16)
	stop := b.NotifyState(func(sc broker.StateChange) { changes <- sc })
	defer stop()
	connected := func() broker.StateChange {
		t.Helper()
		for {
			select {
			case sc := <-changes:
				if sc.To == broker.Connected {
					return sc
				}
			case <-ctx.Done():
				t.Fatal("no reconnection")
			}
		}
	}

	// A cut alone: both queues survive, nothing is reported.
	p.Cut()
	p.Restore()
	sc := connected()
	assert.NoError(t, sc.Err)

	// The queue deleted while the driver is away.
	p.Cut()
	deleteQueue(t, lost.Name())
	p.Restore()
	sc = connected()
	require.Error(t, sc.Err)
	assert.ErrorIs(t, sc.Err, ErrQueueLost)
	assert.ErrorIs(t, sc.Err, postroom.ErrNotFound)
	assert.True(t, strings.HasPrefix(sc.Err.Error(), "amqp: restore queue "+lost.Name()+": "), sc.Err.Error())
	assert.NotContains(t, sc.Err.Error(), kept.Name())
	assert.Equal(t, 1, strings.Count(sc.Err.Error(), "amqp:"), "the package is named once: %s", sc.Err)
	var pe *postroom.Error
	require.True(t, errors.As(sc.Err, &pe))

	// Declared again, empty; the other queue kept its message.
	got, err := lost.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: 200 * time.Millisecond})
	require.NoError(t, err)
	assert.Empty(t, got)
	require.NoError(t, lost.Send(ctx, &queue.Message{Body: []byte("after")}))
	got, err = kept.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: 5 * time.Second})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "kept", string(got[0].Body))
}
