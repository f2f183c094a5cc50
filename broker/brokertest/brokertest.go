// Package brokertest is a conformance suite for broker drivers, in the
// spirit of testing/fstest: a driver proves itself with one call to [Run].
// The suite checks what the driver's [broker.Capabilities] declare and that
// what they deny fails with postroom.ErrUnsupported.
//
// The suite runs in real time against whatever Harness.Open connects to: a
// broker in another process or an in-memory one. Every test opens its own
// broker and uses names of its own (the test's name plus a random suffix),
// so tests may share a server with other users. Queues, topics and durable
// subscriptions the suite makes are deleted at the end of each test when
// the driver offers a way: a Delete(ctx) error method on queues and topics
// (see [Deleter]), pubsub.Unsubscriber on subscriptions.
package brokertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/testsupport/conformance"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// Harness tells the suite how to connect to the broker under test.
type Harness struct {
	// Open returns a connected broker for one test. The suite closes it
	// at the end of the test, after a test may have closed it already:
	// a second Close must not fail.
	Open func(t *testing.T) broker.Broker

	// Timeout bounds the wait for a message that must arrive; zero
	// means 20 s.
	Timeout time.Duration

	// Quiet is how long the suite listens to be sure that no message
	// arrives; zero means 1 s.
	Quiet time.Duration

	// Settle is how long the suite waits after Subscribe before it
	// publishes, for transports whose subscriptions take effect some time
	// after Subscribe returns; zero means no wait.
	Settle time.Duration

	// Prefix starts the names the suite gives queues, topics and
	// subscriptions; empty means "postroom-test". Names are made of
	// lowercase letters, digits and hyphens; a driver whose transport
	// needs more (an MQTT topic level, a STOMP destination prefix) adds
	// it itself.
	Prefix string

	// Pkg is the name of the driver's package ("amqp", "stomp"). When it
	// is set, every error the suite provokes must start with "Pkg: ",
	// once.
	Pkg string
}

// A Deleter deletes what it names from the broker, with the messages in
// it. The suite deletes the queues and topics it made when they are
// Deleters.
type Deleter interface {
	Delete(ctx context.Context) error
}

// Run runs the conformance suite against the driver h describes, each test
// in its own subtest.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("brokertest: Harness.Open is nil")
	}
	if h.Timeout <= 0 {
		h.Timeout = 20 * time.Second
	}
	if h.Quiet <= 0 {
		h.Quiet = time.Second
	}
	if h.Prefix == "" {
		h.Prefix = "postroom-test"
	}
	s := &suite{h: h}
	// The capabilities come from a broker: one connection reads them.
	c := func() broker.Capabilities {
		b := h.Open(t)
		require.NotNil(t, b, "Harness.Open returned nil")
		defer func() { assert.NoError(t, b.Close(), "Close") }()
		return b.Capabilities()
	}()
	test := func(name string, run func(t *testing.T, b broker.Broker), missing string) conformance.Test {
		return conformance.Test{Name: name, Missing: missing, Run: func(t *testing.T) { run(t, s.open(t)) }}
	}
	conformance.Run(t, "brokertest", false, []conformance.Test{
		test("State", s.testState, ""),
		test("Closed", s.testClosed, ""),
		test("Unsupported", s.testUnsupported, ""),
		test("QueueRoundTrip", s.testQueueRoundTrip, conformance.Unless(c.Queues, "Queues")),
		test("QueueAttributes", s.testQueueAttributes, conformance.Unless(c.Queues, "Queues")),
		test("QueueNack", s.testQueueNack, conformance.Unless(c.Queues && c.Nack, "Queues and Nack")),
		test("QueueNackDelay", s.testQueueNackDelay, conformance.Unless(c.Queues && c.DelayedNack, "Queues and DelayedNack")),
		test("QueueReceiveCancel", s.testQueueReceiveCancel, conformance.Unless(c.Queues, "Queues")),
		test("TopicFanout", s.testTopicFanout, conformance.Unless(c.Topics, "Topics")),
		test("TopicAttributes", s.testTopicAttributes, conformance.Unless(c.Topics, "Topics")),
		test("TopicNack", s.testTopicNack, conformance.Unless(c.Topics && c.Nack, "Topics and Nack")),
		test("DurableSubscription", s.testDurable, conformance.Unless(c.Topics && c.Durable, "Topics and Durable")),
	})
}

