package driverkit

import (
	"io"
	"sync/atomic"

	"github.com/postroom/postroom/internal/errkit"
)

// Handle is what a queue, topic or subscription of a broker keeps about
// its own life: whether it is closed, and whether it was opened by URL
// and so holds a reference on the broker (see [Children.Retain]). The
// zero value is open and holds no reference. [Children.Own] and
// [Children.Inherit] are called before the value reaches its user, who
// alone closes it; the closed flag is safe for concurrent use.
type Handle struct {
	closed atomic.Bool
	owned  bool
}

// Closed reports whether the value is closed.
func (h *Handle) Closed() bool { return h.closed.Load() }

// Check returns the error of pkg's op on a closed value when h is closed,
// and nil otherwise.
func (h *Handle) Check(pkg errkit.Pkg, op string) error {
	if h.closed.Load() {
		return pkg.Closed(op)
	}
	return nil
}

// Close marks h closed and reports whether it was open: the one call
// that gets true does the work of closing, so Close is idempotent.
func (h *Handle) Close() (first bool) { return !h.closed.Swap(true) }

// Shutdown marks h closed, for the broker closing its children.
func (h *Handle) Shutdown() { h.closed.Store(true) }

// Owned reports whether h holds a reference on its broker.
func (h *Handle) Owned() bool { return h.owned }

// Own makes h hold a reference on the broker whose children cs are.
func (cs *Children) Own(h *Handle) {
	h.owned = true
	cs.Retain()
}

// Inherit makes h, made from parent (a subscription from its topic),
// hold a reference on the broker too when parent does.
func (cs *Children) Inherit(h, parent *Handle) {
	if parent.owned {
		cs.Own(h)
	}
}

// Done forgets child, closed on its own, and drops the reference its
// handle h holds, if any: closeBroker is called when it was the last.
func (cs *Children) Done(child any, h *Handle, closeBroker func() error) {
	cs.Disown(child)
	if h.owned && cs.Release() {
		_ = closeBroker()
	}
}

// OpenOwned is the body of a URL opener that opens one queue or topic on
// a broker of its own: dial dials the broker, open opens the value on it,
// and own makes the value hold the broker (usually [Children.Own]), so
// that closing it closes the broker. When open fails the broker is
// closed. The value is returned as the interface I (see [Upcast]).
func OpenOwned[I any, B io.Closer, C any](dial func() (B, error), open func(B) (C, error), own func(B, C)) (I, error) {
	var zero I
	b, err := dial()
	if err != nil {
		return zero, err
	}
	c, err := open(b)
	if err != nil {
		_ = b.Close()
		return zero, err
	}
	own(b, c)
	return Upcast[I](c, nil)
}

// Close closes a child whose closing is only that: h is marked closed,
// and the first call hands child to [Children.Done]. It returns nil, for
// the child's Close.
func (cs *Children) Close(child any, h *Handle, closeBroker func() error) error {
	if h.Close() {
		cs.Done(child, h, closeBroker)
	}
	return nil
}

// Upcast returns c as the interface I, or a nil I when err is not nil,
// so that a failed open never returns a nil pointer in a non-nil
// interface. C must implement I.
func Upcast[I, C any](c C, err error) (I, error) {
	var zero I
	if err != nil {
		return zero, err
	}
	return any(c).(I), nil
}
