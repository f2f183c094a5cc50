package amqp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/postroom/postroom/backoff"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/testsupport/drivertest"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

func TestUnroutable(t *testing.T) {
	ctx := t.Context()
	b := dial(t, Options{})

	t.Run("queue deleted", func(t *testing.T) {
		q := testQueue(t, b)
		other, err := b.OpenQueue(ctx, q.Name(), QueueOptions{})
		require.NoError(t, err)
		require.NoError(t, other.Delete(ctx))
		err = q.Send(ctx, &queue.Message{Body: []byte("nowhere")})
		require.ErrorIs(t, err, ErrUnroutable)
		require.ErrorIs(t, err, postroom.ErrNotFound)
		var qe *postroom.Error
		require.ErrorAs(t, err, &qe)
		assert.Equal(t, "NO_ROUTE", qe.Code)
	})

	t.Run("topic without subscription", func(t *testing.T) {
		tp, err := b.OpenTopic(ctx, uniqueName(t, "t"), TopicOptions{})
		require.NoError(t, err)
		t.Cleanup(func() { _ = tp.Delete(context.Background()) })
		err = tp.Publish(ctx, &pubsub.Message{Body: []byte("nobody listens")})
		require.ErrorIs(t, err, ErrUnroutable)

		sub, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{})
		require.NoError(t, err)
		require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("somebody listens")}))
		require.NoError(t, sub.Close())
		require.ErrorIs(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("gone again")}), ErrUnroutable,
			"closing a subscription without a name deletes its queue")
	})

	t.Run("drop unroutable", func(t *testing.T) {
		b := dial(t, Options{DropUnroutable: true})
		tp, err := b.OpenTopic(ctx, uniqueName(t, "t"), TopicOptions{})
		require.NoError(t, err)
		t.Cleanup(func() { _ = tp.Delete(context.Background()) })
		require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("dropped")}))
	})
}

func TestBatchErrorIsIndexAligned(t *testing.T) {
	ctx := t.Context()
	b := dial(t, Options{})
	q := testQueue(t, b)
	ms := []*queue.Message{
		{Body: []byte("0")},
		{Body: []byte("1"), Attributes: queue.Attributes{"x-postroom-mine": queue.String("reserved")}},
		{Body: []byte("2")},
		{Body: []byte("3"), DeduplicationID: "d"},
	}
	err := q.Send(ctx, ms...)
	var be *postroom.BatchError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, []int{1, 3}, be.Failed())
	assert.ErrorIs(t, be.Errs[1], postroom.ErrInvalid)
	assert.ErrorIs(t, be.Errs[3], postroom.ErrUnsupported)
	ds := drivertest.ReceiveN(t, q, 2)
	require.NoError(t, q.Ack(ctx, ds...))
}

func TestBrokerNack(t *testing.T) {
	ctx := t.Context()
	b := dial(t, Options{})
	name := uniqueName(t, "full")
	// A queue of one message that refuses more: the broker nacks.
	require.NoError(t, b.declare(ctx, "test", &decl{key: "queue " + name, run: func(ch *amqp091.Channel) error {
		_, err := ch.QueueDeclare(name, true, false, false, false, amqp091.Table{"x-max-length": int64(1), "x-overflow": "reject-publish"})
		return err
	}}, false))
	t.Cleanup(func() { deleteQueue(t, name) })
	q := &Queue{b: b, name: name, r: newReceiver(b, name, true, false)}
	require.NoError(t, b.adopt(q))
	defer q.Close()

	err := q.Send(ctx, &queue.Message{Body: []byte("fits")}, &queue.Message{Body: []byte("overflows")})
	var be *postroom.BatchError
	require.ErrorAs(t, err, &be)
	assert.NoError(t, be.Errs[0])
	assert.ErrorIs(t, be.Errs[1], ErrNacked)
}

