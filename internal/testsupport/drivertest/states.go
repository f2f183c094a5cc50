package drivertest

import (
	"sync"
	"testing"
	"time"

	"github.com/postroom/postroom/broker"
)

// States records a broker's state changes for Await.
type States struct {
	c chan struct{} // cap 1: a change was recorded

	mu  sync.Mutex // guards chs
	chs []broker.StateChange
}

// Watch records b's state changes until the test ends.
func Watch(t testing.TB, b broker.Broker) *States {
	s := &States{c: make(chan struct{}, 1)}
	stop := b.NotifyState(func(ch broker.StateChange) {
		s.mu.Lock()
		s.chs = append(s.chs, ch)
		s.mu.Unlock()
		select {
		case s.c <- struct{}{}:
		default:
		}
	})
	t.Cleanup(stop)
	return s
}

// Await waits up to 30 s for a change to state to, and returns the first
// one recorded since the change the previous Await returned.
func (s *States) Await(t testing.TB, to broker.State) broker.StateChange {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		for i, ch := range s.chs {
			if ch.To == to {
				s.chs = s.chs[i+1:]
				s.mu.Unlock()
				return ch
			}
		}
		s.mu.Unlock()
		select {
		case <-s.c:
		case <-timeout:
			t.Fatalf("no change to %v within 30 s", to)
		}
	}
}
