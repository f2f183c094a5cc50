package stomp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-stomp/stomp/v3/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/testsupport/drivertest"
	"github.com/postroom/postroom/internal/testsupport/testproxy"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
	"github.com/postroom/postroom/queue/queuetest"
)

// hostPort is the host:port of the test broker.
func hostPort(t *testing.T) string {
	u, err := url.Parse(brokerURL(t))
	require.NoError(t, err)
	return u.Host
}

func TestFailover(t *testing.T) {
	real := hostPort(t)
	tests := []struct {
		name string
		url  string
		opts Options
	}{
		{"query parameter", "stomp://127.0.0.1:1?failover=" + real, Options{}},
		{"Options.Endpoints", "stomp://127.0.0.1:1", Options{Endpoints: []string{"stomp://" + real}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Dial(ctxT(t, 20*time.Second), tc.url, tc.opts)
			require.NoError(t, err)
			defer b.Close()
			assert.Equal(t, broker.Connected, b.State())
			b.mu.Lock()
			ep := b.conn.endpoint.Addr
			b.mu.Unlock()
			assert.Equal(t, real, ep, "connected to the second endpoint")
			q, err := b.Queue(context.Background(), uniqueName("failover"))
			require.NoError(t, err)
			require.NoError(t, q.Send(context.Background(), &queue.Message{Body: []byte("via standby")}))
			d := drivertest.ReceiveN(t, q, 1)
			require.NoError(t, q.Ack(context.Background(), d...))
		})
	}
	t.Run("no endpoint accepts", func(t *testing.T) {
		_, err := Dial(ctxT(t, 10*time.Second), "stomp://127.0.0.1:1?failover=127.0.0.1:2", Options{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "127.0.0.1:1")
		assert.Contains(t, err.Error(), "127.0.0.1:2")
	})
}

// TestOutage cuts the connection through a proxy: sends during the outage
// succeed after the reconnection (or fail when their context ends first),
// subscriptions are restored, and the state changes are reported.
func TestOutage(t *testing.T) {
	p := testproxy.New(t, hostPort(t))
	ctx := context.Background()
	b, err := Dial(ctxT(t, 10*time.Second), "stomp://"+p.Addr(), Options{Backoff: fastBackoff, ClientID: uniqueName("outage")})
	require.NoError(t, err)
	defer b.Close()
	st := drivertest.Watch(t, b)

	q, err := b.OpenQueue(ctx, uniqueName("outage"), QueueOptions{})
	require.NoError(t, err)
	topic, err := b.OpenTopic(ctx, uniqueName("outage"), TopicOptions{})
	require.NoError(t, err)
	sub, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{})
	require.NoError(t, err)
	durable, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{Name: "d"})
	require.NoError(t, err)
	defer func() { assert.NoError(t, durable.(pubsub.Unsubscriber).Unsubscribe(context.Background())) }()

	require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("before")}))
	held := drivertest.ReceiveN(t, q, 1) // received, not acked when the connection goes

	p.Cut()
	ch := st.Await(t, broker.Reconnecting)
	assert.Error(t, ch.Err, "why the connection was lost")
	assert.Equal(t, "stomp://"+p.Addr(), ch.Endpoint)

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = q.Send(short, &queue.Message{Body: []byte("given up")})
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "a send during an outage fails when its context ends")

	sent := make(chan error, 2)
	go func() { sent <- q.Send(ctx, &queue.Message{Body: []byte("during")}) }()
	go func() { sent <- topic.Publish(ctx, &pubsub.Message{Body: []byte("published during")}) }()
	select {
	case err := <-sent:
		t.Fatalf("a send returned during the outage: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	p.Restore()
	st.Await(t, broker.Connected)
	require.NoError(t, <-sent)
	require.NoError(t, <-sent)
	assert.Equal(t, broker.Connected, b.State())

	err = q.Ack(ctx, held...)
	require.ErrorIs(t, err, postroom.ErrReceiptExpired, "a delivery of the lost connection")

	ds := drivertest.ReceiveN(t, q, 2)
	assert.ElementsMatch(t, []string{"before", "during"}, drivertest.Bodies(ds), "the unacked message comes again")
	for _, d := range ds {
		if string(d.Body) == "before" {
			assert.Equal(t, 2, d.ReceiveCount, "a redelivery counts")
		}
	}
	require.NoError(t, q.Ack(ctx, ds...))
	for _, s := range []pubsub.Subscription{sub, durable} {
		ds := drivertest.ReceiveN(t, s, 1)
		assert.Equal(t, "published during", string(ds[0].Body), "the subscription was restored")
		require.NoError(t, s.Ack(ctx, ds...))
	}
}

func TestDurableSubscription(t *testing.T) {
	ctx := context.Background()
	clientID := uniqueName("client")
	b := dial(t, Options{ClientID: clientID})
	topic, err := b.Topic(ctx, uniqueName("durable"))
	require.NoError(t, err)

	s, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{Name: "keeper"})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("while away"), Subject: "hi"}))

	s, err = topic.Subscribe(ctx, pubsub.SubscribeOptions{Name: "keeper"})
	require.NoError(t, err)
	ds := drivertest.ReceiveN(t, s, 1)
	assert.Equal(t, "while away", string(ds[0].Body), "a durable subscription keeps messages while detached")
	assert.Equal(t, "hi", ds[0].Attributes.Get(pubsub.SubjectAttribute))
	require.NoError(t, s.Ack(ctx, ds...))

	require.NoError(t, s.(pubsub.Unsubscriber).Unsubscribe(ctx))
	require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("after unsubscribe")}))
	s, err = topic.Subscribe(ctx, pubsub.SubscribeOptions{Name: "keeper"})
	require.NoError(t, err)
	drivertest.ReceiveNone(t, s, time.Second)
	require.NoError(t, s.(pubsub.Unsubscriber).Unsubscribe(ctx))

	t.Run("needs a client id", func(t *testing.T) {
		b := dial(t, Options{})
		topic, err := b.Topic(ctx, uniqueName("durable"))
		require.NoError(t, err)
		_, err = topic.Subscribe(ctx, pubsub.SubscribeOptions{Name: "x"})
		require.ErrorIs(t, err, postroom.ErrInvalid)
	})
}