func TestSubscriptions(t *testing.T) {
	ctx := t.Context()
	b := dial(t, Options{})
	tp, err := b.OpenTopic(ctx, uniqueName(t, "t"), TopicOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tp.Delete(context.Background()) })

	_, err = tp.Subscribe(ctx, pubsub.SubscribeOptions{FilterPolicy: `{"kind":["a"]}`})
	require.ErrorIs(t, err, postroom.ErrUnsupported, "a filter policy is refused, not ignored")

	sub, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{})
	require.NoError(t, err)
	defer sub.Close()
	m := &pubsub.Message{Body: []byte("hello"), Subject: "greeting", GroupID: "g1"}
	require.NoError(t, tp.Publish(ctx, m))
	d := drivertest.ReceiveN(t, sub, 1)[0]
	assert.Equal(t, m.ID, d.ID)
	assert.Equal(t, "greeting", d.Attributes.Get(pubsub.SubjectAttribute))
	assert.Equal(t, "g1", d.GroupID)
	var raw *amqp091.Delivery
	require.True(t, d.As(&raw), "As reaches the *amqp091.Delivery")
	assert.Equal(t, tp.Name(), raw.Exchange)

	// A delayed nack on an exclusive subscription goes through an
	// exclusive retry queue.
	require.NoError(t, sub.Nack(ctx, 200*time.Millisecond, d))
	d2 := drivertest.ReceiveN(t, sub, 1)[0]
	assert.Equal(t, "hello", string(d2.Body))
	assert.Equal(t, 2, d2.ReceiveCount)
	assert.False(t, d2.FirstReceivedAt.IsZero())
	require.NoError(t, sub.Ack(ctx, d2))
}

func TestSettleTwice(t *testing.T) {
	ctx := t.Context()
	b := dial(t, Options{})
	q := testQueue(t, b)
	require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("once")}, &queue.Message{Body: []byte("twice")}))
	ds := drivertest.ReceiveN(t, q, 2)
	require.NoError(t, q.Ack(ctx, ds[0]))
	err := q.Ack(ctx, ds[0])
	assert.ErrorIs(t, err, postroom.ErrReceiptInvalid, "a second ack is refused here, not sent (it would close the channel)")
	assert.ErrorIs(t, q.Ack(ctx, &queue.Delivery{Receipt: "garbage"}), postroom.ErrReceiptInvalid)
	require.NoError(t, q.Ack(ctx, ds[1]), "the channel survived")
}

func TestDelayOutOfRange(t *testing.T) {
	ctx := t.Context()
	b := dial(t, Options{RetryBuckets: []time.Duration{time.Second}})
	q := testQueue(t, b)
	err := q.Send(ctx, &queue.Message{Body: []byte("too late"), Delay: time.Hour})
	assert.ErrorIs(t, err, postroom.ErrInvalid)
}

// cutter records the TCP connections of a broker so that a test can cut
// them, as a network failure would.
type cutter struct {
	mu     sync.Mutex
	conns  []net.Conn
	refuse bool // cut new connections at once
}

func (c *cutter) wrap(conn net.Conn) net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refuse {
		_ = conn.Close()
	}
	c.conns = append(c.conns, conn)
	return conn
}

