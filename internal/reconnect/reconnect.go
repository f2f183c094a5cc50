// Package reconnect is the loop with which the broker drivers connect
// again after losing their connection: attempts spaced by the driver's
// backoff, given up after its MaxReconnectAttempts failures in a row.
package reconnect

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/postroom/postroom/backoff"
)

// DefaultBackoff is the broker drivers' reconnect backoff when their
// Options.Backoff is nil: 100 ms doubling up to 5 s, with equal jitter.
var DefaultBackoff = backoff.Exponential{Initial: 100 * time.Millisecond, Max: 5 * time.Second, Jitter: backoff.EqualJitter}

// A Policy is how a driver reconnects: its Options.Backoff and
// Options.MaxReconnectAttempts.
type Policy struct {
	Backoff     backoff.Policy // the wait after each failed attempt
	MaxAttempts int            // failed attempts in a row before giving up; 0: never
}

// GaveUpError is the error of [Retry] after Policy.MaxAttempts failed
// attempts in a row: "gave up reconnecting after N attempts: " and the
// last attempt's error, which a driver prefixes with its name.
type GaveUpError struct {
	Attempts int   // how many attempts failed
	Err      error // the last attempt's error
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("gave up reconnecting after %d attempts: %v", e.Attempts, e.Err)
}

// Unwrap returns the last attempt's error.
func (e *GaveUpError) Unwrap() error { return e.Err }

// Retry calls connect until it succeeds, and returns nil then. After the
// nth failed attempt in a row it calls failed with connect's error and
// waits p.Backoff.Delay(n) before the next one. It returns ctx.Err() when
// ctx ends (an attempt that fails once ctx has ended is not given to
// failed), and a *GaveUpError after p.MaxAttempts failed attempts, when
// that is positive.
func Retry(ctx context.Context, p Policy, connect func(context.Context) error, failed func(error)) error {
	for attempt := 1; ; attempt++ {
		err := connect(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		failed(err)
		if p.MaxAttempts > 0 && attempt >= p.MaxAttempts {
			return &GaveUpError{Attempts: attempt, Err: err}
		}
		t := time.NewTimer(p.Backoff.Delay(attempt))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// Again is [Retry] for a driver's reconnect loop: each failure is stored
// in *last under mu (the latest connection error, for the driver's error
// messages), and when p gives up, gaveUp gets the *GaveUpError with pkg
// before it ("stomp: gave up reconnecting after 3 attempts: …"). It
// returns Retry's error: nil once connected.
func Again(ctx context.Context, p Policy, pkg string, connect func(context.Context) error, mu sync.Locker, last *error, gaveUp func(error)) error {
	err := Retry(ctx, p, connect, func(err error) {
		mu.Lock()
		*last = err
		mu.Unlock()
	})
	var g *GaveUpError
	if errors.As(err, &g) {
		gaveUp(fmt.Errorf("%s: %w", pkg, err))
	}
	return err
}