func TestWildcardSubscription(t *testing.T) {
	ctx := context.Background()
	b := dial(t, Options{})
	base := uniqueName("wild")
	all, err := b.Topic(ctx, base+".*")
	require.NoError(t, err)
	s, err := all.Subscribe(ctx, pubsub.SubscribeOptions{})
	require.NoError(t, err)
	defer s.Close()
	for _, leaf := range []string{"a", "b"} {
		topic, err := b.Topic(ctx, base+"."+leaf)
		require.NoError(t, err)
		require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte(leaf)}))
	}
	ds := drivertest.ReceiveN(t, s, 2)
	assert.ElementsMatch(t, []string{"a", "b"}, drivertest.Bodies(ds))
	require.NoError(t, s.Ack(ctx, ds...))
	err = all.Publish(ctx, &pubsub.Message{Body: []byte("x")})
	require.ErrorIs(t, err, postroom.ErrInvalid, "no publishing to a wildcard")
}

func TestNack(t *testing.T) {
	ctx := context.Background()
	b := dial(t, Options{})
	t.Run("queue", func(t *testing.T) {
		q, err := b.OpenQueue(ctx, uniqueName("nack"), QueueOptions{})
		require.NoError(t, err)
		defer q.Close()
		require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("retry me"), GroupID: "g",
			Attributes: queue.Attributes{"n": queue.Int(7), "bin": queue.Binary([]byte{1, 2})}}))
		first := drivertest.ReceiveN(t, q, 1)[0]
		assert.Equal(t, 1, first.ReceiveCount)
		d := first
		for want := 2; want <= 3; want++ {
			require.NoError(t, q.Nack(ctx, 0, d))
			d = drivertest.ReceiveN(t, q, 1)[0]
			assert.Equal(t, want, d.ReceiveCount, "the receive count grows")
			assert.Equal(t, first.ID, d.ID)
			assert.Equal(t, first.Attributes, d.Attributes)
			assert.Equal(t, "g", d.GroupID)
			assert.Equal(t, first.FirstReceivedAt.UnixMilli(), d.FirstReceivedAt.UnixMilli())
			assert.Equal(t, first.SentAt, d.SentAt)
		}
		require.NoError(t, q.Ack(ctx, d))
		err = q.Nack(ctx, time.Second, d)
		require.ErrorIs(t, err, postroom.ErrUnsupported, "a delayed nack needs the scheduler")
		err = q.Ack(ctx, d)
		require.ErrorIs(t, err, postroom.ErrReceiptInvalid, "a settled delivery")
		err = q.Send(ctx, &queue.Message{Body: []byte("later"), Delay: time.Second})
		require.ErrorIs(t, err, postroom.ErrUnsupported, "a delay needs the scheduler")
		drivertest.ReceiveNone(t, q, 500*time.Millisecond)
	})
	t.Run("subscription", func(t *testing.T) {
		topic, err := b.Topic(ctx, uniqueName("nack"))
		require.NoError(t, err)
		s, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{})
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("again")}))
		d := drivertest.ReceiveN(t, s, 1)[0]
		nacked := time.Now()
		require.NoError(t, s.Nack(ctx, 700*time.Millisecond, d))
		drivertest.ReceiveNone(t, s, 300*time.Millisecond)
		d2 := drivertest.ReceiveN(t, s, 1)[0]
		assert.GreaterOrEqual(t, time.Since(nacked), 700*time.Millisecond)
		assert.Equal(t, d.ID, d2.ID)
		assert.Equal(t, 2, d2.ReceiveCount)
		require.NoError(t, s.Nack(ctx, 0, d2))
		d3 := drivertest.ReceiveN(t, s, 1)[0]
		assert.Equal(t, 3, d3.ReceiveCount)
		require.NoError(t, s.Ack(ctx, d3))
		drivertest.ReceiveNone(t, s, 300*time.Millisecond)
	})
}

