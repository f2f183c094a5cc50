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
// bytes, when set). The first call of a batch leads it: it waits up to
// wait for others to join, or until the batch is full, and then makes the
// batch call; the others wait for its result. No goroutine of its own runs.
type Coalescer[T any] struct {
	wait     time.Duration
	maxN     int
	maxBytes int
	size     func(T) int
	do       func(ctx context.Context, items []T) []error // index-aligned

	mu  sync.Mutex // guards cur
	cur *batch[T]  // the batch open for joining, or nil
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
	return &Coalescer[T]{wait: wait, maxN: maxN, maxBytes: maxBytes, size: size, do: do}
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
	b.mu.Lock()
	cur := b.cur
	if cur != nil && b.maxBytes > 0 && cur.bytes+sz > b.maxBytes {
		b.cur = nil // its leader sends it now; item starts the next one
		close(cur.full)
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
	if len(cur.items) == b.maxN {
		b.cur = nil
		close(cur.full)
	}
	b.mu.Unlock()

	if leader {
		t := time.NewTimer(b.wait)
		select {
		case <-t.C:
			b.mu.Lock()
			if b.cur == cur {
				b.cur = nil
			}
			b.mu.Unlock()
		case <-cur.full:
		}
		t.Stop()
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
