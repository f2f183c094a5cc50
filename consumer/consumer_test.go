package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
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

func noop(context.Context, *queue.Delivery) error { return nil }

func TestNewConsumerOptions(t *testing.T) {
	q, err := memory.NewQueue("opts", memory.QueueOptions{})
	require.NoError(t, err)
	dlq, err := memory.NewQueue("opts-dlq", memory.QueueOptions{})
	require.NoError(t, err)
	tests := []struct {
		name    string
		r       queue.Receiver
		h       consumer.Handler
		opts    consumer.Options
		wantErr bool
	}{
		{name: "zero value", r: q, h: noop},
		{name: "everything set", r: q, h: noop, opts: consumer.Options{
			Concurrency: 3, BatchSize: 5, WaitTime: time.Second, VisibilityTimeout: time.Minute,
			Heartbeat: 5 * time.Second, FIFO: true, ShutdownTimeout: -1,
			Retry: consumer.Retry{Backoff: backoff.Exponential{}, MaxAttempts: 3, DeadLetter: dlq, Permanent: consumer.RetryPermanent},
			Acks:  consumer.Acks{Threshold: 5, Interval: 500 * time.Millisecond, Timeout: time.Second},
		}},
		{name: "the longest wait SQS allows", r: q, h: noop, opts: consumer.Options{WaitTime: 20 * time.Second}},
		{name: "nil receiver", h: noop, wantErr: true},
		{name: "nil handler", r: q, wantErr: true},
		{name: "negative concurrency", r: q, h: noop, opts: consumer.Options{Concurrency: -1}, wantErr: true},
		{name: "negative batch size", r: q, h: noop, opts: consumer.Options{BatchSize: -1}, wantErr: true},
		{name: "BatchSize above the batch limit", r: q, h: noop, opts: consumer.Options{BatchSize: 11}, wantErr: true},
		{name: "negative wait", r: q, h: noop, opts: consumer.Options{WaitTime: -1}, wantErr: true},
		{name: "wait above the receiver's limit", r: q, h: noop, opts: consumer.Options{WaitTime: 21 * time.Second}, wantErr: true},
		{name: "visibility above the receiver's limit", r: q, h: noop, opts: consumer.Options{VisibilityTimeout: 13 * time.Hour}, wantErr: true},
		{name: "MaxAttempts without dead letter", r: q, h: noop, opts: consumer.Options{Retry: consumer.Retry{MaxAttempts: 3}}, wantErr: true},
		{name: "negative MaxAttempts", r: q, h: noop, opts: consumer.Options{Retry: consumer.Retry{MaxAttempts: -1}}, wantErr: true},
		{name: "unknown PermanentAction", r: q, h: noop, opts: consumer.Options{Retry: consumer.Retry{Permanent: 7}}, wantErr: true},
		{name: "Acks.Threshold above the batch limit", r: q, h: noop, opts: consumer.Options{Acks: consumer.Acks{Threshold: 11}}, wantErr: true},
		{name: "Acks.Interval near the visibility timeout", r: q, h: noop, opts: consumer.Options{Acks: consumer.Acks{Interval: 15 * time.Second}}, wantErr: true},
		{name: "negative Acks.Timeout", r: q, h: noop, opts: consumer.Options{Acks: consumer.Acks{Timeout: -1}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := consumer.New(tt.r, tt.h, tt.opts)
			if tt.wantErr {
				require.Error(t, err)
				assert.ErrorIs(t, err, postroom.ErrInvalid)
				assert.Regexp(t, "^consumer: new: ", err.Error())
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, c)
		})
	}
}

func TestNewBatchConsumerOptions(t *testing.T) {
	q, err := memory.NewQueue("batch-opts", memory.QueueOptions{})
	require.NoError(t, err)
	_, err = consumer.NewBatch(q, nil, consumer.Options{})
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	_, err = consumer.NewBatch(q, func(context.Context, []*queue.Delivery) error { return nil },
		consumer.Options{WaitTime: time.Minute})
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	_, err = consumer.NewBatch(q, func(context.Context, []*queue.Delivery) error { return nil },
		consumer.Options{BatchSize: 5, Concurrency: 10})
	assert.NoError(t, err)
}

// A receiver that does not describe itself gets the consumer's defaults,
// with no wait limit to check.
func TestNewConsumerUndescribedReceiver(t *testing.T) {
	q, err := memory.NewQueue("undescribed", memory.QueueOptions{})
	require.NoError(t, err)
	r := struct{ queue.Receiver }{q}
	_, err = consumer.New(r, noop, consumer.Options{WaitTime: time.Minute})
	assert.NoError(t, err)
	_, err = consumer.New(r, noop, consumer.Options{BatchSize: 11})
	assert.ErrorIs(t, err, postroom.ErrInvalid, "10 is assumed")
}

func TestConsumerRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "twice", memory.QueueOptions{})
		c := newConsumer(t, q, noop, consumer.Options{})
		stop := start(t, c)
		synctest.Wait()
		assert.ErrorIs(t, c.Run(context.Background()), postroom.ErrInvalid)
		assert.NoError(t, stop())
	})
}

func TestConsumerConcurrencyLimit(t *testing.T) {
	for _, limit := range []int{1, 3, 8, 25} {
		t.Run(fmt.Sprint("concurrency ", limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := newQueue(t, "limit", memory.QueueOptions{})
				send(t, q, bodies(100), nil)
				var running gauge
				var handled atomic.Int64
				h := func(ctx context.Context, d *queue.Delivery) error {
					running.add(1)
					defer running.add(-1)
					n, _ := strconv.Atoi(string(d.Body[1:]))
					time.Sleep(time.Duration(1+n%7) * time.Second)
					handled.Add(1)
					return nil
				}
				var inFlight gauge
				var mu sync.Mutex
				c := newConsumer(t, q, h, consumer.Options{
					Concurrency: limit,
					Hooks: consumer.Hooks{InFlight: func(n int) {
						mu.Lock()
						defer mu.Unlock()
						inFlight.add(n - inFlight.cur)
					}},
				})
				stop := start(t, c)
				for handled.Load() < 100 {
					time.Sleep(time.Second)
				}
				require.NoError(t, stop())
				assert.Equal(t, limit, running.peak(), "handlers running at once")
				assert.LessOrEqual(t, inFlight.peak(), limit, "messages held")
				assert.Equal(t, queue.Stats{}, stats(t, q), "every message acked")
			})
		})
	}
}

// A slow handler slows the polling down: the consumer never asks for more
// messages than it has free slots, so none waits in a buffer while its
// visibility timeout runs out.
func TestConsumerBackPressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "slow", memory.QueueOptions{VisibilityTimeout: 30 * time.Second})
		r := &countingReceiver{Queue: q, limit: 2}
		send(t, q, bodies(20), nil)
		var receives sync.Map // body → receive count seen
		var redelivered atomic.Int64
		all := make(chan struct{})
		h := func(ctx context.Context, d *queue.Delivery) error {
			defer func() {
				if r.handled.Add(1) == 20 {
					close(all)
				}
			}()
			if _, dup := receives.LoadOrStore(string(d.Body), d.ReceiveCount); dup || d.ReceiveCount > 1 {
				redelivered.Add(1)
			}
			time.Sleep(20 * time.Second)
			return nil
		}
		c := newConsumer(t, r, h, consumer.Options{Concurrency: 2, Heartbeat: -1})
		stop := start(t, c)
		t0 := time.Now()
		<-all
		elapsed := since(t0)
		require.NoError(t, stop())
		assert.Zero(t, redelivered.Load(), "no message timed out waiting")
		assert.Zero(t, r.overAsked.Load(), "receives asked only for free slots")
		assert.Equal(t, 200*time.Second, elapsed, "20 messages, 20 s each, 2 at a time")
		assert.Equal(t, queue.Stats{}, stats(t, q))
	})
}

// A handler that runs 2 minutes on a queue with a 30-second visibility
// timeout keeps its message while the heartbeat runs, and loses it to a
// redelivery without it.
func TestConsumerHeartbeat(t *testing.T) {
	tests := []struct {
		name      string
		heartbeat time.Duration
		// wantCalls is the number of handler calls at 90 s.
		wantCalls  int64
		wantStats  queue.Stats
		wantExtend bool
	}{
		{name: "heartbeat", heartbeat: 0, wantCalls: 1, wantStats: queue.Stats{InFlight: 1}, wantExtend: true},
		{name: "no heartbeat", heartbeat: -1, wantCalls: 2, wantStats: queue.Stats{Visible: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := newQueue(t, "long", memory.QueueOptions{VisibilityTimeout: 30 * time.Second})
				send(t, q, []string{"long job"}, nil)
				var calls, done atomic.Int64
				h := func(ctx context.Context, d *queue.Delivery) error {
					calls.Add(1)
					defer done.Add(1)
					select {
					case <-time.After(2 * time.Minute):
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				var extended, extendFailed atomic.Int64
				c := newConsumer(t, q, h, consumer.Options{
					Concurrency: 2, // a free slot to take a redelivery
					Heartbeat:   tt.heartbeat,
					Hooks: consumer.Hooks{
						Extended:     func(ds []*queue.Delivery, _ time.Duration) { extended.Add(int64(len(ds))) },
						ExtendFailed: func(*queue.Delivery, error) { extendFailed.Add(1) },
					},
				})
				stop := start(t, c)
				time.Sleep(90 * time.Second)
				synctest.Wait()
				assert.Equal(t, tt.wantCalls, calls.Load(), "handler calls at 90 s")
				assert.Equal(t, tt.wantStats, stats(t, q), "queue at 90 s")
				for done.Load() < calls.Load() {
					time.Sleep(time.Second)
				}
				require.NoError(t, stop())
				if tt.wantExtend {
					assert.EqualValues(t, 1, calls.Load(), "never redelivered")
					// Extended when less than 10 s of 30 are left, checked
					// every 5 s: at 20 s, then every 25 s, to 120 s.
					assert.EqualValues(t, 4, extended.Load())
				} else {
					assert.Zero(t, extended.Load())
				}
				assert.Zero(t, extendFailed.Load())
				assert.Equal(t, queue.Stats{}, stats(t, q))
			})
		})
	}
}