// errorIs checks that err matches kind and names the driver's package
// once (when Harness.Pkg is set).
func (s *suite) errorIs(t *testing.T, err, kind error, what string) bool {
	t.Helper()
	return conformance.ErrorIs(t, s.h.Pkg, err, kind, what)
}

type suite struct{ h Harness }

// open connects a broker for one test and closes it when the test ends.
func (s *suite) open(t *testing.T) broker.Broker {
	t.Helper()
	b := s.h.Open(t)
	require.NotNil(t, b, "Harness.Open returned nil")
	t.Cleanup(func() { assert.NoError(t, b.Close(), "Close at the end of the test") })
	return b
}

// ctx returns a context that ends with the test or after the timeout.
func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), s.h.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// name returns a name unique to this test: prefix, test name, suffix.
func (s *suite) name(t *testing.T, what string) string {
	var sb strings.Builder
	sb.WriteString(s.h.Prefix)
	sb.WriteByte('-')
	last := byte('-')
	for _, c := range []byte(strings.ToLower(t.Name() + "-" + what)) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			sb.WriteByte(c)
			last = c
		} else if last != '-' {
			sb.WriteByte('-')
			last = '-'
		}
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	if last != '-' {
		sb.WriteByte('-')
	}
	sb.WriteString(hex.EncodeToString(rnd[:]))
	return sb.String()
}

// queue makes a queue for one test and deletes it at the end.
func (s *suite) queue(t *testing.T, b broker.Broker) queue.Queue {
	t.Helper()
	return s.queueNamed(t, b, s.name(t, "q"))
}

func (s *suite) queueNamed(t *testing.T, b broker.Broker, name string) queue.Queue {
	t.Helper()
	q, err := b.Queue(s.ctx(t), name)
	require.NoError(t, err, "Queue")
	require.NotNil(t, q)
	t.Cleanup(func() {
		s.delete(q)
		_ = q.Close()
	})
	return q
}

// topic makes a topic for one test and deletes it at the end.
func (s *suite) topic(t *testing.T, b broker.Broker) pubsub.Topic {
	t.Helper()
	return s.topicNamed(t, b, s.name(t, "t"))
}

func (s *suite) topicNamed(t *testing.T, b broker.Broker, name string) pubsub.Topic {
	t.Helper()
	tp, err := b.Topic(s.ctx(t), name)
	require.NoError(t, err, "Topic")
	require.NotNil(t, tp)
	t.Cleanup(func() {
		s.delete(tp)
		_ = tp.Close()
	})
	return tp
}

// delete deletes v if it is a Deleter.
func (s *suite) delete(v any) {
	if d, ok := v.(Deleter); ok {
		ctx, cancel := context.WithTimeout(context.Background(), s.h.Timeout)
		defer cancel()
		_ = d.Delete(ctx)
	}
}

// subscribe attaches a subscription and closes it at the end of the test.
func (s *suite) subscribe(t *testing.T, tp pubsub.Topic, opts pubsub.SubscribeOptions) pubsub.Subscription {
	t.Helper()
	sub, err := tp.Subscribe(s.ctx(t), opts)
	require.NoError(t, err, "Subscribe")
	require.NotNil(t, sub)
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

// settle waits for subscriptions to take effect.
func (s *suite) settle() {
	if s.h.Settle > 0 {
		time.Sleep(s.h.Settle)
	}
}

// receive collects n deliveries from r, long-polling until they came or
// the timeout passed.
func (s *suite) receive(t *testing.T, r queue.Receiver, n int) []*queue.Delivery {
	t.Helper()
	var got []*queue.Delivery
	deadline := time.Now().Add(s.h.Timeout)
	for len(got) < n && time.Now().Before(deadline) {
		wait := min(2*time.Second, time.Until(deadline))
		if wait <= 0 {
			break
		}
		ds, err := r.Receive(t.Context(), queue.ReceiveOptions{MaxMessages: n - len(got), WaitTime: wait})
		require.NoError(t, err, "Receive")
		got = append(got, ds...)
	}
	require.Len(t, got, n, "messages received within %v", s.h.Timeout)
	return got
}

// receiveNone checks that no message arrives at r for a while.
func (s *suite) receiveNone(t *testing.T, r queue.Receiver) {
	t.Helper()
	ds, err := r.Receive(t.Context(), queue.ReceiveOptions{MaxMessages: 10, WaitTime: s.h.Quiet})
	require.NoError(t, err, "Receive")
	require.Empty(t, ds, "no message should arrive, got %q", bodies(ds))
}

func bodies(ds []*queue.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d.Body)
	}
	return out
}

