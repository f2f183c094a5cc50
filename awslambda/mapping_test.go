package awslambda_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/awslambda"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

// newQueue makes a queue with a 30-second visibility timeout and, when
// maxReceive > 0, a redrive policy to a dead-letter queue.
func newQueue(t *testing.T, name string, maxReceive int) (q, dlq *memory.Queue) {
	t.Helper()
	w := memory.NewWorld(memory.WorldOptions{AccountID: "111122223333", Region: "eu-west-1"})
	t.Cleanup(func() { _ = w.Close() })
	opts := memory.QueueOptions{VisibilityTimeout: 30 * time.Second}
	if maxReceive > 0 {
		var err error
		dlqName := "dlq"
		if len(name) > 5 && name[len(name)-5:] == ".fifo" {
			dlqName = "dlq.fifo"
		}
		dlq, err = w.NewQueue(dlqName, memory.QueueOptions{})
		require.NoError(t, err)
		opts.RedrivePolicy = &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: maxReceive}
	}
	q, err := w.NewQueue(name, opts)
	require.NoError(t, err)
	return q, dlq
}

// start runs m until the test's end.
func start(t *testing.T, m *awslambda.Mapping) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
}

func send(t *testing.T, q queue.Sender, msgs ...*queue.Message) {
	t.Helper()
	require.NoError(t, q.Send(context.Background(), msgs...))
}

func body(s string) *queue.Message { return &queue.Message{Body: []byte(s)} }

// invocation is what the Invoked hook saw.
type invocation struct {
	at     time.Duration
	bodies []string
	failed []string
	err    error
}

// invocations records a mapping's invocations.
type invocations struct {
	start time.Time
	mu    sync.Mutex
	list  []invocation
}

func newInvocations() *invocations { return &invocations{start: time.Now()} }

func (iv *invocations) hook(ds []*queue.Delivery, failed []string, err error) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	in := invocation{at: time.Since(iv.start), failed: failed, err: err}
	for _, d := range ds {
		in.bodies = append(in.bodies, string(d.Body))
	}
	iv.list = append(iv.list, in)
}

func (iv *invocations) get() []invocation {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	return append([]invocation(nil), iv.list...)
}

// The function gets the event Lambda builds, and the adapter turns it back
// into the delivery the queue gave.
func TestMappingEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _ := newQueue(t, "orders", 0)
		var (
			got   events.SQSEvent
			lc    *lambdacontext.LambdaContext
			seen  *queue.Delivery
			calls int
		)
		h := awslambda.SQSHandler(func(ctx context.Context, d *queue.Delivery) error {
			seen = d
			return nil
		}, awslambda.SQSOptions{})
		fn := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			calls++
			got = ev
			lc, _ = lambdacontext.FromContext(ctx)
			return h(ctx, ev)
		}
		m, err := awslambda.NewMapping(q, fn, awslambda.MappingOptions{MaximumConcurrency: 1})
		require.NoError(t, err)
		start(t, m)

		msg := &queue.Message{Body: []byte("hello world"), Attributes: queue.Attributes{"attribName1": queue.String("attribValue 1")}}
		send(t, q, msg)
		synctest.Wait()
		require.Equal(t, 1, calls)
		require.Len(t, got.Records, 1)
		r := got.Records[0]
		assert.Equal(t, msg.ID, r.MessageId)
		assert.Equal(t, "aws:sqs", r.EventSource)
		assert.Equal(t, "arn:aws:sqs:eu-west-1:111122223333:orders", r.EventSourceARN)
		assert.Equal(t, "eu-west-1", r.AWSRegion)
		assert.Equal(t, "5eb63bbbe01eeed093cb22bb8f5acdc3", r.Md5OfBody)
		assert.Equal(t, "19e27d4e946b072f3f58da80d94fd778", r.Md5OfMessageAttributes) // SQS's own value
		assert.Equal(t, "1", r.Attributes["ApproximateReceiveCount"])
		assert.Equal(t, strconv.FormatInt(time.Now().UnixMilli(), 10), r.Attributes["SentTimestamp"])
		assert.Equal(t, "String", r.MessageAttributes["attribName1"].DataType)
		assert.Equal(t, []string{}, r.MessageAttributes["attribName1"].StringListValues)
		require.NotNil(t, lc)
		assert.Len(t, lc.AwsRequestID, 36)

		require.NotNil(t, seen)
		assert.Equal(t, msg.ID, seen.ID)
		assert.Equal(t, msg.Attributes, seen.Attributes)
		assert.Equal(t, 1, seen.ReceiveCount)
		assert.Equal(t, time.Now().UnixMilli(), seen.SentAt.UnixMilli())

		st, err := q.Stats(context.Background())
		require.NoError(t, err)
		assert.Equal(t, queue.Stats{}, st, "the successful message is deleted")
	})
}

func TestMappingBatchingWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _ := newQueue(t, "orders", 0)
		iv := newInvocations()
		ok := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, nil
		}
		m, err := awslambda.NewMapping(q, ok, awslambda.MappingOptions{
			MaximumConcurrency: 1, BatchSize: 25, MaximumBatchingWindow: 10 * time.Second,
			Hooks: awslambda.MappingHooks{Invoked: iv.hook},
		})
		require.NoError(t, err)
		start(t, m)

		// Three messages wait for the window to close.
		send(t, q, body("a"), body("b"), body("c"))
		time.Sleep(9 * time.Second)
		synctest.Wait()
		assert.Empty(t, iv.get())
		time.Sleep(2 * time.Second)
		synctest.Wait()
		require.Len(t, iv.get(), 1)
		assert.Equal(t, invocation{at: 10 * time.Second, bodies: []string{"a", "b", "c"}}, iv.get()[0])

		// A full batch goes at once, gathered from three receives.
		for i := range 3 {
			var batch []*queue.Message
			for j := range 10 {
				batch = append(batch, body(fmt.Sprint(i*10+j)))
			}
			send(t, q, batch...)
		}
		synctest.Wait()
		got := iv.get()
		require.Len(t, got, 2)
		assert.Equal(t, 11*time.Second, got[1].at)
		assert.Len(t, got[1].bodies, 25)
		time.Sleep(11 * time.Second)
		synctest.Wait()
		got = iv.get()
		require.Len(t, got, 3)
		assert.Equal(t, 21*time.Second, got[2].at)
		assert.Len(t, got[2].bodies, 5)
	})
}

// Without a window, the function gets what one receive returns.
func TestMappingNoWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _ := newQueue(t, "orders", 0)
		iv := newInvocations()
		ok := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, nil
		}
		m, err := awslambda.NewMapping(q, ok, awslambda.MappingOptions{MaximumConcurrency: 1, BatchSize: 4,
			Hooks: awslambda.MappingHooks{Invoked: iv.hook}})
		require.NoError(t, err)
		start(t, m)
		send(t, q, body("a"), body("b"), body("c"), body("d"), body("e"))
		synctest.Wait()
		got := iv.get()
		require.Len(t, got, 2)
		assert.Equal(t, []string{"a", "b", "c", "d"}, got[0].bodies)
		assert.Equal(t, []string{"e"}, got[1].bodies)
		assert.Zero(t, got[1].at)
	})
}

// With ReportBatchItemFailures a failing message comes back after its
// visibility timeout, alone, until the redrive policy moves it to the
// dead-letter queue; the others are deleted at once.
func TestMappingRedriveToDLQ(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, dlq := newQueue(t, "orders", 3)
		iv := newInvocations()
		var mu sync.Mutex
		var attempts []string
		fn := awslambda.SQSHandler(func(ctx context.Context, d *queue.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, fmt.Sprintf("%s#%d@%v", d.Body, d.ReceiveCount, time.Since(iv.start)))
			if string(d.Body) == "bad" {
				return errors.New("cannot handle")
			}
			return nil
		}, awslambda.SQSOptions{})
		m, err := awslambda.NewMapping(q, fn, awslambda.MappingOptions{MaximumConcurrency: 1, ReportBatchItemFailures: true,
			Hooks: awslambda.MappingHooks{Invoked: iv.hook}})
		require.NoError(t, err)
		send(t, q, body("ok1"), body("bad"), body("ok2"))
		start(t, m)

		time.Sleep(100 * time.Second)
		synctest.Wait()
		mu.Lock()
		assert.Equal(t, []string{"ok1#1@0s", "bad#1@0s", "ok2#1@0s", "bad#2@30s", "bad#3@1m0s"}, attempts)
		mu.Unlock()
		got := iv.get()
		require.Len(t, got, 3)
		assert.Len(t, got[0].failed, 1)
		assert.NoError(t, got[0].err)

		st, err := q.Stats(context.Background())
		require.NoError(t, err)
		assert.Equal(t, queue.Stats{}, st)
		ds, err := dlq.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 10, NoWait: true})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.Equal(t, "bad", string(ds[0].Body))
		assert.Equal(t, q.ARN(), ds[0].DeadLetterSource)
	})
}

