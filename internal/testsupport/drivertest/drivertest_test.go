package drivertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestReceive(t *testing.T) {
	q, err := memory.NewQueue("drivertest", memory.QueueOptions{})
	require.NoError(t, err)
	defer q.Close()
	require.NoError(t, q.Send(t.Context(), &queue.Message{Body: []byte("a")}, &queue.Message{Body: []byte("b")}))
	ds := ReceiveN(t, q, 2)
	assert.ElementsMatch(t, []string{"a", "b"}, Bodies(ds))
	require.NoError(t, q.Ack(t.Context(), ds...))
	ReceiveNone(t, q, 10*time.Millisecond)
}

func TestWatch(t *testing.T) {
	b := memory.NewBroker()
	st := Watch(t, b)
	require.NoError(t, b.Close())
	ch := st.Await(t, broker.Closed)
	assert.Equal(t, broker.Connected, ch.From)
}