// The heartbeat stops at the 12-hour cap: the message then comes back.
func TestConsumerHeartbeatStopsAtCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "cap", memory.QueueOptions{VisibilityTimeout: 30 * time.Second})
		send(t, q, []string{"endless"}, nil)
		t0 := time.Now()
		second := make(chan time.Duration, 1)
		var calls atomic.Int64
		h := func(ctx context.Context, d *queue.Delivery) error {
			if calls.Add(1) == 1 {
				time.Sleep(13 * time.Hour)
				return nil
			}
			second <- since(t0)
			return nil
		}
		var extendFailed atomic.Int64
		c := newConsumer(t, q, h, consumer.Options{
			Concurrency: 2,
			Hooks:       consumer.Hooks{ExtendFailed: func(*queue.Delivery, error) { extendFailed.Add(1) }},
		})
		stop := start(t, c)
		at := <-second
		assert.Greater(t, at, 12*time.Hour-30*time.Second)
		assert.LessOrEqual(t, at, 12*time.Hour)
		time.Sleep(2 * time.Hour) // the first handler returns; its ack is refused or ignored
		require.NoError(t, stop())
		assert.Zero(t, extendFailed.Load(), "the cap is not an error")
	})
}

var errBoom = errors.New("boom")

// A message failing three times is retried after the configured delays,
// then lands in the dead-letter queue: by the queue's redrive policy, or
// by the consumer's MaxAttempts.
func TestConsumerRetryThenDeadLetter(t *testing.T) {
	tests := []struct {
		name    string
		redrive bool
		// wantDLQAt is when the message reaches the dead-letter queue.
		wantDLQAt time.Duration
	}{
		{name: "redrive policy", redrive: true, wantDLQAt: 70 * time.Second}, // on the 4th receive: 10+20+40
		{name: "MaxAttempts", wantDLQAt: 30 * time.Second},                   // right after the 3rd failure
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dlq := newQueue(t, "jobs-dlq", memory.QueueOptions{})
				qo := memory.QueueOptions{}
				opts := consumer.Options{Retry: consumer.Retry{
					Backoff: backoff.Exponential{Initial: 10 * time.Second, Jitter: backoff.NoJitter},
				}}
				if tt.redrive {
					qo.RedrivePolicy = &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: 3}
				} else {
					opts.Retry.MaxAttempts = 3
					opts.Retry.DeadLetter = dlq
				}
				q := newQueue(t, "jobs", qo)
				send(t, q, []string{"poison"}, nil)
				t0 := time.Now()
				var mu sync.Mutex
				var at []time.Duration
				var counts []int
				h := func(ctx context.Context, d *queue.Delivery) error {
					mu.Lock()
					defer mu.Unlock()
					at = append(at, since(t0))
					counts = append(counts, d.ReceiveCount)
					return errBoom
				}
				var deadLettered atomic.Int64
				opts.Hooks.DeadLettered = func(d *queue.Delivery, cause error) {
					assert.ErrorIs(t, cause, errBoom)
					deadLettered.Add(1)
				}
				c := newConsumer(t, q, h, opts)
				stop := start(t, c)

				time.Sleep(tt.wantDLQAt - time.Second)
				synctest.Wait()
				assert.Zero(t, stats(t, dlq).Visible, "not dead-lettered yet")
				time.Sleep(2 * time.Second)
				synctest.Wait()
				assert.Equal(t, 1, stats(t, dlq).Visible, "dead-lettered")
				require.NoError(t, stop())

				assert.Equal(t, []time.Duration{0, 10 * time.Second, 30 * time.Second}, at, "handler calls")
				assert.Equal(t, []int{1, 2, 3}, counts, "receive counts")
				assert.Equal(t, queue.Stats{}, stats(t, q), "gone from the queue")
				if !tt.redrive {
					assert.EqualValues(t, 1, deadLettered.Load())
				}
				ds, err := dlq.Receive(context.Background(), queue.ReceiveOptions{NoWait: true})
				require.NoError(t, err)
				require.Len(t, ds, 1)
				assert.Equal(t, "poison", string(ds[0].Body))
			})
		})
	}
}

