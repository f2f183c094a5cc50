package consumer_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/backoff"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

// A batch handler's partial failures: only the failed messages are
// retried.
func TestBatchConsumerPartialFailure(t *testing.T) {
	tests := []struct {
		name string
		// first is what the handler returns for the first batch.
		first      func(ds []*queue.Delivery) error
		wantCalls  map[string]int // by body; 1 when absent
		wantPanics int
	}{
		{
			name: "batch item failures",
			first: func(ds []*queue.Delivery) error {
				errs := make([]error, len(ds))
				for i, d := range ds {
					if b := string(d.Body); b == "m2" || b == "m5" {
						errs[i] = errBoom
					}
				}
				return postroom.NewBatchError("queue", errs)
			},
			wantCalls: map[string]int{"m2": 2, "m5": 2},
		},
		{
			name:      "whole batch failed",
			first:     func([]*queue.Delivery) error { return errBoom },
			wantCalls: allTwice(10),
		},
		{
			name:      "malformed result fails the batch",
			first:     func([]*queue.Delivery) error { return &postroom.BatchError{Errs: []error{errBoom}} },
			wantCalls: allTwice(10),
		},
		{
			name:       "panic",
			first:      func([]*queue.Delivery) error { panic("batch kaboom") },
			wantCalls:  allTwice(10),
			wantPanics: 1,
		},
		{
			name:  "success",
			first: func([]*queue.Delivery) error { return nil },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := newQueue(t, "batch", memory.QueueOptions{})
				r := &countingReceiver{Queue: q}
				send(t, q, bodies(10), nil)
				var mu sync.Mutex
				calls := map[string]int{}
				batches := 0
				h := func(ctx context.Context, ds []*queue.Delivery) error {
					mu.Lock()
					defer mu.Unlock()
					batches++
					for _, d := range ds {
						calls[string(d.Body)]++
					}
					if batches == 1 {
						require.Len(t, ds, 10)
						return tt.first(ds)
					}
					return nil
				}
				var panics int
				c, err := consumer.NewBatch(r, h, consumer.Options{
					Retry: consumer.Retry{Backoff: backoff.Exponential{Initial: time.Second, Jitter: backoff.NoJitter}},
					Hooks: consumer.Hooks{Panic: func(ds []*queue.Delivery, p *consumer.PanicError) {
						assert.Len(t, ds, 10)
						assert.Equal(t, "batch kaboom", p.Value)
						panics++
					}},
				})
				require.NoError(t, err)
				stop := start(t, c)
				time.Sleep(5 * time.Second)
				require.NoError(t, stop())

				for _, b := range bodies(10) {
					want := tt.wantCalls[b]
					if want == 0 {
						want = 1
					}
					assert.Equal(t, want, calls[b], "calls of %s", b)
				}
				assert.Equal(t, tt.wantPanics, panics)
				assert.Equal(t, queue.Stats{}, stats(t, q))
			})
		})
	}
}

func allTwice(n int) map[string]int {
	m := map[string]int{}
	for _, b := range bodies(n) {
		m[b] = 2
	}
	return m
}

// On a FIFO queue, the messages behind a failed one of the same group are
// given back even when the batch handler reported them handled, so that
// the group is delivered again in order.
func TestBatchConsumerFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "batch.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
		msgs := []string{"a1", "a2", "a3", "b1"}
		send(t, q, msgs, func(i int) string { return msgs[i][:1] })
		var mu sync.Mutex
		var batches [][]string
		h := func(ctx context.Context, ds []*queue.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			var bodies []string
			errs := make([]error, len(ds))
			for i, d := range ds {
				bodies = append(bodies, string(d.Body))
				if string(d.Body) == "a2" && len(batches) == 0 {
					errs[i] = errors.New("a2 failed")
				}
			}
			batches = append(batches, bodies)
			return postroom.NewBatchError("queue", errs)
		}
		c, err := consumer.NewBatch(q, h, consumer.Options{
			Retry: consumer.Retry{Backoff: backoff.Exponential{Initial: time.Second, Jitter: backoff.NoJitter}},
		})
		require.NoError(t, err)
		stop := start(t, c)
		time.Sleep(5 * time.Second)
		require.NoError(t, stop())
		assert.Equal(t, [][]string{{"a1", "a2", "a3", "b1"}, {"a2", "a3"}}, batches)
		assert.Equal(t, queue.Stats{}, stats(t, q))
	})
}

// A batch consumer dead-letters the messages past MaxAttempts before
// calling the handler with the rest.
func TestBatchConsumerMaxAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dlq := newQueue(t, "bdlq", memory.QueueOptions{})
		q := newQueue(t, "bsrc", memory.QueueOptions{})
		send(t, q, []string{"poison", "fine"}, nil)
		ds, err := q.Receive(context.Background(), queue.ReceiveOptions{NoWait: true}) // "poison", once
		require.NoError(t, err)
		require.NoError(t, q.Nack(context.Background(), 0, ds...))
		var got [][]string
		c, err := consumer.NewBatch(q, func(ctx context.Context, ds []*queue.Delivery) error {
			var bodies []string
			for _, d := range ds {
				bodies = append(bodies, string(d.Body))
			}
			got = append(got, bodies)
			return nil
		}, consumer.Options{Concurrency: 2, Retry: consumer.Retry{MaxAttempts: 1, DeadLetter: dlq}})
		require.NoError(t, err)
		stop := start(t, c)
		time.Sleep(2 * time.Second)
		require.NoError(t, stop())
		assert.Equal(t, [][]string{{"fine"}}, got)
		assert.Equal(t, 1, stats(t, dlq).Visible)
		assert.Equal(t, queue.Stats{}, stats(t, q))
	})
}

func TestPermanentAndPanicError(t *testing.T) {
	assert.NoError(t, consumer.Permanent(nil))
	err := consumer.Permanent(errBoom)
	assert.ErrorIs(t, err, consumer.ErrPermanent)
	assert.ErrorIs(t, err, errBoom)
	assert.Equal(t, "boom", err.Error())
	p := &consumer.PanicError{Value: errBoom}
	assert.Equal(t, "consumer: handler panicked: boom", p.Error())
	assert.ErrorIs(t, p, errBoom)
	assert.NoError(t, (&consumer.PanicError{Value: 42}).Unwrap())
}
