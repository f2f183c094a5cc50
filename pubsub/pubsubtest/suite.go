// Package pubsubtest is a conformance suite for pub/sub drivers: a driver
// proves itself with one call to [Run], declaring in [Capabilities] what its
// transport can do. The suite skips only what a driver declares it cannot
// do.
package pubsubtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/testsupport/conformance"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// Harness tells the suite how to make topics of the driver under test.
type Harness struct {
	// New returns a new topic with no subscriptions for one test. The
	// suite closes it. New is called inside a testing/synctest bubble when
	// Caps.Synctest is set.
	New func(t *testing.T, cfg Config) pubsub.Topic
	// Caps declares what the driver can do.
	Caps Capabilities
	// Invalid returns a message the driver rejects on its own while it
	// publishes the rest of the batch, and the sentinel the rejection
	// matches. Nil skips the partial-failure test.
	Invalid func() (*pubsub.Message, error)

	// As, when not nil, is a pointer to a variable of the raw type the
	// driver's deliveries reach with Delivery.As, as its documentation
	// says (new(*amqp091.Delivery)): every delivery of the first test
	// must fill one.
	As any

	// Pkg is the name of the driver's package ("memory", "amqp"). When it
	// is set, every error the suite provokes must start with "Pkg: ".
	Pkg string
}

// Config is what a test asks of the topic New makes.
type Config struct {
	FIFO bool // a FIFO topic (only when Caps.FIFO)
}

// Capabilities are what a pub/sub driver declares it can do.
type Capabilities struct {
	Synctest   bool // run every test in a testing/synctest bubble
	Filter     bool // SNS filter policies on attributes and bodies
	Envelope   bool // without RawDelivery, the SNS JSON envelope is delivered
	Durable    bool // named subscriptions keep messages while detached
	Attributes bool // attributes reach raw subscribers with their types
	FIFO       bool // FIFO topics deliver each group in order
	MaxBatch   int  // most messages per Publish; 0: not checked
}

// Run runs the conformance suite against the driver h describes.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("pubsubtest: Harness.New is nil")
	}
	s := &suite{h: h}
	conformance.Run(t, "pubsubtest", h.Caps.Synctest, []conformance.Test{
		{Name: "FanOut", Run: s.testFanOut},
		{Name: "OnlyAfterSubscribe", Run: s.testOnlyAfterSubscribe},
		{Name: "Attributes", Run: s.testAttributes, Missing: conformance.Unless(h.Caps.Attributes, "Attributes")},
		{Name: "Batch", Run: s.testBatch, Missing: conformance.Unless(h.Caps.MaxBatch > 0, "MaxBatch")},
		{Name: "BatchPartialFailure", Run: s.testPartialFailure, Missing: conformance.Unless(h.Invalid != nil, "Harness.Invalid")},
		{Name: "FilterAttributes", Run: s.testFilterAttributes, Missing: conformance.Unless(h.Caps.Filter, "Filter")},
		{Name: "FilterBody", Run: s.testFilterBody, Missing: conformance.Unless(h.Caps.Filter, "Filter")},
		{Name: "Envelope", Run: s.testEnvelope, Missing: conformance.Unless(h.Caps.Envelope, "Envelope")},
		{Name: "Durable", Run: s.testDurable, Missing: conformance.Unless(h.Caps.Durable, "Durable")},
		{Name: "FIFOOrder", Run: s.testFIFO, Missing: conformance.Unless(h.Caps.FIFO, "FIFO")},
		{Name: "Unsubscribe", Run: s.testUnsubscribe},
		{Name: "Closed", Run: s.testClosed},
	})
}

type suite struct{ h Harness }

var ctx = context.Background()

const (
	pollWait = 2 * time.Second
	patience = 20 * time.Second
)

func (s *suite) open(t *testing.T, cfg Config) pubsub.Topic {
	t.Helper()
	tp := s.h.New(t, cfg)
	require.NotNil(t, tp, "Harness.New returned nil")
	t.Cleanup(func() { _ = tp.Close() })
	return tp
}

func subscribe(t *testing.T, tp pubsub.Topic, o pubsub.SubscribeOptions) pubsub.Subscription {
	t.Helper()
	sub, err := tp.Subscribe(ctx, o)
	require.NoError(t, err)
	t.Cleanup(func() {
		if u, ok := sub.(pubsub.Unsubscriber); ok && o.Name != "" {
			_ = u.Unsubscribe(ctx)
		}
		_ = sub.Close()
	})
	return sub
}

func raw() pubsub.SubscribeOptions { return pubsub.SubscribeOptions{RawDelivery: true} }

func publish(t *testing.T, tp pubsub.Topic, msgs ...*pubsub.Message) {
	t.Helper()
	for chunk := range slices.Chunk(msgs, 10) {
		require.NoError(t, tp.Publish(ctx, chunk...))
	}
}