func TestConsumerPermanentError(t *testing.T) {
	tests := []struct {
		name         string
		deadLetter   bool
		action       consumer.PermanentAction
		wantCalls    int
		wantInDLQ    int
		wantRequeued bool
	}{
		{name: "dead letter", deadLetter: true, wantCalls: 1, wantInDLQ: 1},
		{name: "no dead letter: retried", wantCalls: 2, wantRequeued: true},
		{name: "no dead letter, DropPermanent: dropped", action: consumer.DropPermanent, wantCalls: 1},
		{name: "dead letter, DropPermanent: dropped", deadLetter: true, action: consumer.DropPermanent, wantCalls: 1},
		{name: "dead letter, RetryPermanent: retried", deadLetter: true, action: consumer.RetryPermanent, wantCalls: 2, wantRequeued: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dlq := newQueue(t, "perm-dlq", memory.QueueOptions{})
				q := newQueue(t, "perm", memory.QueueOptions{})
				send(t, q, []string{"bad"}, nil)
				var calls atomic.Int64
				h := func(ctx context.Context, d *queue.Delivery) error {
					calls.Add(1)
					return consumer.Permanent(fmt.Errorf("parse: %w", errBoom))
				}
				opts := consumer.Options{Retry: consumer.Retry{
					Backoff:   backoff.Exponential{Initial: 10 * time.Second, Jitter: backoff.NoJitter},
					Permanent: tt.action,
				}}
				if tt.deadLetter {
					opts.Retry.DeadLetter = dlq
				}
				var failed []error
				opts.Hooks.Failed = func(d *queue.Delivery, err error) { failed = append(failed, err) }
				c := newConsumer(t, q, h, opts)
				stop := start(t, c)
				time.Sleep(15 * time.Second)
				require.NoError(t, stop())
				assert.EqualValues(t, tt.wantCalls, calls.Load())
				assert.Equal(t, tt.wantInDLQ, stats(t, dlq).Visible)
				assert.Equal(t, tt.wantRequeued, stats(t, q) != queue.Stats{})
				require.NotEmpty(t, failed)
				assert.ErrorIs(t, failed[0], consumer.ErrPermanent)
				assert.ErrorIs(t, failed[0], errBoom)
			})
		})
	}
}

// A message received more times than MaxAttempts (its earlier consumers
// crashed) goes to the dead-letter sender without running the handler.
func TestConsumerExhaustedBeforeHandling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dlq := newQueue(t, "ex-dlq", memory.QueueOptions{})
		q := newQueue(t, "ex", memory.QueueOptions{})
		send(t, q, []string{"crasher"}, nil)
		for range 3 { // three consumers that died holding it
			ds, err := q.Receive(context.Background(), queue.ReceiveOptions{NoWait: true})
			require.NoError(t, err)
			require.NoError(t, q.Nack(context.Background(), 0, ds...))
		}
		var calls atomic.Int64
		var cause error
		c := newConsumer(t, q, func(context.Context, *queue.Delivery) error { calls.Add(1); return nil },
			consumer.Options{Retry: consumer.Retry{MaxAttempts: 3, DeadLetter: dlq},
				Hooks: consumer.Hooks{DeadLettered: func(_ *queue.Delivery, err error) { cause = err }}})
		stop := start(t, c)
		time.Sleep(2 * time.Second)
		require.NoError(t, stop())
		assert.Zero(t, calls.Load())
		assert.ErrorIs(t, cause, consumer.ErrExhausted)
		assert.Equal(t, 1, stats(t, dlq).Visible)
		assert.Equal(t, queue.Stats{}, stats(t, q))
	})
}

