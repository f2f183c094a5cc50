// Package backoff computes the waits between retries: capped exponential
// backoff with jitter ([Exponential]), behind a one-method interface
// ([Policy]) that the consumer, the memory driver's redelivery and the broker
// drivers' reconnect loops take.
package backoff

import (
	"math"
	"math/rand/v2"
	"time"
)

// A Policy maps an attempt number (1 for the first retry) to how long to
// wait before it. [Exponential] is the usual implementation; users can
// supply their own.
type Policy interface {
	Delay(attempt int) time.Duration
}

// Func adapts a function to [Policy].
type Func func(attempt int) time.Duration

// Delay calls f.
func (f Func) Delay(attempt int) time.Duration { return f(attempt) }

// Jitter says how an [Exponential] randomises its delays, so that many clients
// retrying at once spread out.
type Jitter int

const (
	// FullJitter waits a random time between 0 and the computed delay.
	FullJitter Jitter = iota
	// EqualJitter waits half the computed delay plus a random time up to
	// the other half.
	EqualJitter
	// NoJitter waits exactly the computed delay.
	NoJitter
)

// Exponential is capped exponential backoff with jitter: attempt n waits
// Initial × Multiplier^(n-1), at most Max, randomised by Jitter. The zero
// value waits 1 s, 2 s, 4 s, … up to 5 minutes, with full jitter.
type Exponential struct {
	Initial    time.Duration // first delay; 0 means 1 s
	Max        time.Duration // cap; 0 means 5 minutes
	Multiplier float64       // growth per attempt; 0 means 2
	Jitter     Jitter
}

// Delay returns the wait before attempt (1-based; values below 1 count as 1).
func (b Exponential) Delay(attempt int) time.Duration {
	initial, maxDelay, mult := b.Initial, b.Max, b.Multiplier
	if initial <= 0 {
		initial = time.Second
	}
	if maxDelay <= 0 {
		maxDelay = 5 * time.Minute
	}
	if mult < 1 {
		mult = 2
	}
	if attempt < 1 {
		attempt = 1
	}
	d := float64(initial) * math.Pow(mult, float64(attempt-1))
	if d > float64(maxDelay) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(maxDelay)
	}
	switch b.Jitter {
	case FullJitter:
		d = rand.Float64() * d
	case EqualJitter:
		d = d/2 + rand.Float64()*d/2
	}
	return time.Duration(d)
}