func text(body string) *pubsub.Message { return &pubsub.Message{Body: []byte(body)} }

// receive collects n deliveries from sub and acks them.
func receive(t *testing.T, sub pubsub.Subscription, n int) []*queue.Delivery {
	t.Helper()
	var got []*queue.Delivery
	deadline := time.Now().Add(patience)
	for len(got) < n && time.Now().Before(deadline) {
		ds, err := sub.Receive(ctx, queue.ReceiveOptions{MaxMessages: min(10, n-len(got)), WaitTime: pollWait})
		require.NoError(t, err)
		if len(ds) > 0 {
			require.NoError(t, sub.Ack(ctx, ds...))
		}
		got = append(got, ds...)
	}
	require.Len(t, got, n, "messages received")
	return got
}

func receiveNone(t *testing.T, sub pubsub.Subscription) {
	t.Helper()
	ds, err := sub.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: time.Second})
	require.NoError(t, err)
	require.Empty(t, bodies(ds), "no message expected")
}

func bodies(ds []*queue.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Body))
	}
	return out
}

func (s *suite) testFanOut(t *testing.T) {
	tp := s.open(t, Config{})
	a := subscribe(t, tp, raw())
	b := subscribe(t, tp, raw())
	m := text("to everyone")
	publish(t, tp, m)
	assert.NotEmpty(t, m.ID, "Publish sets the id")
	for _, sub := range []pubsub.Subscription{a, b} {
		ds := receive(t, sub, 1)
		assert.Equal(t, []string{"to everyone"}, bodies(ds))
		for _, d := range ds {
			conformance.CheckAs(t, d, s.h.As)
		}
	}
}

func (s *suite) testOnlyAfterSubscribe(t *testing.T) {
	tp := s.open(t, Config{})
	early := subscribe(t, tp, raw())
	publish(t, tp, text("before"))
	late := subscribe(t, tp, raw())
	publish(t, tp, text("after"))
	assert.ElementsMatch(t, []string{"before", "after"}, bodies(receive(t, early, 2)))
	assert.Equal(t, []string{"after"}, bodies(receive(t, late, 1)), "a new subscription sees only later messages")
}

func (s *suite) testAttributes(t *testing.T) {
	tp := s.open(t, Config{})
	sub := subscribe(t, tp, raw())
	attrs := queue.Attributes{"kind": queue.String("order"), "amount": queue.Number("12.5"), "blob": queue.Binary([]byte{0, 255})}
	publish(t, tp, &pubsub.Message{Body: []byte("typed"), Attributes: attrs})
	d := receive(t, sub, 1)[0]
	for name, want := range attrs {
		got := d.Attributes[name]
		assert.Equal(t, want.BaseType(), got.BaseType(), name)
		assert.Equal(t, want.Value, got.Value, name)
		assert.Equal(t, want.Binary, got.Binary, name)
	}
}

func (s *suite) testBatch(t *testing.T) {
	tp := s.open(t, Config{})
	sub := subscribe(t, tp, raw())
	var ms []*pubsub.Message
	for i := range s.h.Caps.MaxBatch + 1 {
		ms = append(ms, text(fmt.Sprint(i)))
	}
	conformance.ErrorIs(t, s.h.Pkg, tp.Publish(ctx, ms...), postroom.ErrTooManyEntries, "ErrTooManyEntries")
	conformance.ErrorIs(t, s.h.Pkg, tp.Publish(ctx), postroom.ErrTooManyEntries, "ErrTooManyEntries")
	require.NoError(t, tp.Publish(ctx, ms[:s.h.Caps.MaxBatch]...))
	assert.Len(t, receive(t, sub, s.h.Caps.MaxBatch), s.h.Caps.MaxBatch)
	receiveNone(t, sub)
}

func (s *suite) testPartialFailure(t *testing.T) {
	tp := s.open(t, Config{})
	sub := subscribe(t, tp, raw())
	bad, want := s.h.Invalid()
	err := tp.Publish(ctx, text("good-0"), bad, text("good-2"))
	var be *postroom.BatchError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, []int{1}, be.Failed())
	assert.ErrorIs(t, be.Errs[1], want)
	assert.ElementsMatch(t, []string{"good-0", "good-2"}, bodies(receive(t, sub, 2)))
}

