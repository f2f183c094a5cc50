// Package longpoll is the long poll of Receive in the drivers whose
// connections push messages into a buffer (amazonmq/stomp, amazonmq/mqtt):
// take what is buffered, or else wait for more up to the wait time.
package longpoll

import (
	"context"
	"fmt"
	"time"

	"github.com/postroom/postroom/queue"
)

// Limits returns how many messages a Receive with opts takes at most
// (opts.MaxMessages; 1 when zero) and how long it waits for the first
// (opts.WaitTime; def when zero, not at all with opts.NoWait). It fails when
// MaxMessages is negative or over maxBatch; the error says so without an
// operation or a sentinel, for the driver to wrap.
func Limits(opts queue.ReceiveOptions, maxBatch int, def time.Duration) (n int, wait time.Duration, err error) {
	n = opts.MaxMessages
	switch {
	case n == 0:
		n = 1
	case n < 0 || n > maxBatch:
		return 0, 0, fmt.Errorf("MaxMessages %d (want 1 to %d)", n, maxBatch)
	}
	wait = opts.WaitTime
	switch {
	case opts.NoWait:
		wait = 0
	case wait == 0:
		wait = def
	case wait < 0:
		return 0, 0, fmt.Errorf("WaitTime %v (want 0 or more)", wait)
	}
	return n, wait, nil
}

// Wait calls take until it returns deliveries or an error, and returns
// those. Between calls it waits for avail, a channel signalled when the
// buffer got more (or closed), until deadline, when it returns what take
// returns a last time, or until ctx ends, when it returns ctx.Err(). When
// deadline has passed already it calls take once.
func Wait(ctx context.Context, avail <-chan struct{}, deadline time.Time, take func() ([]*queue.Delivery, error)) ([]*queue.Delivery, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if ds, err := take(); err != nil || len(ds) > 0 {
			return ds, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		if timer == nil {
			timer = time.NewTimer(left)
		}
		select {
		case <-avail:
		case <-timer.C:
			return take()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Take hands out up to n of the buffered entries *buf, oldest first,
// through handOut, dropping on the way those live reports dead (their
// connection was lost: the broker delivers them again). It leaves the
// rest in *buf, nil when none is left, and reports whether some are, for
// the caller to wake the next Receive. Callers hold the buffer's lock.
func Take[E any](buf *[]E, n int, live func(E) bool, handOut func(E) *queue.Delivery) (ds []*queue.Delivery, more bool) {
	b := *buf
	var zero E
	i := 0
	for ; i < len(b) && len(ds) < n; i++ {
		e := b[i]
		b[i] = zero
		if !live(e) {
			continue
		}
		if ds == nil {
			ds = make([]*queue.Delivery, 0, min(n, len(b)))
		}
		ds = append(ds, handOut(e))
	}
	b = b[i:]
	if len(b) == 0 {
		b = nil
	}
	*buf = b
	return ds, b != nil
}