func msg(body string) *queue.Message { return &queue.Message{Body: []byte(body)} }

// testAttributes are attributes of every type a broker must carry, typed.
func testAttributes() queue.Attributes {
	return queue.Attributes{
		"customer": queue.String("c-42"),
		"count":    queue.Int(7),
		"amount":   queue.Number("12.5"),
		"blob":     queue.Binary([]byte{0, 1, 2, 255}),
	}
}

// checkAttributes checks that got carries want with their types.
func checkAttributes(t *testing.T, want, got queue.Attributes) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		if !assert.True(t, ok, "attribute %s delivered", name) {
			continue
		}
		assert.Equal(t, w.BaseType(), g.BaseType(), "type of %s", name)
		assert.Equal(t, w.Value, g.Value, "value of %s", name)
		assert.Equal(t, w.Binary, g.Binary, "binary value of %s", name)
	}
}

func (s *suite) testState(t *testing.T, b broker.Broker) {
	require.Eventually(t, func() bool { return b.State() == broker.Connected }, s.h.Timeout, 10*time.Millisecond,
		"the broker reports Connected (it reports %v)", b.State())
	changes := make(chan broker.StateChange, 16)
	stop := b.NotifyState(func(sc broker.StateChange) { changes <- sc })
	defer stop()
	require.NoError(t, b.Close())
	assert.Equal(t, broker.Closed, b.State(), "State after Close")
	timeout := time.After(s.h.Timeout)
	for {
		select {
		case sc := <-changes:
			if sc.To != broker.Closed {
				continue
			}
			assert.NotEqual(t, broker.Closed, sc.From, "a change from Closed to Closed")
			return
		case <-timeout:
			t.Fatalf("NotifyState reported no change to Closed within %v", s.h.Timeout)
		}
	}
}

func (s *suite) testClosed(t *testing.T, b broker.Broker) {
	caps := b.Capabilities()
	ctx := s.ctx(t)
	var (
		q  queue.Queue
		d  *queue.Delivery
		tp pubsub.Topic
		sb pubsub.Subscription
	)
	qname, tname := s.name(t, "q"), s.name(t, "t")
	if caps.Queues {
		q = s.queueNamed(t, b, qname)
		require.NoError(t, q.Send(ctx, msg("before close")))
		d = s.receive(t, q, 1)[0]
	}
	if caps.Topics {
		tp = s.topicNamed(t, b, tname)
		sb = s.subscribe(t, tp, pubsub.SubscribeOptions{})
	}
	defer func() {
		// The closed broker cannot delete what it made: another one does.
		other := s.open(t)
		if caps.Queues {
			s.queueNamed(t, other, qname)
		}
		if caps.Topics {
			s.topicNamed(t, other, tname)
		}
	}()
	require.NoError(t, b.Close())
	assert.NoError(t, b.Close(), "a second Close")

	_, err := b.Queue(ctx, s.name(t, "after"))
	s.errorIs(t, err, postroom.ErrClosed, "Broker.Queue after Close")
	_, err = b.Topic(ctx, s.name(t, "after"))
	s.errorIs(t, err, postroom.ErrClosed, "Broker.Topic after Close")
	if q != nil {
		s.errorIs(t, q.Send(ctx, msg("after close")), postroom.ErrClosed, "Send")
		_, err := q.Receive(ctx, queue.ReceiveOptions{WaitTime: time.Second})
		s.errorIs(t, err, postroom.ErrClosed, "Receive")
		s.errorIs(t, q.Ack(ctx, d), postroom.ErrClosed, "Ack")
		s.errorIs(t, q.Nack(ctx, 0, d), postroom.ErrClosed, "Nack")
	}
	if tp != nil {
		s.errorIs(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("after close")}), postroom.ErrClosed, "Publish")
		_, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{})
		s.errorIs(t, err, postroom.ErrClosed, "Subscribe")
		_, err = sb.Receive(ctx, queue.ReceiveOptions{WaitTime: time.Second})
		s.errorIs(t, err, postroom.ErrClosed, "Subscription.Receive")
	}
}

