// Package awsbatch is the batching the AWS drivers share: coalescing of
// concurrent single calls into batch calls, and the retry of the entries of
// a batch call that failed with a retryable code.
package awsbatch

import (
	"context"
	"sync"
	"sync/atomic"
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
// The leader waits for others to join, up to wait or until the batch is
// full, only when other calls are under way (in this coalescer or in the
// others sharing its Load): a call made alone is made at once, so a lone
// caller pays no wait, while callers under load share batch calls.
type Coalescer[T any] struct {
	wait     time.Duration
	maxN     int
	maxBytes int
	size     func(T) int
	do       func(ctx context.Context, items []T) []error // index-aligned
	load     *Load

	mu  sync.Mutex // guards cur
	cur *batch[T]  // the batch open for joining, or nil
}

// A Load counts the calls under way in the coalescers that share it (see
// Coalescer.ShareLoad), waiting to join a batch or in a batch call. A
// driver's coalescers of one resource share one, so that a worker that
// sends, then acks, one message at a time is alone in all of them, and
// workers under load wait for each other in all of them.
type Load struct{ n atomic.Int64 }

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
	return &Coalescer[T]{wait: wait, maxN: maxN, maxBytes: maxBytes, size: size, do: do, load: new(Load)}
}

// ShareLoad makes b count its calls in l, and wait for company only when
// l counts others; it returns b. Call it before b's first call.
func (b *Coalescer[T]) ShareLoad(l *Load) *Coalescer[T] {
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
	alone := b.load.n.Add(1) == 1
	defer b.load.n.Add(-1)
	b.mu.Lock()
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
	if len(cur.items) == b.maxN || alone {
		b.seal(cur) // full, or a lone call: nobody is under way to join it
	}
	b.mu.Unlock()

	if leader {
		select {
		case <-cur.full: // a lone call: no timer
		default:
			t := time.NewTimer(b.wait)
			select {
			case <-t.C:
				b.mu.Lock()
				b.seal(cur)
				b.mu.Unlock()
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

// seal closes cur to new entries: its leader makes the call now. b.mu is
// held.
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