// down cuts the connections and refuses new ones.
func (c *cutter) down() {
	c.mu.Lock()
	c.refuse = true
	c.mu.Unlock()
	c.cut()
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

func TestReconnect(t *testing.T) {
	ctx := t.Context()
	c := &cutter{}
	b := dial(t, Options{wrapConn: c.wrap, Backoff: backoff.Func(func(int) time.Duration { return 50 * time.Millisecond })})
	st := drivertest.Watch(t, b)
	q := testQueue(t, b)
	tp, err := b.OpenTopic(ctx, uniqueName(t, "t"), TopicOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tp.Delete(context.Background()) })
	sub, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{})
	require.NoError(t, err)
	defer sub.Close()

	require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("before")}))
	d := drivertest.ReceiveN(t, q, 1)[0]

	c.cut()
	lost := st.Await(t, broker.Reconnecting)
	assert.Error(t, lost.Err, "the change says why")
	back := st.Await(t, broker.Connected)
	assert.NotEmpty(t, back.Endpoint)
	assert.Equal(t, broker.Connected, b.State())

	err = q.Ack(ctx, d)
	require.ErrorIs(t, err, postroom.ErrReceiptExpired, "a delivery tag of the old channel")
	d2 := drivertest.ReceiveN(t, q, 1)[0]
	assert.Equal(t, d.ID, d2.ID, "the broker redelivers the unacked message")
	assert.Equal(t, 2, d2.ReceiveCount, "and flags it redelivered")
	require.NoError(t, q.Ack(ctx, d2))

	// The exclusive subscription queue was declared and bound again.
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("after")}))
	ds := drivertest.ReceiveN(t, sub, 1)
	require.NoError(t, sub.Ack(ctx, ds...))

	// A send while the connection is down waits for the next one.
	var wg sync.WaitGroup
	c.cut()
	wg.Go(func() {
		assert.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("during")}), "a send during an outage")
	})
	wg.Wait()
	d3 := drivertest.ReceiveN(t, q, 1)[0]
	assert.Equal(t, "during", string(d3.Body))
	require.NoError(t, q.Ack(ctx, d3))
}

func TestSendDuringOutageHonoursContext(t *testing.T) {
	c := &cutter{}
	b := dial(t, Options{wrapConn: c.wrap, Backoff: backoff.Func(func(int) time.Duration { return time.Hour })})
	st := drivertest.Watch(t, b)
	q := testQueue(t, b)
	c.down()
	st.Await(t, broker.Reconnecting)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := q.Send(ctx, &queue.Message{Body: []byte("never")})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	_, err = q.Receive(t.Context(), queue.ReceiveOptions{WaitTime: 200 * time.Millisecond})
	assert.NoError(t, err, "a receive during an outage ends its wait empty")
}

func TestGiveUp(t *testing.T) {
	c := &cutter{}
	b := dial(t, Options{wrapConn: c.wrap, MaxReconnectAttempts: 2, Backoff: backoff.Func(func(int) time.Duration { return 10 * time.Millisecond })})
	st := drivertest.Watch(t, b)
	q := testQueue(t, b)
	c.down()
	closed := st.Await(t, broker.Closed)
	assert.Error(t, closed.Err)
	assert.ErrorIs(t, q.Send(t.Context(), &queue.Message{Body: []byte("x")}), postroom.ErrClosed)
	_, err := b.OpenQueue(t.Context(), "x", QueueOptions{})
	assert.ErrorIs(t, err, postroom.ErrClosed)
}

func TestFailover(t *testing.T) {
	u, err := url.Parse(amqpURL(t))
	require.NoError(t, err)
	good := u.Host
	refused := *u
	refused.Host = "127.0.0.1:1"

	tests := []struct {
		name string
		url  string
		opts Options
	}{
		{"failover parameter", refused.String() + "?failover=" + good, Options{}},
		{"Endpoints", refused.String(), Options{Endpoints: []string{u.String()}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := dialURL(t, tc.url, tc.opts)
			assert.Equal(t, broker.Connected, b.State())
			b.mu.Lock()
			addr := b.sess.ep.addr
			b.mu.Unlock()
			assert.Equal(t, good, addr)
			q := testQueue(t, b)
			require.NoError(t, q.Send(t.Context(), &queue.Message{Body: []byte("via the second endpoint")}))
			require.NoError(t, q.Ack(t.Context(), drivertest.ReceiveN(t, q, 1)...))
		})
	}

	t.Run("all refuse", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := Dial(ctx, refused.String()+"?failover=127.0.0.1:2", Options{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "127.0.0.1:1")
		assert.Contains(t, err.Error(), "127.0.0.1:2")
	})
}