func TestAckReceipts(t *testing.T) {
	ctx := context.Background()
	for _, receipts := range []bool{false, true} {
		t.Run(fmt.Sprint("AckReceipts=", receipts), func(t *testing.T) {
			b := dial(t, Options{AckReceipts: receipts})
			q, err := b.OpenQueue(ctx, uniqueName("ack"), QueueOptions{})
			require.NoError(t, err)
			defer q.Close()
			require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("a")}, &queue.Message{Body: []byte("b")}))
			ds := drivertest.ReceiveN(t, q, 2)
			require.NoError(t, q.Ack(ctx, ds...))
			require.ErrorIs(t, q.Ack(ctx, ds[0]), postroom.ErrReceiptInvalid, "a second ack")
			// Acked for good: a new receiver on the queue gets nothing.
			require.NoError(t, q.Close())
			q2, err := b.OpenQueue(ctx, q.Name(), QueueOptions{})
			require.NoError(t, err)
			defer q2.Close()
			drivertest.ReceiveNone(t, q2, time.Second)
		})
	}
}

func TestDeadLetter(t *testing.T) {
	ctx := context.Background()
	b := dial(t, Options{})
	q, err := b.OpenQueue(ctx, uniqueName("poison"), QueueOptions{})
	require.NoError(t, err)
	m := &queue.Message{Body: []byte("poison")}
	require.NoError(t, q.Send(ctx, m))
	d := drivertest.ReceiveN(t, q, 1)
	require.NoError(t, q.DeadLetter(ctx, d...))
	drivertest.ReceiveNone(t, q, 500*time.Millisecond)

	dlq, err := b.OpenQueue(ctx, "ActiveMQ.DLQ", QueueOptions{})
	require.NoError(t, err)
	defer dlq.Close()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ds, err := dlq.Receive(ctx, queue.ReceiveOptions{MaxMessages: MaxBatch, WaitTime: time.Second})
		require.NoError(t, err)
		for _, d := range ds {
			if d.ID == m.ID {
				require.NoError(t, dlq.Ack(ctx, d))
				return
			}
		}
	}
	t.Fatal("the NACKed message is not in ActiveMQ.DLQ")
}

