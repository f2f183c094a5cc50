package amqp

import (
	"sync"

	"github.com/postroom/postroom/broker"
)

// NotifyState calls f with every change of the broker's state, in order,
// from a goroutine of its own, until stop is called or the broker reaches
// Closed (that change is the last one f gets). f must not block for long
// and must not call Close. On a closed broker f is never called.
func (b *Broker) NotifyState(f func(broker.StateChange)) (stop func()) {
	l := &listener{f: f, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return func() {}
	}
	b.listeners[l] = struct{}{}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		l.run()
	}()
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.listeners, l)
			b.mu.Unlock()
			l.stop()
		})
	}
}

// A listener hands state changes to one function, in order.
type listener struct {
	f    func(broker.StateChange)
	wake chan struct{} // capacity 1: there is something to do

	mu      sync.Mutex // guards everything below
	queue   []broker.StateChange
	stopped bool
}

func (l *listener) push(sc broker.StateChange) {
	l.mu.Lock()
	l.queue = append(l.queue, sc)
	l.mu.Unlock()
	l.signal()
}

func (l *listener) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	l.signal()
}

func (l *listener) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *listener) run() {
	for range l.wake {
		for {
			l.mu.Lock()
			if l.stopped {
				l.mu.Unlock()
				return
			}
			if len(l.queue) == 0 {
				l.mu.Unlock()
				break
			}
			sc := l.queue[0]
			l.queue = l.queue[1:]
			l.mu.Unlock()
			l.f(sc)
			if sc.To == broker.Closed {
				return
			}
		}
	}
}