func (s *suite) testUnsupported(t *testing.T, b broker.Broker) {
	caps := b.Capabilities()
	ctx := s.ctx(t)
	checked := false
	if !caps.Queues {
		checked = true
		_, err := b.Queue(ctx, s.name(t, "q"))
		s.errorIs(t, err, postroom.ErrUnsupported, "Queue on a driver without queues")
	}
	if !caps.Topics {
		checked = true
		_, err := b.Topic(ctx, s.name(t, "t"))
		s.errorIs(t, err, postroom.ErrUnsupported, "Topic on a driver without topics")
	}
	if caps.Topics && !caps.Durable {
		checked = true
		tp := s.topic(t, b)
		sub, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{Name: s.name(t, "durable")})
		if err == nil {
			_ = sub.Close()
		}
		s.errorIs(t, err, postroom.ErrUnsupported, "a named subscription on a driver without durable ones")
	}
	if caps.Queues && !caps.DelayedNack {
		checked = true
		q := s.queue(t, b)
		require.NoError(t, q.Send(ctx, msg("no delay")))
		d := s.receive(t, q, 1)[0]
		s.errorIs(t, q.Nack(ctx, time.Second, d), postroom.ErrUnsupported, "Nack with a delay")
		_ = q.Ack(ctx, d)
	}
	if !checked {
		t.Skip("brokertest: the driver declares every capability this test checks the absence of")
	}
}

func (s *suite) testQueueRoundTrip(t *testing.T, b broker.Broker) {
	ctx := s.ctx(t)
	q := s.queue(t, b)
	ms := []*queue.Message{msg("one"), msg("two"), msg("three")}
	require.NoError(t, q.Send(ctx, ms...))
	for _, m := range ms {
		assert.NotEmpty(t, m.ID, "Send sets the message id")
	}
	ds := s.receive(t, q, 3)
	assert.ElementsMatch(t, []string{"one", "two", "three"}, bodies(ds))
	for _, d := range ds {
		assert.NotEmpty(t, d.Receipt, "a delivery has a receipt")
		assert.GreaterOrEqual(t, d.ReceiveCount, 1, "ReceiveCount counts this receive")
		i := slices.IndexFunc(ms, func(m *queue.Message) bool { return string(m.Body) == string(d.Body) })
		assert.Equal(t, ms[i].ID, d.ID, "the delivery carries the id Send set")
	}
	require.NoError(t, q.Ack(ctx, ds...))
	s.receiveNone(t, q)

	// A second handle on the same queue sends to it. (It does not receive
	// from it here: the first handle's consumer may hold the message.)
	other, err := b.Queue(ctx, queueName(t, q))
	require.NoError(t, err, "a second Queue of the same name")
	t.Cleanup(func() { _ = other.Close() })
	require.NoError(t, other.Send(ctx, msg("shared")))
	d := s.receive(t, q, 1)[0]
	assert.Equal(t, "shared", string(d.Body))
	require.NoError(t, q.Ack(ctx, d))
}

// queueName returns the name of q when the driver tells it.
func queueName(t *testing.T, q queue.Queue) string {
	t.Helper()
	if n, ok := q.(interface{ Name() string }); ok {
		return n.Name()
	}
	if d, ok := q.(queue.Describer); ok && d.Describe().Name != "" {
		return d.Describe().Name
	}
	t.Skip("brokertest: the queue tells neither Name() nor Describe().Name")
	return ""
}

func (s *suite) testQueueAttributes(t *testing.T, b broker.Broker) {
	kind := "envelope"
	if b.Capabilities().Headers {
		kind = "headers"
	}
	t.Run(kind, func(t *testing.T) {
		ctx := s.ctx(t)
		q := s.queue(t, b)
		attrs := testAttributes()
		require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("with attributes"), Attributes: attrs}))
		d := s.receive(t, q, 1)[0]
		assert.Equal(t, "with attributes", string(d.Body))
		checkAttributes(t, attrs, d.Attributes)
		require.NoError(t, q.Ack(ctx, d))
	})
}

func (s *suite) testQueueNack(t *testing.T, b broker.Broker) {
	ctx := s.ctx(t)
	q := s.queue(t, b)
	require.NoError(t, q.Send(ctx, msg("again")))
	d := s.receive(t, q, 1)[0]
	require.NoError(t, q.Nack(ctx, 0, d))
	d2 := s.receive(t, q, 1)[0]
	assert.Equal(t, "again", string(d2.Body))
	assert.Equal(t, d.ID, d2.ID, "the same message comes back")
	assert.Greater(t, d2.ReceiveCount, d.ReceiveCount, "the receive count grows")
	require.NoError(t, q.Ack(ctx, d2))
	s.receiveNone(t, q)
}

