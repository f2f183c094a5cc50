package awsbatch

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func retry(n int) Retry {
	return Retry{
		Retries: n, Backoff: 100 * time.Millisecond,
		Retryable: func(code string, _ bool) bool { return code == "Throttling" },
		EntryErr:  func(code, msg string) error { return errors.New(code) },
		CallErr:   func(err error) error { return err },
		NoResult:  func() error { return errors.New("no result") },
	}
}

// A retry waits out its backoff; a ctx that ends during it stops the
// retries and keeps the entries' last errors.
func TestRetryBackoffAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
		defer cancel()
		calls := 0
		start := time.Now()
		errs := retry(5).Do(ctx, 2, func(_ context.Context, idx []int) ([]string, []Failure, error) {
			calls++
			return []string{"0"}, []Failure{{ID: "1", Code: "Throttling"}}, nil
		})
		assert.NoError(t, errs[0])
		assert.EqualError(t, errs[1], "Throttling")
		assert.Equal(t, 2, calls, "the second retry's backoff outlasts ctx")
		assert.LessOrEqual(t, time.Since(start), 120*time.Millisecond)
	})
}

func TestRetryEntryWithoutResult(t *testing.T) {
	errs := retry(0).Do(context.Background(), 3, func(_ context.Context, idx []int) ([]string, []Failure, error) {
		return []string{"0", "7", "x"}, []Failure{{ID: "-1", Code: "X"}}, nil
	})
	assert.NoError(t, errs[0])
	assert.EqualError(t, errs[1], "no result")
	assert.EqualError(t, errs[2], "no result")
}

func TestResult(t *testing.T) {
	one := errors.New("call failed")
	wrap := func(errs []error) error { return errors.Join(errs...) }
	assert.NoError(t, Result([]error{nil, nil}, func([]error) error { return nil }))
	assert.Same(t, one, Result([]error{one, one}, wrap), "one failed call: its own error")
	assert.Error(t, Result([]error{one, nil}, wrap))
	assert.NoError(t, Result(nil, wrap))
}

// A caller whose ctx ends while it waits gets ctx's error; the batch call
// still carries its entry, and the leader gets its result.
func TestCoalescerCallerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var batches [][]int
		c := NewCoalescer(10*time.Millisecond, 10, 0, nil, func(ctx context.Context, items []int) []error {
			time.Sleep(50 * time.Millisecond) // a slow batch call
			mu.Lock()
			batches = append(batches, items)
			mu.Unlock()
			errs := make([]error, len(items))
			for i, it := range items {
				if it == 2 {
					errs[i] = errors.New("bad " + strconv.Itoa(it))
				}
			}
			return errs
		})
		var wg sync.WaitGroup
		var firstErr, badErr, cancelErr error
		wg.Go(func() { firstErr = c.One(context.Background(), 1) }) // alone: its call is made at once
		synctest.Wait()
		wg.Go(func() { badErr = c.One(context.Background(), 2) }) // leads the next batch
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		wg.Go(func() { cancelErr = c.One(ctx, 3) })
		wg.Wait()
		require.Len(t, batches, 2)
		assert.Equal(t, []int{1}, batches[0])
		assert.Equal(t, []int{2, 3}, batches[1])
		assert.NoError(t, firstErr)
		assert.EqualError(t, badErr, "bad 2")
		assert.ErrorIs(t, cancelErr, context.DeadlineExceeded)
	})
}

// recorder is a batch call that takes latency and records each batch and
// when it started.
type recorder struct {
	latency time.Duration
	mu      sync.Mutex
	batches [][]int
	starts  []time.Time
}

func (r *recorder) do(_ context.Context, items []int) []error {
	r.mu.Lock()
	r.batches = append(r.batches, items)
	r.starts = append(r.starts, time.Now())
	r.mu.Unlock()
	time.Sleep(r.latency)
	return make([]error, len(items))
}

// A call made alone is made at once: no wait for company that is not
// coming.
func TestCoalescerLoneCallDoesNotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{latency: time.Millisecond}
		c := NewCoalescer(time.Second, 10, 0, nil, r.do)
		start := time.Now()
		for i := range 3 {
			require.NoError(t, c.One(context.Background(), i))
		}
		assert.Equal(t, 3*time.Millisecond, time.Since(start), "three calls, each its latency and no wait")
		assert.Equal(t, [][]int{{0}, {1}, {2}}, r.batches)
	})
}