func TestConsumerPanicAndTimeoutNack(t *testing.T) {
	tests := []struct {
		name    string
		first   consumer.Handler
		wantErr func(t *testing.T, err error)
	}{
		{
			name:  "panic",
			first: func(context.Context, *queue.Delivery) error { panic("kaboom") },
			wantErr: func(t *testing.T, err error) {
				var p *consumer.PanicError
				require.ErrorAs(t, err, &p)
				assert.Equal(t, "kaboom", p.Value)
				assert.Contains(t, string(p.Stack), "consumer_test.go")
			},
		},
		{
			name: "timeout",
			first: func(ctx context.Context, _ *queue.Delivery) error {
				<-ctx.Done()
				return ctx.Err()
			},
			wantErr: func(t *testing.T, err error) { assert.ErrorIs(t, err, context.DeadlineExceeded) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := newQueue(t, "pt", memory.QueueOptions{})
				send(t, q, []string{"job"}, nil)
				t0 := time.Now()
				var calls []time.Duration
				var counts []int
				done := make(chan struct{})
				h := func(ctx context.Context, d *queue.Delivery) error {
					calls = append(calls, since(t0))
					counts = append(counts, d.ReceiveCount)
					if len(calls) == 1 {
						return tt.first(ctx, d)
					}
					close(done)
					return nil
				}
				var failed []error
				var panics []any
				c := newConsumer(t, q, consumer.Chain(h, consumer.Timeout(5*time.Second)), consumer.Options{
					Concurrency: 1,
					Retry:       consumer.Retry{Backoff: backoff.Exponential{Initial: 3 * time.Second, Jitter: backoff.NoJitter}},
					Hooks: consumer.Hooks{
						Failed: func(_ *queue.Delivery, err error) { failed = append(failed, err) },
						Panic:  func(ds []*queue.Delivery, p *consumer.PanicError) { panics = append(panics, p.Value) },
					},
				})
				stop := start(t, c)
				<-done
				require.NoError(t, stop())
				require.Len(t, failed, 1)
				tt.wantErr(t, failed[0])
				assert.Equal(t, []int{1, 2}, counts, "redelivered after the nack")
				wantRetry := 3 * time.Second
				if tt.name == "timeout" {
					wantRetry += 5 * time.Second
				} else {
					assert.Equal(t, []any{"kaboom"}, panics)
				}
				assert.Equal(t, []time.Duration{0, wantRetry}, calls)
				assert.Equal(t, queue.Stats{}, stats(t, q))
			})
		})
	}
}

// Shutting down with handlers in flight loses no ack: Run returns after
// they finish, with their messages deleted.
func TestConsumerShutdownWaitsAndFlushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "shutdown", memory.QueueOptions{})
		r := &countingReceiver{Queue: q}
		send(t, q, bodies(5), nil)
		var acked atomic.Int64
		c := newConsumer(t, r, func(ctx context.Context, d *queue.Delivery) error {
			time.Sleep(10500 * time.Millisecond)
			return nil
		}, consumer.Options{Hooks: consumer.Hooks{Acked: func(ds []*queue.Delivery) { acked.Add(int64(len(ds))) }}})
		stop := start(t, c)
		time.Sleep(time.Second)
		t0 := time.Now()
		require.NoError(t, stop())
		assert.Equal(t, 9500*time.Millisecond, since(t0), "waited for the handlers")
		assert.EqualValues(t, 5, acked.Load())
		assert.Equal(t, []int{5}, r.acks(), "one ack call at shutdown")
		assert.Equal(t, queue.Stats{}, stats(t, q))
	})
}

// Handlers still running after the drain timeout get their context
// cancelled; their messages and those not started are given back at once.
// With concurrency 1 the handler runs on the polling goroutine: the drain
// timer still fires.
func TestConsumerShutdownDrainTimeout(t *testing.T) {
	for _, concurrency := range []int{1, 10} {
		t.Run(fmt.Sprint("concurrency ", concurrency), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := newQueue(t, "drain.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
				send(t, q, []string{"a1", "a2", "a3"}, func(int) string { return "a" })
				var calls atomic.Int64
				var cause error
				c := newConsumer(t, q, func(ctx context.Context, d *queue.Delivery) error {
					calls.Add(1)
					<-ctx.Done()
					cause = context.Cause(ctx)
					return ctx.Err()
				}, consumer.Options{Concurrency: concurrency, ShutdownTimeout: 5 * time.Second})
				stop := start(t, c)
				time.Sleep(time.Second)
				t0 := time.Now()
				require.NoError(t, stop())
				assert.Equal(t, 5*time.Second, since(t0))
				assert.EqualValues(t, 1, calls.Load(), "a2 and a3 wait behind a1")
				assert.ErrorIs(t, cause, context.Canceled)
				assert.Equal(t, queue.Stats{Visible: 3}, stats(t, q), "all three visible again at once")
				ds, err := q.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 10, NoWait: true})
				require.NoError(t, err)
				var got []string
				for _, d := range ds {
					got = append(got, string(d.Body))
				}
				assert.Equal(t, []string{"a1", "a2", "a3"}, got, "in order")
			})
		})
	}
}

