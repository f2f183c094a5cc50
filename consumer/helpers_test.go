package consumer_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newQueue returns a memory queue; inside a synctest bubble, call it from
// the bubble.
func newQueue(t *testing.T, name string, opts memory.QueueOptions) *memory.Queue {
	t.Helper()
	q, err := memory.NewQueue(name, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Close() })
	return q
}

// send sends messages with the given bodies, ten at a time; group, when
// not nil, gives each message's group id.
func send(t *testing.T, q queue.Sender, bodies []string, group func(i int) string) {
	t.Helper()
	var batch []*queue.Message
	for i, b := range bodies {
		m := &queue.Message{Body: []byte(b)}
		if group != nil {
			m.GroupID = group(i) // FIFO queues here use content-based deduplication
		}
		batch = append(batch, m)
		if len(batch) == 10 || i == len(bodies)-1 {
			require.NoError(t, q.Send(context.Background(), batch...))
			batch = batch[:0]
		}
	}
}

func bodies(n int) []string {
	b := make([]string, n)
	for i := range b {
		b[i] = "m" + strconv.Itoa(i)
	}
	return b
}

// start runs c until the returned stop is called; stop returns Run's
// error. A test that does not call stop has it called at cleanup.
func start(t *testing.T, c *consumer.Consumer) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func newConsumer(t *testing.T, r queue.Receiver, h consumer.Handler, opts consumer.Options) *consumer.Consumer {
	t.Helper()
	c, err := consumer.New(r, h, opts)
	require.NoError(t, err)
	return c
}

// gauge tracks a current and a maximum value.
type gauge struct {
	mu       sync.Mutex
	cur, max int
}

func (g *gauge) add(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cur += n
	g.max = max(g.max, g.cur)
}

func (g *gauge) peak() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max
}

// countingReceiver wraps a memory queue to count and inspect the calls a
// consumer makes.
type countingReceiver struct {
	*memory.Queue

	receives  atomic.Int64
	received  atomic.Int64 // messages returned by Receive
	handled   atomic.Int64 // set by the test's handler
	overAsked atomic.Int64 // receives that asked for more than the free slots
	limit     int

	mu      sync.Mutex // guards everything below
	ackSize []int
	// ackErr, when set, decides the error of an Ack call (n counts calls
	// from 1); nil lets the call through.
	ackErr func(n int, ds []*queue.Delivery) error
	// recvErr, when set, fails the n-th Receive with the error it returns.
	recvErr func(n int) error
}

func (r *countingReceiver) Receive(ctx context.Context, o queue.ReceiveOptions) ([]*queue.Delivery, error) {
	n := int(r.receives.Add(1))
	if r.limit > 0 && int(r.received.Load()-r.handled.Load())+o.MaxMessages > r.limit {
		r.overAsked.Add(1)
	}
	r.mu.Lock()
	fail := r.recvErr
	r.mu.Unlock()
	if fail != nil {
		if err := fail(n); err != nil {
			return nil, err
		}
	}
	ds, err := r.Queue.Receive(ctx, o)
	r.received.Add(int64(len(ds)))
	return ds, err
}

func (r *countingReceiver) Ack(ctx context.Context, ds ...*queue.Delivery) error {
	r.mu.Lock()
	r.ackSize = append(r.ackSize, len(ds))
	n := len(r.ackSize)
	fail := r.ackErr
	r.mu.Unlock()
	if fail != nil {
		if err := fail(n, ds); err != nil {
			// A partial failure: the entries without an error are acked.
			if be, ok := err.(*postroom.BatchError); ok {
				for i, d := range ds {
					if be.Errs[i] == nil {
						if aerr := r.Queue.Ack(ctx, d); aerr != nil {
							return aerr
						}
					}
				}
			}
			return err
		}
	}
	return r.Queue.Ack(ctx, ds...)
}

func (r *countingReceiver) acks() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.ackSize...)
}

func stats(t *testing.T, q *memory.Queue) queue.Stats {
	t.Helper()
	s, err := q.Stats(context.Background())
	require.NoError(t, err)
	s.OldestAge = 0 // these tests check the counts
	return s
}

// since returns the time elapsed since t0, for checks on synctest's clock.
func since(t0 time.Time) time.Duration { return time.Since(t0) }
