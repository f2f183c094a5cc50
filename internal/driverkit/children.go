// Package driverkit holds the scaffolding the broker drivers share: the
// queues, topics and subscriptions a broker closes with itself and their
// closed flags ([Children], [Handle]), the owners of a broker opened by
// URL ([OpenOwned], [Upcast]) and the registration of its URL opener
// ([Register]), message ids ([IDs]), and the table of URL query
// parameters a driver knows ([ApplyParams]).
package driverkit

import (
	"sync"

	"github.com/postroom/postroom/internal/errkit"
)

// Children are the values a broker closes with itself, and the count of
// owners of a broker opened by URL. The zero value is ready; it is safe
// for concurrent use.
type Children struct {
	mu     sync.Mutex // guards everything below
	closed bool
	set    map[any]func() // child → its shutdown
	refs   int
}

// Adopt makes child (a pointer, the key Disown takes) close with the
// broker: shutdown is called when the broker closes. After Close it
// returns the error of pkg's "open" on a closed value.
func (cs *Children) Adopt(pkg errkit.Pkg, child any, shutdown func()) error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		return pkg.Closed("open")
	}
	if cs.set == nil {
		cs.set = make(map[any]func())
	}
	cs.set[child] = shutdown
	return nil
}

// Disown forgets child, which was closed on its own.
func (cs *Children) Disown(child any) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.set, child)
}

// ShutdownAll makes later Adopts fail and shuts down the children
// adopted so far, outside the lock; a later call shuts down none.
func (cs *Children) ShutdownAll() {
	cs.mu.Lock()
	cs.closed = true
	set := cs.set
	cs.set = nil
	cs.mu.Unlock()
	for _, shutdown := range set {
		shutdown()
	}
}

// Retain adds an owner to a broker opened by URL.
func (cs *Children) Retain() {
	cs.mu.Lock()
	cs.refs++
	cs.mu.Unlock()
}

// Release drops an owner and reports whether it was the last one, when
// the broker should close.
func (cs *Children) Release() (last bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.refs--
	return cs.refs == 0
}