// TestSlowSubscription checks that a subscription nobody receives from
// does not stall the connection: its buffer takes what the broker pushes
// (up to the prefetch), while sends, acks and other subscriptions go on.
func TestSlowSubscription(t *testing.T) {
	ctx := context.Background()
	b := dial(t, Options{Prefetch: 5, Heartbeat: time.Second})
	slow, err := b.Topic(ctx, uniqueName("slow"))
	require.NoError(t, err)
	s, err := slow.Subscribe(ctx, pubsub.SubscribeOptions{})
	require.NoError(t, err)
	defer s.Close()
	for i := range 20 {
		require.NoError(t, slow.Publish(ctx, &pubsub.Message{Body: fmt.Appendf(nil, "%d", i)}))
	}
	q, err := b.OpenQueue(ctx, uniqueName("fast"), QueueOptions{})
	require.NoError(t, err)
	for i := range 30 {
		require.NoError(t, q.Send(ctx, &queue.Message{Body: fmt.Appendf(nil, "%d", i)}))
		ds := drivertest.ReceiveN(t, q, 1)
		require.NoError(t, q.Ack(ctx, ds...))
	}
	time.Sleep(3 * time.Second) // several heart-beat intervals
	assert.Equal(t, broker.Connected, b.State())
	s.(*Subscription).r.mu.Lock()
	buffered := len(s.(*Subscription).r.buf)
	s.(*Subscription).r.mu.Unlock()
	assert.Equal(t, 5, buffered, "the broker pushes the prefetch, no more")
	for range 4 {
		ds := drivertest.ReceiveN(t, s, 5)
		require.NoError(t, s.Ack(ctx, ds...), "acking frees the prefetch")
	}
}

// TestRefusedFrame sends a batch in which the broker refuses one frame: the
// others are sent (possibly twice, since the refusal of a frame inside a
// transaction costs the connection) and the refusal is reported for its
// frame.
func TestRefusedFrame(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	b := dial(t, Options{})
	name := uniqueName("refused")
	good := func(body string) *frame.Frame {
		f, err := sendFrame("send", "/queue/"+name, &outMessage{id: body, body: []byte(body), sentAt: time.Now()})
		require.NoError(t, err)
		return f
	}
	bad := frame.New(frame.SEND, frame.ContentLength, "1") // no destination
	bad.Body = []byte("x")
	errs, err := b.send(ctx, "send", []*frame.Frame{good("one"), bad, good("two")})
	require.NoError(t, err)
	require.Len(t, errs, 3)
	assert.NoError(t, errs[0])
	assert.Error(t, errs[1])
	var qe *postroom.Error
	if assert.ErrorAs(t, errs[1], &qe) {
		t.Logf("refusal: %v (code %q)", qe, qe.Code)
	}
	assert.NoError(t, errs[2])
	q, err := b.OpenQueue(ctx, name, QueueOptions{})
	require.NoError(t, err)
	ds := drivertest.ReceiveN(t, q, 2)
	more, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: 500 * time.Millisecond})
	require.NoError(t, err)
	ds = append(ds, more...)
	seen := map[string]bool{}
	for _, d := range ds {
		seen[string(d.Body)] = true
	}
	assert.Equal(t, map[string]bool{"one": true, "two": true}, seen)
	t.Logf("received %d messages for 2 sent (duplicates from the retry)", len(ds))
	require.NoError(t, q.Ack(ctx, ds...))
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	b := dial(t, Options{})
	st := drivertest.Watch(t, b)
	q, err := b.Queue(ctx, uniqueName("close"))
	require.NoError(t, err)
	topic, err := b.Topic(ctx, uniqueName("close"))
	require.NoError(t, err)
	s, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{})
	require.NoError(t, err)

	waiting := make(chan error, 1)
	go func() {
		_, err := s.Receive(ctx, queue.ReceiveOptions{WaitTime: 20 * time.Second})
		waiting <- err
	}()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, b.Close())
	require.ErrorIs(t, <-waiting, postroom.ErrClosed, "a waiting Receive returns")
	ch := st.Await(t, broker.Closed)
	assert.Equal(t, broker.Connected, ch.From)
	assert.Equal(t, broker.Closed, b.State())

	assert.ErrorIs(t, q.Send(ctx, &queue.Message{Body: []byte("x")}), postroom.ErrClosed)
	_, err = q.Receive(ctx, queue.ReceiveOptions{})
	assert.ErrorIs(t, err, postroom.ErrClosed)
	assert.ErrorIs(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("x")}), postroom.ErrClosed)
	_, err = b.Queue(ctx, "x")
	assert.ErrorIs(t, err, postroom.ErrClosed)
	assert.NoError(t, b.Close(), "a second Close")
}