// An invocation error returns the whole batch, successes included.
func TestMappingInvocationError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _ := newQueue(t, "orders", 0)
		iv := newInvocations()
		var handled []string
		fn := awslambda.SQSHandler(func(ctx context.Context, d *queue.Delivery) error {
			handled = append(handled, fmt.Sprintf("%s#%d", d.Body, d.ReceiveCount))
			if string(d.Body) == "flaky" && d.ReceiveCount == 1 {
				return errors.New("not yet")
			}
			return nil
		}, awslambda.SQSOptions{NoBatchItemFailures: true})
		m, err := awslambda.NewMapping(q, fn, awslambda.MappingOptions{MaximumConcurrency: 1, MaximumBatchingWindow: time.Second,
			Hooks: awslambda.MappingHooks{Invoked: iv.hook}})
		require.NoError(t, err)
		send(t, q, body("ok"), body("flaky"), body("later"))
		start(t, m)

		time.Sleep(45 * time.Second)
		synctest.Wait()
		assert.Equal(t, []string{"ok#1", "flaky#1", "ok#2", "flaky#2", "later#2"}, handled)
		got := iv.get()
		require.Len(t, got, 2)
		assert.ErrorContains(t, got[0].err, "awslambda: invoke: awslambda: handle message")
		assert.Equal(t, time.Second, got[0].at)
		assert.Equal(t, 31*time.Second, got[1].at)
		assert.NoError(t, got[1].err)
		st, err := q.Stats(context.Background())
		require.NoError(t, err)
		assert.Equal(t, queue.Stats{}, st)
	})
}

// On a FIFO queue the adapter stops at the first failure: the failed
// message and those after it come back together, in order.
func TestMappingFIFOPartialFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _ := newQueue(t, "orders.fifo", 0)
		var handled []string
		fn := awslambda.SQSHandler(func(ctx context.Context, d *queue.Delivery) error {
			handled = append(handled, fmt.Sprintf("%s#%d", d.Body, d.ReceiveCount))
			if string(d.Body) == "a2" && d.ReceiveCount == 1 {
				return errors.New("not yet")
			}
			return nil
		}, awslambda.SQSOptions{})
		iv := newInvocations()
		m, err := awslambda.NewMapping(q, fn, awslambda.MappingOptions{ReportBatchItemFailures: true, MaximumBatchingWindow: time.Second,
			Hooks: awslambda.MappingHooks{Invoked: iv.hook}})
		require.NoError(t, err)
		msg := func(group, b string) *queue.Message {
			return &queue.Message{Body: []byte(b), GroupID: group, DeduplicationID: b}
		}
		send(t, q, msg("g1", "a1"), msg("g1", "a2"), msg("g1", "a3"))
		start(t, m)

		time.Sleep(40 * time.Second)
		synctest.Wait()
		assert.Equal(t, []string{"a1#1", "a2#1", "a2#2", "a3#2"}, handled)
		got := iv.get()
		require.Len(t, got, 2)
		assert.Equal(t, []string{"a1", "a2", "a3"}, got[0].bodies)
		assert.Len(t, got[0].failed, 2)
		assert.Equal(t, []string{"a2", "a3"}, got[1].bodies)
		assert.Equal(t, 31*time.Second, got[1].at)
	})
}

func TestMappingInvocationFailures(t *testing.T) {
	tests := []struct {
		name    string
		fn      awslambda.SQSFunction
		wantErr string
		kind    error
	}{
		{"unknown item", func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "nope"}}}, nil
		}, `awslambda: invoke: invalid argument: batch item failure "nope" names no message of the batch`, postroom.ErrInvalid},
		{"empty item", func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{}}}, nil
		}, `awslambda: invoke: invalid argument: batch item failure "" names no message of the batch`, postroom.ErrInvalid},
		{"timeout", func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			if _, ok := ctx.Deadline(); !ok {
				return events.SQSEventResponse{}, errors.New("no deadline")
			}
			time.Sleep(5 * time.Second)
			return events.SQSEventResponse{}, nil
		}, "awslambda: invoke: Task timed out after 2.00 seconds", nil},
		{"panic", func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			panic("crash")
		}, "awslambda: invoke: consumer: handler panicked: crash", nil},
		{"error", func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, errors.New("boom")
		}, "awslambda: invoke: boom", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q, _ := newQueue(t, "orders", 0)
				iv := newInvocations()
				m, err := awslambda.NewMapping(q, tt.fn, awslambda.MappingOptions{MaximumConcurrency: 1, ReportBatchItemFailures: true,
					FunctionTimeout: 2 * time.Second, Hooks: awslambda.MappingHooks{Invoked: iv.hook}})
				require.NoError(t, err)
				send(t, q, body("a"), body("b"))
				start(t, m)
				time.Sleep(36 * time.Second)
				synctest.Wait()
				got := iv.get()
				require.Len(t, got, 2, "the whole batch comes back after the visibility timeout")
				assert.EqualError(t, got[0].err, tt.wantErr)
				if tt.kind != nil {
					assert.ErrorIs(t, got[0].err, tt.kind)
				}
				assert.ElementsMatch(t, []string{"a", "b"}, got[1].bodies)
			})
		})
	}
}

func TestMappingConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _ := newQueue(t, "orders", 0)
		var mu sync.Mutex
		running, most, total := 0, 0, 0
		fn := awslambda.SQSHandler(func(ctx context.Context, d *queue.Delivery) error {
			mu.Lock()
			running++
			total++
			most = max(most, running)
			mu.Unlock()
			time.Sleep(time.Second)
			mu.Lock()
			running--
			mu.Unlock()
			return nil
		}, awslambda.SQSOptions{})
		m, err := awslambda.NewMapping(q, fn, awslambda.MappingOptions{MaximumConcurrency: 3, BatchSize: 1})
		require.NoError(t, err)
		for i := range 9 {
			send(t, q, body(fmt.Sprint(i)))
		}
		start(t, m)
		time.Sleep(3*time.Second + time.Millisecond)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, 3, most)
		assert.Equal(t, 9, total)
	})
}

// Middleware built for the consumer runs unchanged under the mapping.
func TestMappingMiddleware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, dlq := newQueue(t, "orders", 1)
		slow := func(ctx context.Context, d *queue.Delivery) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Minute):
				return nil
			}
		}
		fn := awslambda.SQSHandler(consumer.Chain(slow, consumer.Timeout(time.Second)), awslambda.SQSOptions{})
		m, err := awslambda.NewMapping(q, fn, awslambda.MappingOptions{ReportBatchItemFailures: true, FunctionTimeout: 10 * time.Second})
		require.NoError(t, err)
		send(t, q, body("x"))
		start(t, m)
		time.Sleep(35 * time.Second)
		synctest.Wait()
		st, err := dlq.Stats(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 1, st.Visible, "timed out once, then dead-lettered on the next receive")
	})
}

func TestMappingStopsOnClosedQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _ := newQueue(t, "orders", 0)
		ok := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, nil
		}
		m, err := awslambda.NewMapping(q, ok, awslambda.MappingOptions{})
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- m.Run(context.Background()) }()
		synctest.Wait()
		require.NoError(t, q.Close())
		assert.ErrorIs(t, <-done, postroom.ErrClosed)
	})
}

func TestNewMappingInvalid(t *testing.T) {
	ok := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	}
	std, _ := newQueue(t, "orders", 0)
	fifo, _ := newQueue(t, "orders.fifo", 0)
	tests := []struct {
		name string
		q    queue.Receiver
		opts awslambda.MappingOptions
		want string
	}{
		{"FIFO batch", fifo, awslambda.MappingOptions{BatchSize: 11, MaximumBatchingWindow: time.Second}, "BatchSize 11: a FIFO queue takes 1 to 10"},
		{"standard batch", std, awslambda.MappingOptions{BatchSize: 10001, MaximumBatchingWindow: time.Second}, "BatchSize 10001: a standard queue takes 1 to 10000"},
		{"batch needs window", std, awslambda.MappingOptions{BatchSize: 11}, "BatchSize 11: more than 10 needs a MaximumBatchingWindow"},
		{"negative batch", std, awslambda.MappingOptions{BatchSize: -1}, "BatchSize -1"},
		{"window", std, awslambda.MappingOptions{MaximumBatchingWindow: 6 * time.Minute}, "MaximumBatchingWindow 6m0s: 0 to 5m0s"},
		{"concurrency", std, awslambda.MappingOptions{MaximumConcurrency: 1001}, "MaximumConcurrency 1001: 1 to 1000"},
		{"timeout", std, awslambda.MappingOptions{FunctionTimeout: time.Millisecond}, "FunctionTimeout 1ms: 1 s to 15m0s"},
		{"timeout over visibility", std, awslambda.MappingOptions{FunctionTimeout: time.Minute}, "queue visibility timeout 30s is less than the function timeout 1m0s"},
		{"ARN", std, awslambda.MappingOptions{EventSourceARN: "arn:aws:sns:us-east-1:1:t"}, `EventSourceARN "arn:aws:sns:us-east-1:1:t" is not an SQS queue ARN`},
		{"no ARN", struct{ queue.Receiver }{std}, awslambda.MappingOptions{}, "EventSourceARN is needed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := awslambda.NewMapping(tt.q, ok, tt.opts)
			assert.ErrorIs(t, err, postroom.ErrInvalid)
			assert.ErrorContains(t, err, "awslambda: new mapping: invalid argument: "+tt.want)
		})
	}
}

