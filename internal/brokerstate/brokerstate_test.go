package brokerstate

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/broker"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder collects the changes a listener is called with.
type recorder struct {
	mu  sync.Mutex
	chs []broker.StateChange
}

func (r *recorder) f(ch broker.StateChange) {
	r.mu.Lock()
	r.chs = append(r.chs, ch)
	r.mu.Unlock()
}

func (r *recorder) got() []broker.StateChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]broker.StateChange(nil), r.chs...)
}

func TestOrderAndClose(t *testing.T) {
	n := New()
	assert.Equal(t, broker.Connecting, n.Get())
	var r recorder
	stop := n.Add(r.f)
	defer stop()
	lost := errors.New("lost")
	n.Set(broker.Connected, nil, "a")
	n.Set(broker.Connected, nil, "a") // no change
	n.Set(broker.Reconnecting, lost, "a")
	n.Set(broker.Connected, nil, "b")
	n.Set(broker.Closed, nil, "")
	n.Set(broker.Connected, nil, "b") // nothing after Closed
	n.Close()
	assert.Equal(t, broker.Closed, n.Get())
	assert.Equal(t, []broker.StateChange{
		{From: broker.Connecting, To: broker.Connected, Endpoint: "a"},
		{From: broker.Connected, To: broker.Reconnecting, Err: lost, Endpoint: "a"},
		{From: broker.Reconnecting, To: broker.Connected, Endpoint: "b"},
		{From: broker.Connected, To: broker.Closed},
	}, r.got(), "Close waits until every queued change was delivered")

	n.Add(func(broker.StateChange) { t.Error("called after Close") })()
}

func TestStop(t *testing.T) {
	n := New()
	var r recorder
	stop := n.Add(r.f)
	n.Set(broker.Connected, nil, "a")
	require.Eventually(t, func() bool { return len(r.got()) == 1 }, 5*time.Second, time.Millisecond)
	stop()
	stop() // twice is fine
	n.Set(broker.Reconnecting, nil, "a")
	n.Close()
	assert.Len(t, r.got(), 1, "a stopped listener hears nothing more")
}

func TestStopFromListener(t *testing.T) {
	n := New()
	var stop func()
	called := make(chan struct{})
	var ready sync.WaitGroup
	ready.Add(1)
	stop = n.Add(func(broker.StateChange) {
		ready.Wait()
		stop() // must not wait for its own goroutine
		close(called)
	})
	ready.Done()
	n.Set(broker.Connected, nil, "a")
	<-called
	n.Close()
}

func TestSlowListenerDoesNotBlockSet(t *testing.T) {
	n := New()
	release := make(chan struct{})
	var r recorder
	stop := n.Add(func(ch broker.StateChange) {
		<-release
		r.f(ch)
	})
	defer stop()
	for range 100 {
		n.Set(broker.Connected, nil, "a")
		n.Set(broker.Reconnecting, nil, "a")
	}
	n.Set(broker.Closed, nil, "")
	close(release)
	n.Close()
	// Close does not wait for a listener whose f is running (it cannot
	// tell that call from a call of its own f), but the listener still
	// gets every change queued before Close.
	require.Eventually(t, func() bool { return len(r.got()) == 201 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, broker.Closed, r.got()[200].To)
}