// A negative backoff delay leaves a failed message in flight: it comes back
// when its visibility timeout passes.
func TestConsumerLazyNack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "lazy", memory.QueueOptions{VisibilityTimeout: 30 * time.Second})
		send(t, q, []string{"x"}, nil)
		t0 := time.Now()
		var at []time.Duration
		var nacked atomic.Int64
		c := newConsumer(t, q, func(context.Context, *queue.Delivery) error {
			at = append(at, since(t0))
			if len(at) == 1 {
				return errBoom
			}
			return nil
		}, consumer.Options{
			Concurrency: 1,
			Retry:       consumer.Retry{Backoff: backoff.Func(func(int) time.Duration { return -1 })},
			Hooks:       consumer.Hooks{Nacked: func([]*queue.Delivery, time.Duration) { nacked.Add(1) }},
		})
		stop := start(t, c)
		time.Sleep(time.Minute)
		require.NoError(t, stop())
		assert.Equal(t, []time.Duration{0, 30 * time.Second}, at)
		assert.Zero(t, nacked.Load())
	})
}

// On a FIFO queue an expired receipt makes Extend and Ack fail: both are
// reported once and not retried, and the message is delivered again.
func TestConsumerStaleReceipt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "stale.fifo", memory.QueueOptions{ContentBasedDeduplication: true, VisibilityTimeout: 10 * time.Second})
		send(t, q, []string{"x"}, func(int) string { return "g" })
		var counts []int
		var mu sync.Mutex
		var extendErrs, ackErrs []error
		var ackRetry []bool
		c := newConsumer(t, q, func(ctx context.Context, d *queue.Delivery) error {
			counts = append(counts, d.ReceiveCount)
			if d.ReceiveCount == 1 {
				time.Sleep(40 * time.Second)
			} else {
				time.Sleep(time.Second) // the first ack comes first
			}
			return nil
		}, consumer.Options{
			Concurrency: 1,
			Heartbeat:   15 * time.Second, // too late: the receipt expires first
			Hooks: consumer.Hooks{
				ExtendFailed: func(_ *queue.Delivery, err error) {
					mu.Lock()
					defer mu.Unlock()
					extendErrs = append(extendErrs, err)
				},
				AckFailed: func(_ *queue.Delivery, err error, retry bool) {
					mu.Lock()
					defer mu.Unlock()
					ackErrs = append(ackErrs, err)
					ackRetry = append(ackRetry, retry)
				},
			},
		})
		stop := start(t, c)
		time.Sleep(time.Minute)
		require.NoError(t, stop())
		assert.Equal(t, []int{1, 2}, counts)
		require.Len(t, extendErrs, 1)
		assert.ErrorIs(t, extendErrs[0], postroom.ErrReceiptExpired)
		require.Len(t, ackErrs, 1)
		assert.ErrorIs(t, ackErrs[0], postroom.ErrReceiptExpired)
		assert.Equal(t, []bool{false}, ackRetry)
		assert.Equal(t, queue.Stats{}, stats(t, q))
	})
}

// Acks reach the queue in batches of ten, or after the interval.
func TestConsumerAckBatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "acks", memory.QueueOptions{})
		r := &countingReceiver{Queue: q}
		send(t, q, bodies(100), nil)
		var handled atomic.Int64
		c := newConsumer(t, r, func(context.Context, *queue.Delivery) error {
			time.Sleep(100 * time.Millisecond)
			handled.Add(1)
			return nil
		}, consumer.Options{Concurrency: 10, Acks: consumer.Acks{Interval: 5 * time.Second}})
		stop := start(t, c)
		for handled.Load() < 100 {
			time.Sleep(100 * time.Millisecond)
		}
		synctest.Wait()
		assert.Equal(t, queue.Stats{}, stats(t, q), "acked before the shutdown")
		require.NoError(t, stop())
		sizes := r.acks()
		total := 0
		for _, n := range sizes {
			assert.LessOrEqual(t, n, 10)
			total += n
		}
		assert.Equal(t, 100, total)
		assert.Len(t, sizes, 10, "ten calls of ten: %v", sizes)

		// A lone message waits the interval.
		send(t, q, []string{"lone"}, nil)
		c = newConsumer(t, r, noop, consumer.Options{Acks: consumer.Acks{Interval: 2 * time.Second}})
		stop = start(t, c)
		time.Sleep(1900 * time.Millisecond)
		synctest.Wait()
		assert.Equal(t, queue.Stats{InFlight: 1}, stats(t, q), "not acked yet")
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		assert.Equal(t, queue.Stats{}, stats(t, q), "acked after the interval")
		require.NoError(t, stop())
	})
}