// On a FIFO queue a message group is in one invocation at a time, even
// when the receiver does not lock groups itself.
func TestMappingFIFOGroupsOneAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _ := newQueue(t, "orders", 0) // a standard queue: it does not lock groups
		var mu sync.Mutex
		running := map[string]int{}
		most := 0
		var order []string
		fn := awslambda.SQSHandler(func(ctx context.Context, d *queue.Delivery) error {
			mu.Lock()
			running[d.GroupID]++
			most = max(most, running[d.GroupID])
			order = append(order, string(d.Body))
			mu.Unlock()
			time.Sleep(time.Second)
			mu.Lock()
			running[d.GroupID]--
			mu.Unlock()
			return nil
		}, awslambda.SQSOptions{})
		m, err := awslambda.NewMapping(q, fn, awslambda.MappingOptions{
			MaximumConcurrency: 3, BatchSize: 1,
			EventSourceARN: "arn:aws:sqs:eu-west-1:111122223333:orders.fifo",
		})
		require.NoError(t, err)
		send(t, q, &queue.Message{Body: []byte("a"), GroupID: "g1"}, &queue.Message{Body: []byte("b"), GroupID: "g1"},
			&queue.Message{Body: []byte("c"), GroupID: "g2"})
		start(t, m)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, 1, most, "a group ran in two invocations at once: %v", order)
		assert.Len(t, order, 3)
	})
}

// flaky wraps a queue: its first receives fail as an unreachable service
// would, and its acks fail when ackErr is set.
type flaky struct {
	*memory.Queue
	mu           sync.Mutex
	receiveFails int
	ackErr       error
}

func (f *flaky) Receive(ctx context.Context, opts queue.ReceiveOptions) ([]*queue.Delivery, error) {
	f.mu.Lock()
	fail := f.receiveFails > 0
	f.receiveFails--
	f.mu.Unlock()
	if fail {
		return nil, &postroom.Error{Pkg: "test", Op: "receive", Kind: postroom.ErrUnavailable}
	}
	return f.Queue.Receive(ctx, opts)
}

func (f *flaky) Ack(ctx context.Context, ds ...*queue.Delivery) error {
	if f.ackErr != nil {
		return f.ackErr
	}
	return f.Queue.Ack(ctx, ds...)
}

// Receive errors are retried with backoff; a failed delete is reported and
// the message comes back.
func TestMappingReceiveAndAckErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _ := newQueue(t, "orders", 0)
		f := &flaky{Queue: q, receiveFails: 3, ackErr: errors.New("delete failed")}
		var (
			mu      sync.Mutex
			pauses  []time.Duration
			ackErrs int
			calls   int
		)
		ok := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			mu.Lock()
			calls++
			mu.Unlock()
			return events.SQSEventResponse{}, nil
		}
		m, err := awslambda.NewMapping(f, ok, awslambda.MappingOptions{MaximumConcurrency: 1, Hooks: awslambda.MappingHooks{
			PollError: func(err error, pause time.Duration) {
				assert.ErrorIs(t, err, postroom.ErrUnavailable)
				mu.Lock()
				pauses = append(pauses, pause)
				mu.Unlock()
			},
			AckFailed: func(ds []*queue.Delivery, err error) {
				assert.EqualError(t, err, "delete failed")
				mu.Lock()
				ackErrs++
				mu.Unlock()
			},
		}})
		require.NoError(t, err)
		send(t, q, body("a"))
		start(t, m)
		time.Sleep(20 * time.Second)
		synctest.Wait()
		mu.Lock()
		require.Len(t, pauses, 3)
		for i, p := range pauses {
			assert.LessOrEqual(t, p, time.Second<<i, "pause %d", i)
			assert.GreaterOrEqual(t, p, time.Second<<i/2, "pause %d", i)
		}
		assert.Equal(t, 1, calls)
		assert.Equal(t, 1, ackErrs)
		mu.Unlock()

		// Not deleted: it comes back after the visibility timeout.
		time.Sleep(40 * time.Second)
		synctest.Wait()
		mu.Lock()
		assert.Equal(t, 2, calls)
		mu.Unlock()
	})
}
