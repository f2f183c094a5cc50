// Package brokerstate holds the connection state of a broker driver and
// tells it to the functions registered with the driver's NotifyState, each
// from a goroutine of its own, in order.
package brokerstate

import (
	"sync"
	"sync/atomic"

	"github.com/postroom/postroom/broker"
)

// A Notifier holds a broker's state and calls the functions registered
// with Add, each from its own goroutine, in order. It starts Connecting.
// Its methods are safe for concurrent use.
type Notifier struct {
	mu        sync.Mutex // guards everything below
	state     broker.State
	listeners map[*listener]struct{}
	closed    bool
}

// A listener is one registration: a goroutine that owns a queue of
// changes and calls f with each.
type listener struct {
	f      func(broker.StateChange)
	wake   chan struct{} // cap 1: changes were queued, or stop was called
	done   chan struct{} // closed when the goroutine returned
	inCall atomic.Bool   // f is running

	mu      sync.Mutex // guards the fields below
	queue   []broker.StateChange
	stopped bool
}

// New returns a Notifier in state Connecting.
func New() *Notifier {
	return &Notifier{state: broker.Connecting, listeners: make(map[*listener]struct{})}
}

// Get returns the current state.
func (n *Notifier) Get() broker.State {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state
}

// Set moves to state to and tells the listeners; a move to the current
// state, or any move after Closed, is no change.
func (n *Notifier) Set(to broker.State, err error, endpoint string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state == to || n.state == broker.Closed {
		return
	}
	ch := broker.StateChange{From: n.state, To: to, Err: err, Endpoint: endpoint}
	n.state = to
	for l := range n.listeners {
		l.push(ch)
	}
}

// Add registers f and returns the function that stops it: f is called
// with every later change, in order, from a goroutine of its own, until
// stop is called or Close is. stop drops the changes f has not seen yet
// and waits for the goroutine to end, unless f is running at that moment
// (as when stop is called from f itself): the goroutine then ends once f
// returns. After Close, Add registers nothing and f is never called.
func (n *Notifier) Add(f func(broker.StateChange)) (stop func()) {
	l := &listener{f: f, wake: make(chan struct{}, 1), done: make(chan struct{})}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return func() {}
	}
	n.listeners[l] = struct{}{}
	n.mu.Unlock()
	go l.run()
	var once sync.Once
	return func() {
		once.Do(func() {
			n.mu.Lock()
			delete(n.listeners, l)
			n.mu.Unlock()
			l.stop(false)
		})
	}
}

// Close stops every listener once it has seen the changes queued so far
// (the last being the move to Closed, when the caller Set it first), and
// waits for them.
func (n *Notifier) Close() {
	n.mu.Lock()
	n.closed = true
	ls := n.listeners
	n.listeners = nil
	n.mu.Unlock()
	for l := range ls {
		l.stop(true)
	}
}

func (l *listener) push(ch broker.StateChange) {
	l.mu.Lock()
	l.queue = append(l.queue, ch)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// stop ends the goroutine, after the queued changes when drain is set, and
// waits for it unless f is running (stop may be called from f itself, which
// must not wait for its own goroutine).
func (l *listener) stop(drain bool) {
	l.mu.Lock()
	l.stopped = true
	if !drain {
		l.queue = nil
	}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	if !l.inCall.Load() {
		<-l.done
	}
}

func (l *listener) run() {
	defer close(l.done)
	for range l.wake {
		for {
			l.mu.Lock()
			if len(l.queue) == 0 {
				stopped := l.stopped
				l.mu.Unlock()
				if stopped {
					return
				}
				break
			}
			ch := l.queue[0]
			l.queue = l.queue[1:]
			l.mu.Unlock()
			l.inCall.Store(true)
			l.f(ch)
			l.inCall.Store(false)
		}
	}
}