// A failed delete is reported and retried; a stale receipt is reported and
// not retried.
func TestConsumerAckFailures(t *testing.T) {
	errThrottled := errors.New("throttled")
	tests := []struct {
		name      string
		ackErr    func(n int, ds []*queue.Delivery) error
		wantRetry []bool
		wantLeft  queue.Stats
		wantCalls int
	}{
		{
			name: "transient",
			ackErr: func(n int, ds []*queue.Delivery) error {
				if n == 1 {
					return errThrottled
				}
				return nil
			},
			wantRetry: []bool{true, true},
			wantCalls: 2,
		},
		{
			name: "partial",
			ackErr: func(n int, ds []*queue.Delivery) error {
				if n == 1 {
					return &postroom.BatchError{Errs: []error{nil, errThrottled}}
				}
				return nil
			},
			wantRetry: []bool{true},
			wantCalls: 2,
		},
		{
			name: "stale receipt",
			ackErr: func(n int, ds []*queue.Delivery) error {
				return &postroom.BatchError{Errs: []error{nil, &postroom.Error{Pkg: "queue_test", Op: "ack", Kind: postroom.ErrReceiptInvalid}}}
			},
			wantRetry: []bool{false},
			wantLeft:  queue.Stats{InFlight: 1},
			wantCalls: 1,
		},
		{
			name:      "always failing",
			ackErr:    func(int, []*queue.Delivery) error { return errThrottled },
			wantRetry: []bool{true, true, true, true, false, true, true, true, true, false},
			wantLeft:  queue.Stats{InFlight: 2},
			wantCalls: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := newQueue(t, "ackfail", memory.QueueOptions{VisibilityTimeout: time.Hour})
				r := &countingReceiver{Queue: q, ackErr: tt.ackErr}
				send(t, q, bodies(2), nil)
				var mu sync.Mutex
				var retries []bool
				c := newConsumer(t, r, noop, consumer.Options{
					Concurrency: 2,
					Hooks: consumer.Hooks{AckFailed: func(d *queue.Delivery, err error, retry bool) {
						mu.Lock()
						defer mu.Unlock()
						assert.Error(t, err)
						retries = append(retries, retry)
					}},
				})
				stop := start(t, c)
				time.Sleep(time.Minute)
				require.NoError(t, stop())
				if tt.name == "always failing" {
					// Two messages fail in each of the five calls.
					assert.Len(t, retries, 10)
				} else {
					assert.Equal(t, tt.wantRetry, retries)
				}
				assert.Len(t, r.acks(), tt.wantCalls)
				assert.Equal(t, tt.wantLeft, stats(t, q))
			})
		})
	}
}

// Receive errors are reported and retried with growing pauses; a closed
// queue stops Run with its error.
func TestConsumerPollErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "pollerr", memory.QueueOptions{})
		errDown := errors.New("service unavailable")
		r := &countingReceiver{Queue: q, recvErr: func(n int) error {
			if n <= 3 {
				return errDown
			}
			return nil
		}}
		send(t, q, []string{"x"}, nil)
		var pauses []time.Duration
		handled := make(chan struct{})
		c := newConsumer(t, r, func(context.Context, *queue.Delivery) error { close(handled); return nil },
			consumer.Options{
				Hooks: consumer.Hooks{PollError: func(err error, pause time.Duration) {
					assert.ErrorIs(t, err, errDown)
					pauses = append(pauses, pause)
				}},
			})
		t0 := time.Now()
		stop := start(t, c)
		<-handled
		// 1 s doubling, with equal jitter: each pause is half its step plus
		// up to the other half.
		require.Len(t, pauses, 3)
		var total time.Duration
		for i, p := range pauses {
			step := time.Second << i
			assert.GreaterOrEqual(t, p, step/2, "pause %d", i)
			assert.LessOrEqual(t, p, step, "pause %d", i)
			total += p
		}
		assert.Equal(t, total, since(t0))
		require.NoError(t, stop())

		c = newConsumer(t, q, noop, consumer.Options{})
		done := make(chan error, 1)
		go func() { done <- c.Run(context.Background()) }()
		synctest.Wait()
		require.NoError(t, q.Close())
		assert.ErrorIs(t, <-done, postroom.ErrClosed)
	})
}

// Empty polls are reported; the long poll is cancelled at shutdown.
func TestConsumerEmptyPollAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "empty", memory.QueueOptions{})
		var empty atomic.Int64
		c := newConsumer(t, q, noop, consumer.Options{
			WaitTime: 20 * time.Second,
			Hooks:    consumer.Hooks{EmptyPoll: func() { empty.Add(1) }},
		})
		stop := start(t, c)
		time.Sleep(50 * time.Second)
		t0 := time.Now()
		require.NoError(t, stop())
		assert.Zero(t, since(t0), "the long poll is cancelled")
		assert.EqualValues(t, 2, empty.Load())
	})
}