func TestOpenURL(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	base := strings.TrimSuffix(brokerURL(t), "/")
	name := uniqueName("url")

	b, err := broker.Open(ctx, base)
	require.NoError(t, err)
	defer b.Close()
	assert.IsType(t, &Broker{}, b)

	topic, err := pubsub.Open(ctx, base+"/"+name)
	require.NoError(t, err)
	s, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{})
	require.NoError(t, err)
	require.NoError(t, topic.Close(), "the subscription keeps the connection")

	q, err := queue.Open(ctx, base+"/"+name)
	require.NoError(t, err)
	require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("by url")}))
	ds := drivertest.ReceiveN(t, q, 1)
	require.NoError(t, q.Ack(ctx, ds...))
	require.NoError(t, q.Close())

	bt, err := b.Topic(ctx, name)
	require.NoError(t, err)
	require.NoError(t, bt.Publish(ctx, &pubsub.Message{Body: []byte("to the url topic")}))
	ds = drivertest.ReceiveN(t, s, 1)
	require.NoError(t, s.Ack(ctx, ds...))
	require.NoError(t, s.Close())

	_, err = queue.Open(ctx, "stomp://127.0.0.1:1/x")
	require.Error(t, err)
}

func TestAttributesOnActiveMQ(t *testing.T) {
	ctx := context.Background()
	b := dial(t, Options{})
	q, err := b.Queue(ctx, uniqueName("attrs"))
	require.NoError(t, err)
	attrs := queue.Attributes{
		"plain":     queue.String("v"),
		"number":    queue.Number("-12.50"),
		"blob":      queue.Binary([]byte{0, 0xff, '\n', ':'}),
		"tags":      queue.StringArray("a", "b"),
		"labelled":  queue.Attribute{Type: "Number.cents", Value: "1250"},
		"odd:name":  queue.String("line\nbreak: and \\ backslash"),
		"empty":     queue.String(""),
		"with.dots": queue.String("x"),
	}
	require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte{0, 1, 2}, Attributes: attrs}))
	d := drivertest.ReceiveN(t, q, 1)[0]
	assert.Equal(t, []byte{0, 1, 2}, d.Body, "a binary body")
	assert.Equal(t, attrs, d.Attributes)
	var f *frame.Frame
	require.True(t, d.As(&f), "As gives the MESSAGE frame")
	assert.Equal(t, frame.MESSAGE, f.Command)
	require.NoError(t, q.Ack(ctx, d))
}

func TestErrorsMatch(t *testing.T) {
	err := frameError("send", frame.New(frame.ERROR, frame.Message, "Unexpected ACK received for message-id [x]"))
	assert.ErrorIs(t, err, postroom.ErrReceiptInvalid)
	var qe *postroom.Error
	require.ErrorAs(t, err, &qe)
	assert.True(t, errors.Is(err, qe.Kind))
}

func TestGiveUp(t *testing.T) {
	p := testproxy.New(t, hostPort(t))
	b, err := Dial(ctxT(t, 10*time.Second), "stomp://"+p.Addr(), Options{Backoff: fastBackoff, MaxReconnectAttempts: 2})
	require.NoError(t, err)
	defer b.Close()
	st := drivertest.Watch(t, b)
	q, err := b.Queue(context.Background(), uniqueName("giveup"))
	require.NoError(t, err)
	p.Cut()
	ch := st.Await(t, broker.Closed)
	require.Error(t, ch.Err, "why the broker gave up")
	assert.Contains(t, ch.Err.Error(), "gave up reconnecting after 2 attempts")
	err = q.Send(context.Background(), &queue.Message{Body: []byte("x")})
	require.ErrorIs(t, err, postroom.ErrClosed)
	require.NoError(t, b.Close())
}

// TestScheduledDelivery runs the delay tests of the conformance suite on a
// broker with ActiveMQ's scheduler (schedulerSupport="true").
func TestScheduledDelivery(t *testing.T) {
	brokerURL(t)
	if os.Getenv("POSTROOM_STOMP_SCHEDULER") == "" {
		t.Skip(`set POSTROOM_STOMP_SCHEDULER=1 when the broker of POSTROOM_STOMP_URL runs with schedulerSupport="true"`)
	}
	queuetest.Run(t, queuetest.Harness{
		As:  new(*frame.Frame),
		Pkg: "stomp",
		New: func(t *testing.T, cfg queuetest.Config) queue.Queue {
			b := dial(t, Options{ScheduledDelivery: true})
			q, err := b.Queue(ctxT(t, 10e9), uniqueName("scheduled"))
			require.NoError(t, err)
			return q
		},
		Caps: queuetest.Capabilities{MaxBatch: MaxBatch, Attributes: true, Delay: true, NackDelay: true},
	})
}
