package dedup_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/backoff"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/consumer/dedup"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newQueue(t *testing.T, name string, opts memory.QueueOptions) *memory.Queue {
	t.Helper()
	q, err := memory.NewQueue(name, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Close() })
	return q
}

// run runs a consumer of h on q until stop is called.
func run(t *testing.T, q queue.Receiver, h consumer.Handler, opts consumer.Options) (stop func()) {
	t.Helper()
	c, err := consumer.New(q, h, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return stop
}

func send(t *testing.T, q queue.Sender, ms ...*queue.Message) {
	t.Helper()
	require.NoError(t, q.Send(context.Background(), ms...))
}

func stats(t *testing.T, q *memory.Queue) queue.Stats {
	t.Helper()
	st, err := q.Stats(context.Background())
	require.NoError(t, err)
	st.OldestAge = 0
	return st
}

// byBody keys deliveries on their body: two sends of one body stand for a
// message the transport delivered twice.
func byBody(d *queue.Delivery) string { return string(d.Body) }

// A copy handled within the window is dropped and acked; after the window
// it is handled again.
func TestDedupWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "window", memory.QueueOptions{})
		var mu sync.Mutex
		var handled []time.Duration
		var dropped atomic.Int64
		t0 := time.Now()
		h := func(context.Context, *queue.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			handled = append(handled, time.Since(t0))
			return nil
		}
		mw := dedup.Middleware(dedup.Options{Window: 10 * time.Minute, Key: byBody,
			Dropped: func(*queue.Delivery) { dropped.Add(1) }})
		run(t, q, consumer.Chain(h, mw), consumer.Options{})

		send(t, q, &queue.Message{Body: []byte("order-1")})
		time.Sleep(time.Minute)
		send(t, q, &queue.Message{Body: []byte("order-1")}) // within the window
		time.Sleep(10 * time.Minute)
		send(t, q, &queue.Message{Body: []byte("order-1")}) // 11 minutes after the first
		time.Sleep(time.Minute)
		synctest.Wait()

		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []time.Duration{0, 11 * time.Minute}, handled)
		assert.Equal(t, int64(1), dropped.Load())
		assert.Equal(t, queue.Stats{}, stats(t, q), "the duplicate was acked, not left behind")
	})
}

// A failed handling is not remembered: the retry of the same message runs
// the handler again; only then is the key remembered.
func TestDedupRemembersOnlySuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "fails", memory.QueueOptions{})
		var calls atomic.Int64
		h := func(_ context.Context, d *queue.Delivery) error {
			if calls.Add(1) == 1 {
				return errors.New("database down")
			}
			return nil
		}
		run(t, q, consumer.Chain(h, dedup.Middleware(dedup.Options{})), consumer.Options{
			Retry: consumer.Retry{Backoff: backoff.Exponential{Initial: 10 * time.Second, Jitter: backoff.NoJitter}},
		})
		send(t, q, &queue.Message{Body: []byte("x")})
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, int64(2), calls.Load(), "the retry ran the handler")
		assert.Equal(t, queue.Stats{}, stats(t, q))
	})
}

// Copies handled at the same time run the handler once: the first claims
// the key, the others fail with ErrInProgress and come back after their
// retry delay, when they are dropped. When the first fails, a copy that
// comes back is handled instead: nothing is lost.
func TestDedupConcurrentCopies(t *testing.T) {
	for _, firstFails := range []bool{false, true} {
		t.Run("first fails="+strconv.FormatBool(firstFails), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := newQueue(t, "copies", memory.QueueOptions{})
				var calls, ok, inProgress atomic.Int64
				h := func(ctx context.Context, d *queue.Delivery) error {
					n := calls.Add(1)
					time.Sleep(5 * time.Second) // all copies arrive meanwhile
					if firstFails && n == 1 {
						return errors.New("first attempt failed")
					}
					ok.Add(1)
					return nil
				}
				run(t, q, consumer.Chain(h, dedup.Middleware(dedup.Options{Key: byBody})), consumer.Options{
					Concurrency: 8,
					Retry:       consumer.Retry{Backoff: backoff.Exponential{Initial: 10 * time.Second, Jitter: backoff.NoJitter}},
					Hooks: consumer.Hooks{Failed: func(_ *queue.Delivery, err error) {
						if errors.Is(err, dedup.ErrInProgress) {
							inProgress.Add(1)
						}
					}},
				})
				var copies []*queue.Message
				for range 8 {
					copies = append(copies, &queue.Message{Body: []byte("same")})
				}
				send(t, q, copies...)
				time.Sleep(2 * time.Minute)
				synctest.Wait()
				assert.Equal(t, int64(1), ok.Load(), "handled successfully once")
				wantCalls := int64(1)
				if firstFails {
					wantCalls = 2 // the failed one, then one copy
				}
				assert.Equal(t, wantCalls, calls.Load())
				if firstFails {
					// The copies came back with the failed one, and all but
					// one found the key claimed again.
					assert.GreaterOrEqual(t, inProgress.Load(), int64(7))
				} else {
					assert.Equal(t, int64(7), inProgress.Load(), "the 7 copies found the key claimed")
				}
				assert.Equal(t, queue.Stats{}, stats(t, q))
			})
		})
	}
}