func (s *suite) testFilterAttributes(t *testing.T) {
	tp := s.open(t, Config{})
	all := subscribe(t, tp, raw())
	big := subscribe(t, tp, pubsub.SubscribeOptions{RawDelivery: true,
		FilterPolicy: `{"kind":["order"],"amount":[{"numeric":[">=",100]}]}`})
	publish(t, tp,
		&pubsub.Message{Body: []byte("small order"), Attributes: queue.Attributes{"kind": queue.String("order"), "amount": queue.Int(5)}},
		&pubsub.Message{Body: []byte("big order"), Attributes: queue.Attributes{"kind": queue.String("order"), "amount": queue.Int(500)}},
		&pubsub.Message{Body: []byte("big refund"), Attributes: queue.Attributes{"kind": queue.String("refund"), "amount": queue.Int(500)}},
		&pubsub.Message{Body: []byte("string amount"), Attributes: queue.Attributes{"kind": queue.String("order"), "amount": queue.String("500")}},
	)
	assert.Len(t, receive(t, all, 4), 4)
	assert.Equal(t, []string{"big order"}, bodies(receive(t, big, 1)))
	receiveNone(t, big)

	_, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{FilterPolicy: `{"kind":"order"}`})
	conformance.ErrorIs(t, s.h.Pkg, err, postroom.ErrInvalid, "an invalid filter policy")
}

func (s *suite) testFilterBody(t *testing.T) {
	tp := s.open(t, Config{})
	sub := subscribe(t, tp, pubsub.SubscribeOptions{RawDelivery: true,
		FilterPolicy: `{"order":{"status":["placed"]}}`, FilterPolicyScope: pubsub.ScopeMessageBody})
	publish(t, tp, text(`{"order":{"status":"placed","id":1}}`), text(`{"order":{"status":"shipped"}}`), text(`not json`))
	assert.Equal(t, []string{`{"order":{"status":"placed","id":1}}`}, bodies(receive(t, sub, 1)))
	receiveNone(t, sub)
}

func (s *suite) testEnvelope(t *testing.T) {
	tp := s.open(t, Config{})
	sub := subscribe(t, tp, pubsub.SubscribeOptions{})
	m := &pubsub.Message{Body: []byte("enveloped"), Subject: "hello", Attributes: queue.Attributes{"k": queue.String("v")}}
	publish(t, tp, m)
	d := receive(t, sub, 1)[0]
	var env struct {
		Type, MessageId, TopicArn, Subject, Message string
		MessageAttributes                           map[string]struct{ Type, Value string }
	}
	require.NoError(t, json.Unmarshal(d.Body, &env), "the body is the SNS JSON envelope")
	assert.Equal(t, "Notification", env.Type)
	assert.Equal(t, m.ID, env.MessageId)
	assert.Equal(t, "hello", env.Subject)
	assert.Equal(t, "enveloped", env.Message)
	assert.Equal(t, "v", env.MessageAttributes["k"].Value)
	assert.NotEmpty(t, env.TopicArn)
}

func (s *suite) testDurable(t *testing.T) {
	tp := s.open(t, Config{})
	name := fmt.Sprintf("durable-%d", time.Now().UnixNano())
	sub, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{Name: name, RawDelivery: true})
	require.NoError(t, err)
	require.NoError(t, sub.Close())
	publish(t, tp, text("kept while away"))
	again := subscribe(t, tp, pubsub.SubscribeOptions{Name: name, RawDelivery: true})
	assert.Equal(t, []string{"kept while away"}, bodies(receive(t, again, 1)))
}

func (s *suite) testFIFO(t *testing.T) {
	tp := s.open(t, Config{FIFO: true})
	sub := subscribe(t, tp, raw())
	var ms []*pubsub.Message
	for i := range 9 {
		g := []string{"a", "b", "c"}[i%3]
		ms = append(ms, &pubsub.Message{Body: fmt.Appendf(nil, "%s-%d", g, i), GroupID: g, DeduplicationID: fmt.Sprint(i)})
	}
	publish(t, tp, ms...)
	got := map[string][]string{}
	for _, d := range receive(t, sub, len(ms)) {
		g := string(d.Body[:1])
		got[g] = append(got[g], string(d.Body))
	}
	for g, bs := range got {
		assert.True(t, slices.IsSorted(bs), "group %s in order: %v", g, bs)
	}
}

func (s *suite) testUnsubscribe(t *testing.T) {
	tp := s.open(t, Config{})
	keep := subscribe(t, tp, raw())
	gone, err := tp.Subscribe(ctx, raw())
	require.NoError(t, err)
	if u, ok := gone.(pubsub.Unsubscriber); ok {
		require.NoError(t, u.Unsubscribe(ctx))
	} else {
		require.NoError(t, gone.Close())
	}
	publish(t, tp, text("after unsubscribe"))
	assert.Len(t, receive(t, keep, 1), 1)
	_, err = gone.Receive(ctx, queue.ReceiveOptions{NoWait: true})
	assert.Error(t, err, "receiving from an ended subscription fails")
}

func (s *suite) testClosed(t *testing.T) {
	tp := s.open(t, Config{})
	require.NoError(t, tp.Close())
	conformance.ErrorIs(t, s.h.Pkg, tp.Publish(ctx, text("late")), postroom.ErrClosed, "ErrClosed")
	assert.NoError(t, tp.Close(), "a second Close")
}