// A call made while another one is in flight waits for company, up to the
// wait when the call in flight takes longer.
func TestCoalescerBoundedWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{latency: time.Second}
		c := NewCoalescer(5*time.Millisecond, 10, 0, nil, r.do)
		start := time.Now()
		var wg sync.WaitGroup
		wg.Go(func() { assert.NoError(t, c.One(context.Background(), 1)) })
		synctest.Wait() // 1 is in flight
		wg.Go(func() { assert.NoError(t, c.One(context.Background(), 2)) })
		wg.Wait()
		require.Len(t, r.starts, 2)
		assert.Equal(t, time.Duration(0), r.starts[0].Sub(start))
		assert.Equal(t, 5*time.Millisecond, r.starts[1].Sub(start), "2 waited the whole wait")
	})
}

// Coalescers that share a Load wait for company when a call is under way
// in any of them, and not when the caller is alone in all of them.
func TestCoalescerSharedLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var load Load
		sends := &recorder{latency: time.Second}
		acks := &recorder{latency: time.Millisecond}
		cs := NewCoalescer(5*time.Millisecond, 10, 0, nil, sends.do).ShareLoad(&load)
		ca := NewCoalescer(5*time.Millisecond, 10, 0, nil, acks.do).ShareLoad(&load)
		start := time.Now()
		require.NoError(t, ca.One(context.Background(), 1))
		assert.Equal(t, time.Millisecond, time.Since(start), "alone: no wait")

		var wg sync.WaitGroup
		wg.Go(func() { assert.NoError(t, cs.One(context.Background(), 2)) })
		synctest.Wait() // a send is in flight
		start = time.Now()
		require.NoError(t, ca.One(context.Background(), 3))
		assert.Equal(t, 5*time.Millisecond+time.Millisecond, time.Since(start), "a send under way: the ack waits for company")
		wg.Wait()

		// An unshared coalescer does not see the other's calls.
		solo := NewCoalescer(5*time.Millisecond, 10, 0, nil, acks.do)
		wg.Go(func() { assert.NoError(t, cs.One(context.Background(), 4)) })
		synctest.Wait()
		start = time.Now()
		require.NoError(t, solo.One(context.Background(), 5))
		assert.Equal(t, time.Millisecond, time.Since(start))
		wg.Wait()
	})
}

// When the calls under way return before the wait is over, the batch
// that waited for their callers is made then: they went elsewhere.
func TestCoalescerSealsWhenOthersLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var load Load
		acks := &recorder{latency: time.Millisecond}
		sends := &recorder{latency: time.Millisecond}
		ca := NewCoalescer(time.Second, 10, 0, nil, acks.do).ShareLoad(&load)
		cs := NewCoalescer(time.Second, 10, 0, nil, sends.do).ShareLoad(&load)
		start := time.Now()
		var wg sync.WaitGroup
		wg.Go(func() { assert.NoError(t, ca.One(context.Background(), 1)) }) // alone: made at once
		synctest.Wait()
		for i := 2; i <= 4; i++ {
			wg.Go(func() { assert.NoError(t, cs.One(context.Background(), i)) })
		}
		wg.Wait()
		require.Len(t, sends.batches, 1)
		assert.ElementsMatch(t, []int{2, 3, 4}, sends.batches[0])
		assert.Equal(t, time.Millisecond, sends.starts[0].Sub(start), "made when the ack returned, not after the wait")
	})
}

// Sixteen goroutines calling one at a time, in a loop, share batch calls.
func TestCoalescerUnderLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{latency: time.Millisecond}
		c := NewCoalescer(5*time.Millisecond, 10, 0, nil, r.do)
		const workers, each = 16, 50
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					assert.NoError(t, c.One(context.Background(), w*each+i))
				}
			})
		}
		wg.Wait()
		var seen []int
		for _, b := range r.batches {
			assert.LessOrEqual(t, len(b), 10)
			seen = append(seen, b...)
		}
		assert.Len(t, seen, workers*each, "every item in one batch")
		perItem := float64(len(r.batches)) / float64(workers*each)
		t.Logf("%d batch calls for %d items: %.3f per item", len(r.batches), workers*each, perItem)
		assert.LessOrEqual(t, perItem, 0.15)
	})
}

func TestSplit(t *testing.T) {
	sizes := []int{4, 4, 4, 9, 1, 12, 1, 1}
	size := func(i int) int { return sizes[i] }
	tests := []struct {
		name          string
		idx           []int
		maxN, maxSize int
		want          [][]int
	}{
		{"by count", []int{0, 1, 2, 4, 6, 7}, 2, 100, [][]int{{0, 1}, {2, 4}, {6, 7}}},
		{"by size", []int{0, 1, 2, 3, 4}, 10, 10, [][]int{{0, 1}, {2}, {3, 4}}},
		{"oversize entry alone", []int{4, 5, 6}, 10, 10, [][]int{{4}, {5}, {6}}},
		{"none", nil, 10, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Split(tt.idx, tt.maxN, tt.maxSize, size); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Split(%v) = %v, want %v", tt.idx, got, tt.want)
			}
		})
	}
}