// On a FIFO queue a duplicate is acked in its place in the group's order,
// and a failure still gives the group back in order.
func TestDedupFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "orders.fifo", memory.QueueOptions{})
		var mu sync.Mutex
		var order []string
		failed := false
		h := func(_ context.Context, d *queue.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			if string(d.Body) == "b" && !failed {
				failed = true
				order = append(order, "b failed")
				return errors.New("b failed")
			}
			order = append(order, string(d.Body))
			return nil
		}
		run(t, q, consumer.Chain(h, dedup.Middleware(dedup.Options{Key: byBody})), consumer.Options{
			Retry: consumer.Retry{Backoff: backoff.Exponential{Initial: 5 * time.Second, Jitter: backoff.NoJitter}},
		})
		var ms []*queue.Message
		for i, body := range []string{"a", "b", "a", "c", "b", "d"} { // a and b twice
			ms = append(ms, &queue.Message{Body: []byte(body), GroupID: "g", DeduplicationID: strconv.Itoa(i)})
		}
		send(t, q, ms...)
		time.Sleep(time.Minute)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []string{"a", "b failed", "b", "c", "d"}, order)
		assert.Equal(t, queue.Stats{}, stats(t, q))
	})
}

// A panicking handler releases its claim: the retry is handled.
func TestDedupPanicReleases(t *testing.T) {
	store := dedup.NewMemoryStore()
	var calls int
	h := dedup.Middleware(dedup.Options{Store: store})(func(context.Context, *queue.Delivery) error {
		if calls++; calls == 1 {
			panic("kaboom")
		}
		return nil
	})
	d := &queue.Delivery{Message: queue.Message{ID: "m1"}}
	assert.Panics(t, func() { _ = h(context.Background(), d) })
	assert.Zero(t, store.Len(), "the claim was released")
	require.NoError(t, h(context.Background(), d))
	require.NoError(t, h(context.Background(), d))
	assert.Equal(t, 2, calls, "the third call was a duplicate")
}

// A message with an empty key is always handled.
func TestDedupEmptyKey(t *testing.T) {
	var calls int
	h := dedup.Middleware(dedup.Options{})(func(context.Context, *queue.Delivery) error { calls++; return nil })
	d := &queue.Delivery{} // no id
	require.NoError(t, h(context.Background(), d))
	require.NoError(t, h(context.Background(), d))
	assert.Equal(t, 2, calls)
}

type failingStore struct{ dedup.Store }

var errStoreDown = errors.New("store down")

func (failingStore) Claim(context.Context, string, time.Duration) (dedup.Claim, error) {
	return dedup.Claimed, errStoreDown
}

// A store that fails makes the delivery fail (to be retried): the handler
// does not run unguarded, and the message is not dropped.
func TestDedupStoreError(t *testing.T) {
	called := false
	h := dedup.Middleware(dedup.Options{Store: failingStore{}})(func(context.Context, *queue.Delivery) error { called = true; return nil })
	err := h(context.Background(), &queue.Delivery{Message: queue.Message{ID: "m1"}})
	assert.ErrorIs(t, err, errStoreDown)
	assert.False(t, called)
}

// The memory store forgets expired keys: its size follows the keys live
// within the window, not every key ever seen.
func TestMemoryStoreSweeps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := dedup.NewMemoryStore()
		ctx := context.Background()
		peak := 0
		for i := range 100_000 {
			k := strconv.Itoa(i)
			c, err := s.Claim(ctx, k, time.Minute)
			require.NoError(t, err)
			require.Equal(t, dedup.Claimed, c)
			require.NoError(t, s.Release(ctx, k, true, time.Second))
			peak = max(peak, s.Len())
			time.Sleep(time.Millisecond) // 1,000 keys live within a window
		}
		assert.LessOrEqual(t, peak, 4096)

		// Claims and their expiry.
		c, err := s.Claim(ctx, "k", time.Minute)
		require.NoError(t, err)
		assert.Equal(t, dedup.Claimed, c)
		c, _ = s.Claim(ctx, "k", time.Minute)
		assert.Equal(t, dedup.InProgress, c)
		time.Sleep(time.Minute) // the holder died: its lease expires
		c, _ = s.Claim(ctx, "k", time.Minute)
		assert.Equal(t, dedup.Claimed, c)
		require.NoError(t, s.Release(ctx, "k", true, time.Hour))
		c, _ = s.Claim(ctx, "k", time.Minute)
		assert.Equal(t, dedup.Handled, c)
		time.Sleep(time.Hour)
		c, _ = s.Claim(ctx, "k", time.Minute)
		assert.Equal(t, dedup.Claimed, c)
	})
}
