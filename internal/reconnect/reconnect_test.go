package reconnect

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/postroom/postroom/backoff"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// delays records the delays a policy was asked for, and waits none.
type delays []int

func (d *delays) policy(maxAttempts int) Policy {
	return Policy{MaxAttempts: maxAttempts, Backoff: backoff.Func(func(attempt int) time.Duration {
		*d = append(*d, attempt)
		return 0
	})}
}

func TestRetrySucceeds(t *testing.T) {
	var d delays
	var failures []error
	calls := 0
	err := Retry(context.Background(), d.policy(0), func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("refused")
		}
		return nil
	}, func(err error) { failures = append(failures, err) })
	require.NoError(t, err)
	assert.Equal(t, 3, calls)
	assert.Len(t, failures, 2)
	assert.Equal(t, delays{1, 2}, d, "a wait after each failure, numbered from 1")
}

func TestRetryGivesUp(t *testing.T) {
	var d delays
	failed := 0
	refused := errors.New("refused")
	err := Retry(context.Background(), d.policy(2), func(context.Context) error { return refused },
		func(error) { failed++ })
	var gu *GaveUpError
	require.ErrorAs(t, err, &gu)
	assert.Equal(t, 2, gu.Attempts)
	assert.ErrorIs(t, err, refused)
	assert.EqualError(t, err, "gave up reconnecting after 2 attempts: refused")
	assert.Equal(t, 2, failed, "failed hears every failure, the last one too")
	assert.Equal(t, delays{1}, d, "no wait after the last attempt")
}

func TestRetryStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	failed := 0
	err := Retry(ctx, Policy{Backoff: backoff.Func(func(int) time.Duration { return time.Hour })},
		func(context.Context) error { return errors.New("refused") },
		func(error) { failed++; cancel() })
	require.ErrorIs(t, err, context.Canceled, "the wait ends with ctx")
	assert.Equal(t, 1, failed)

	failed = 0
	err = Retry(ctx, Policy{}, func(context.Context) error { return errors.New("cut short") }, func(error) { failed++ })
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, failed, "an attempt that failed because ctx ended is not a failure")
}

func TestAgain(t *testing.T) {
	var mu sync.Mutex
	var last, gave error
	boom := errors.New("refused")
	var d delays
	p := d.policy(2)
	err := Again(context.Background(), p, "stomp", func(context.Context) error { return boom }, &mu, &last, func(err error) { gave = err })
	var g *GaveUpError
	if !errors.As(err, &g) || g.Attempts != 2 {
		t.Fatalf("Again = %v, want a GaveUpError after 2 attempts", err)
	}
	if last != boom {
		t.Errorf("last = %v, want the attempt's error", last)
	}
	if gave == nil || gave.Error() != "stomp: gave up reconnecting after 2 attempts: refused" || !errors.Is(gave, boom) {
		t.Errorf("gaveUp got %v", gave)
	}

	gave, last = nil, nil
	n := 0
	err = Again(context.Background(), p, "stomp", func(context.Context) error {
		if n++; n == 1 {
			return boom
		}
		return nil
	}, &mu, &last, func(err error) { gave = err })
	if err != nil || gave != nil || last != boom {
		t.Errorf("connected on the second attempt: err %v, gaveUp %v, last %v", err, gave, last)
	}
}