func TestChainOrder(t *testing.T) {
	var order []string
	mw := func(name string) consumer.Middleware {
		return func(next consumer.Handler) consumer.Handler {
			return func(ctx context.Context, d *queue.Delivery) error {
				order = append(order, name+" in")
				err := next(ctx, d)
				order = append(order, name+" out")
				return err
			}
		}
	}
	h := consumer.Chain(func(context.Context, *queue.Delivery) error {
		order = append(order, "handler")
		return nil
	}, mw("first"), mw("second"))
	require.NoError(t, h(context.Background(), &queue.Delivery{}))
	assert.Equal(t, []string{"first in", "second in", "handler", "second out", "first out"}, order)
}

// Chain wraps the handler in middleware, first outermost.
func TestConsumerMiddleware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "mw", memory.QueueOptions{})
		send(t, q, []string{"x"}, nil)
		var order []string
		tag := func(name string) consumer.Middleware {
			return func(next consumer.Handler) consumer.Handler {
				return func(ctx context.Context, d *queue.Delivery) error {
					order = append(order, name)
					return next(ctx, d)
				}
			}
		}
		c := newConsumer(t, q, consumer.Chain(func(context.Context, *queue.Delivery) error {
			order = append(order, "handler")
			return nil
		}, tag("outer"), tag("inner")), consumer.Options{})
		stop := start(t, c)
		time.Sleep(time.Second)
		require.NoError(t, stop())
		assert.Equal(t, []string{"outer", "inner", "handler"}, order)
	})
}

// flakySender fails its first n sends.
type flakySender struct {
	queue.Sender
	mu   sync.Mutex
	fail int
}

func (s *flakySender) Send(ctx context.Context, msgs ...*queue.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return errors.New("dead-letter queue unavailable")
	}
	return s.Sender.Send(ctx, msgs...)
}

// A failed dead-letter send is reported and the message retried: it is
// never lost.
func TestConsumerDeadLetterSendFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dlq := newQueue(t, "dlq-down", memory.QueueOptions{})
		q := newQueue(t, "src", memory.QueueOptions{})
		send(t, q, []string{"bad"}, nil)
		var sendErrs, dead atomic.Int64
		c := newConsumer(t, q, func(context.Context, *queue.Delivery) error {
			return consumer.Permanent(errBoom)
		}, consumer.Options{
			Retry: consumer.Retry{
				DeadLetter: &flakySender{Sender: dlq, fail: 1},
				Backoff:    backoff.Exponential{Initial: 5 * time.Second, Jitter: backoff.NoJitter},
			},
			Hooks: consumer.Hooks{
				DeadLetterFailed: func(*queue.Delivery, error) { sendErrs.Add(1) },
				DeadLettered:     func(*queue.Delivery, error) { dead.Add(1) },
			},
		})
		stop := start(t, c)
		time.Sleep(4 * time.Second)
		synctest.Wait()
		assert.Equal(t, queue.Stats{InFlight: 1}, stats(t, q), "nacked for a retry")
		time.Sleep(2 * time.Second)
		require.NoError(t, stop())
		assert.EqualValues(t, 1, sendErrs.Load())
		assert.EqualValues(t, 1, dead.Load())
		assert.Equal(t, 1, stats(t, dlq).Visible)
		assert.Equal(t, queue.Stats{}, stats(t, q))
	})
}

// nackFailing fails every Nack.
type nackFailing struct{ *memory.Queue }

func (nackFailing) Nack(context.Context, time.Duration, ...*queue.Delivery) error {
	return errors.New("throttled")
}

// A failed nack is reported; the message comes back when its visibility
// timeout passes.
func TestConsumerNackFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "nackfail", memory.QueueOptions{VisibilityTimeout: 20 * time.Second})
		send(t, q, []string{"x"}, nil)
		t0 := time.Now()
		var at []time.Duration
		var nackErrs atomic.Int64
		c := newConsumer(t, nackFailing{q}, func(context.Context, *queue.Delivery) error {
			at = append(at, since(t0))
			if len(at) == 1 {
				return errBoom
			}
			return nil
		}, consumer.Options{
			Concurrency: 1,
			Hooks:       consumer.Hooks{NackFailed: func(*queue.Delivery, error) { nackErrs.Add(1) }},
		})
		stop := start(t, c)
		time.Sleep(30 * time.Second)
		require.NoError(t, stop())
		assert.EqualValues(t, 1, nackErrs.Load())
		assert.Equal(t, []time.Duration{0, 20 * time.Second}, at)
	})
}
