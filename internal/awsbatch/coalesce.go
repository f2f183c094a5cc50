// Package awsbatch is the batching the AWS drivers share: coalescing of
// concurrent single calls into batch calls, and the retry of the entries of
// a batch call that failed with a retryable code.
package awsbatch

import (
	"context"
	"sync"
	"time"
)

// batchCallTimeout bounds a coalesced batch call, which runs detached from
// the cancellation of the call that happened to lead it: the others'
// entries ride on it.
const batchCallTimeout = time.Minute

// A Coalescer coalesces single-entry calls made at about the same time by
// different goroutines into batch calls of up to maxN entries (and maxBytes
// bytes, when set). The first call of a batch leads it and makes the batch
// call; the others wait for its result. No goroutine of its own runs.
//
// The leader waits for others to join only while someone could: while
// other calls are under way in the coalescers sharing its Load (their
// batch calls in flight, their callers likely to call again). It waits up
// to wait, and no longer than until the batch is full or every call under
// way is in it. A call made alone is made at once, so a lone caller pays
// no wait, while callers under load share batch calls.
type Coalescer[T any] struct {
	wait     time.Duration
	maxN     int
	maxBytes int
	size     func(T) int
	do       func(ctx context.Context, items []T) []error // index-aligned
	load     *Load

	cur *batch[T] // the batch open for joining, or nil; guarded by load.mu
}

// A Load counts the calls under way in the coalescers that share it (see
// Coalescer.ShareLoad), waiting in a batch or in a batch call. A driver's
// coalescers of one resource share one, so that a worker that sends, then
// acks, one message at a time is alone in all of them, and workers under
// load wait for each other in all of them. The zero value is ready.
type Load struct {
	mu      sync.Mutex // guards n, members and the members' open batches
	n       int
	members []member
}

// member is a Coalescer of any entry type, for its Load.
type member interface {
	// sealIfAll seals the open batch when it holds n entries or more:
	// every call under way is in it. load.mu is held.
	sealIfAll(n int)
}

type batch[T any] struct {
	items []T
	bytes int
	full  chan struct{} // closed when no more entries may join
	done  chan struct{} // closed when errs is set
	errs  []error
}

// NewCoalescer returns a Coalescer that waits up to wait (negative: not at
// all) for batches of maxN entries and, when maxBytes > 0, at most maxBytes
// bytes as size counts them, and makes the batch calls with do, whose
// result is index-aligned with its input.
func NewCoalescer[T any](wait time.Duration, maxN, maxBytes int, size func(T) int, do func(context.Context, []T) []error) *Coalescer[T] {
	b := &Coalescer[T]{wait: wait, maxN: maxN, maxBytes: maxBytes, size: size, do: do}
	return b.ShareLoad(new(Load))
}

// ShareLoad makes b count its calls in l, with those of the other
// coalescers sharing l; it returns b. Call it before b's first call.
func (b *Coalescer[T]) ShareLoad(l *Load) *Coalescer[T] {
	l.mu.Lock()
	l.members = append(l.members, b)
	l.mu.Unlock()
	b.load = l
	return b
}

// One makes the call for item, in a batch with other concurrent calls. When
// ctx ends first, one returns ctx's error, and the entry may still be part
// of the batch call.
func (b *Coalescer[T]) One(ctx context.Context, item T) error {
	if b.wait < 0 {
		return b.do(ctx, []T{item})[0]
	}
	sz := 0
	if b.size != nil {
		sz = b.size(item)
	}
	l := b.load
	l.mu.Lock()
	l.n++
	defer l.leave()
	cur := b.cur
	if cur != nil && b.maxBytes > 0 && cur.bytes+sz > b.maxBytes {
		b.seal(cur) // its leader sends it now; item starts the next one
		cur = nil
	}
	leader := cur == nil
	if leader {
		cur = &batch[T]{full: make(chan struct{}), done: make(chan struct{})}
		b.cur = cur
	}
	i := len(cur.items)
	cur.items = append(cur.items, item)
	cur.bytes += sz
	if len(cur.items) == b.maxN || len(cur.items) >= l.n {
		b.seal(cur) // full, or every call under way is in it
	}
	l.mu.Unlock()

	if leader {
		select {
		case <-cur.full: // full or alone: no timer
		default:
			t := time.NewTimer(b.wait)
			select {
			case <-t.C:
				l.mu.Lock()
				b.seal(cur)
				l.mu.Unlock()
			case <-cur.full:
			}
			t.Stop()
		}
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchCallTimeout)
		cur.errs = b.do(callCtx, cur.items)
		cancel()
		close(cur.done)
		return cur.errs[i]
	}
	select {
	case <-cur.done:
		return cur.errs[i]
	case <-ctx.Done():
		return ctx.Err()
	}
}

// seal closes cur to new entries: its leader makes the call now. load.mu
// is held.
func (b *Coalescer[T]) seal(cur *batch[T]) {
	if b.cur == cur {
		b.cur = nil
	}
	select {
	case <-cur.full:
	default:
		close(cur.full)
	}
}

func (b *Coalescer[T]) sealIfAll(n int) {
	if b.cur != nil && len(b.cur.items) >= n {
		b.seal(b.cur)
	}
}

// leave ends a call of One: an open batch that now holds every call under
// way is made, as nobody else is there to join it.
func (l *Load) leave() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if l.n == 0 {
		return
	}
	for _, m := range l.members {
		m.sealIfAll(l.n)
	}
}