func TestURLOpeners(t *testing.T) {
	base := amqpURL(t)
	ctx := t.Context()
	name := uniqueName(t, "q")

	q, err := queue.Open(ctx, base+"?queue="+url.QueryEscape(name)+"&prefetch=5")
	require.NoError(t, err)
	require.IsType(t, &Queue{}, q)
	assert.Equal(t, 5, q.(*Queue).Describe().MaxBatch)
	require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("by url")}))
	d := drivertest.ReceiveN(t, q, 1)[0]
	require.NoError(t, q.Ack(ctx, d))
	require.NoError(t, q.(*Queue).Delete(ctx))
	require.NoError(t, q.Close())

	tname := uniqueName(t, "t")
	tp, err := pubsub.Open(ctx, base+"?topic="+url.QueryEscape(tname))
	require.NoError(t, err)
	sub, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{})
	require.NoError(t, err)
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("by url")}))
	require.NoError(t, tp.(*Topic).Delete(ctx))
	// The connection stays up for the subscription.
	ds := drivertest.ReceiveN(t, sub, 1)
	require.NoError(t, sub.Ack(ctx, ds...))
	require.NoError(t, sub.Close())

	b, err := broker.Open(ctx, base)
	require.NoError(t, err)
	assert.Equal(t, broker.Connected, b.State())
	require.NoError(t, b.Close())

	_, err = queue.Open(ctx, base)
	assert.ErrorIs(t, err, postroom.ErrInvalid, "no queue parameter")
	_, err = queue.Open(ctx, base+"?queue=x&prefetch=many")
	assert.ErrorIs(t, err, postroom.ErrInvalid)
}

func TestNotifyStateStop(t *testing.T) {
	b := dial(t, Options{})
	var mu sync.Mutex
	var got []broker.StateChange
	stop := b.NotifyState(func(sc broker.StateChange) {
		mu.Lock()
		got = append(got, sc)
		mu.Unlock()
	})
	stop()
	stop() // twice is fine
	require.NoError(t, b.Close())
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, got, "a stopped listener hears nothing")
	// A listener on a closed broker is never called.
	b.NotifyState(func(broker.StateChange) { t.Error("called on a closed broker") })()
}

func TestConcurrentSenders(t *testing.T) {
	ctx := t.Context()
	b := dial(t, Options{})
	q := testQueue(t, b)
	const senders, each = 8, 50
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				assert.NoError(t, q.Send(ctx, &queue.Message{Body: fmt.Appendf(nil, "%d-%d", s, i)}))
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for len(seen) < senders*each {
		ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 20, WaitTime: 2 * time.Second})
		require.NoError(t, err)
		require.NotEmpty(t, ds, "got %d of %d", len(seen), senders*each)
		for _, d := range ds {
			seen[string(d.Body)] = true
		}
		require.NoError(t, q.Ack(ctx, ds...))
	}
}

func TestDialContext(t *testing.T) {
	// A listener that accepts and never answers: the AMQP handshake would
	// hang but for the context.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Dial(ctx, "amqp://guest:guest@"+ln.Addr().String()+"/", Options{})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || isTimeout(err), "err = %v", err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestReceiveFromDeletedQueue(t *testing.T) {
	ctx := t.Context()
	b := dial(t, Options{})
	q := testQueue(t, b)
	_, err := q.Receive(ctx, queue.ReceiveOptions{WaitTime: 100 * time.Millisecond})
	require.NoError(t, err, "the consumer runs")
	other, err := b.OpenQueue(ctx, q.Name(), QueueOptions{})
	require.NoError(t, err)
	require.NoError(t, other.Delete(ctx))
	start := time.Now()
	_, err = q.Receive(ctx, queue.ReceiveOptions{WaitTime: 5 * time.Second})
	require.ErrorIs(t, err, postroom.ErrNotFound, "the broker cancelled the consumer")
	assert.Less(t, time.Since(start), 4*time.Second)
}
