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
		var leaderErr, badErr, cancelErr error
		wg.Go(func() { leaderErr = c.One(context.Background(), 1) })
		synctest.Wait()
		wg.Go(func() { badErr = c.One(context.Background(), 2) })
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		wg.Go(func() { cancelErr = c.One(ctx, 3) })
		wg.Wait()
		require.Len(t, batches, 1)
		assert.ElementsMatch(t, []int{1, 2, 3}, batches[0])
		assert.NoError(t, leaderErr)
		assert.EqualError(t, badErr, "bad 2")
		assert.ErrorIs(t, cancelErr, context.DeadlineExceeded)
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