func (s *suite) testQueueNackDelay(t *testing.T, b broker.Broker) {
	ctx := s.ctx(t)
	q := s.queue(t, b)
	require.NoError(t, q.Send(ctx, msg("later")))
	d := s.receive(t, q, 1)[0]
	const delay = 2 * time.Second
	nacked := time.Now()
	require.NoError(t, q.Nack(ctx, delay, d))
	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: delay / 2})
	require.NoError(t, err)
	assert.Empty(t, ds, "redelivered before the delay")
	d2 := s.receive(t, q, 1)[0]
	assert.GreaterOrEqual(t, time.Since(nacked), delay-100*time.Millisecond, "redelivered after the delay")
	assert.Equal(t, "later", string(d2.Body))
	assert.Equal(t, d.ID, d2.ID, "the same message comes back")
	assert.Greater(t, d2.ReceiveCount, d.ReceiveCount, "the receive count grows across a delayed nack")
	require.NoError(t, q.Ack(ctx, d2))
}

func (s *suite) testQueueReceiveCancel(t *testing.T, b broker.Broker) {
	q := s.queue(t, b)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: 20 * time.Second})
	assert.Empty(t, ds)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "cancelling the context ends the long poll")
}

func (s *suite) testTopicFanout(t *testing.T, b broker.Broker) {
	ctx := s.ctx(t)
	tp := s.topic(t, b)
	sub1 := s.subscribe(t, tp, pubsub.SubscribeOptions{})
	sub2 := s.subscribe(t, tp, pubsub.SubscribeOptions{})
	s.settle()
	m := &pubsub.Message{Body: []byte("to everyone")}
	require.NoError(t, tp.Publish(ctx, m))
	assert.NotEmpty(t, m.ID, "Publish sets the message id")
	for i, sub := range []pubsub.Subscription{sub1, sub2} {
		d := s.receive(t, sub, 1)[0]
		assert.Equal(t, "to everyone", string(d.Body), "subscription %d", i+1)
		require.NoError(t, sub.Ack(ctx, d))
		s.receiveNone(t, sub)
	}
}

func (s *suite) testTopicAttributes(t *testing.T, b broker.Broker) {
	ctx := s.ctx(t)
	tp := s.topic(t, b)
	sub := s.subscribe(t, tp, pubsub.SubscribeOptions{RawDelivery: true})
	s.settle()
	attrs := testAttributes()
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("typed"), Attributes: attrs}))
	d := s.receive(t, sub, 1)[0]
	assert.Equal(t, "typed", string(d.Body))
	checkAttributes(t, attrs, d.Attributes)
	require.NoError(t, sub.Ack(ctx, d))
}

func (s *suite) testTopicNack(t *testing.T, b broker.Broker) {
	ctx := s.ctx(t)
	tp := s.topic(t, b)
	sub := s.subscribe(t, tp, pubsub.SubscribeOptions{})
	s.settle()
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("again")}))
	d := s.receive(t, sub, 1)[0]
	require.NoError(t, sub.Nack(ctx, 0, d))
	d2 := s.receive(t, sub, 1)[0]
	assert.Equal(t, "again", string(d2.Body))
	require.NoError(t, sub.Ack(ctx, d2))
}

func (s *suite) testDurable(t *testing.T, b broker.Broker) {
	ctx := s.ctx(t)
	tp := s.topic(t, b)
	name := s.name(t, "sub")
	sub, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{Name: name})
	require.NoError(t, err, "Subscribe with a name")
	t.Cleanup(func() {
		// Attach once more to delete the subscription.
		c, cancel := context.WithTimeout(context.Background(), s.h.Timeout)
		defer cancel()
		if again, err := tp.Subscribe(c, pubsub.SubscribeOptions{Name: name}); err == nil {
			if u, ok := again.(pubsub.Unsubscriber); ok {
				_ = u.Unsubscribe(c)
			}
			_ = again.Close()
		}
	})
	s.settle()
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("while attached")}))
	d := s.receive(t, sub, 1)[0]
	require.NoError(t, sub.Ack(ctx, d))
	require.NoError(t, sub.Close(), "detach")

	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("while detached 1")}))
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("while detached 2")}))

	again, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{Name: name})
	require.NoError(t, err, "attach again")
	defer again.Close()
	ds := s.receive(t, again, 2)
	assert.ElementsMatch(t, []string{"while detached 1", "while detached 2"}, bodies(ds),
		"a durable subscription keeps what was published while it was detached")
	require.NoError(t, again.Ack(ctx, ds...))
	s.receiveNone(t, again)
}
