package queuetest

import (
	"bytes"
	"context"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/testsupport/conformance"

	"fmt"
	"slices"

	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/queue"
)

// Run runs the conformance suite against the driver h describes, each test
// in its own subtest.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("queuetest: Harness.New is nil")
	}
	s := &suite{h: h}
	conformance.Run(t, "queuetest", h.Caps.Synctest, []conformance.Test{
		{Name: "SendReceiveAck", Run: s.testSendReceiveAck},
		{Name: "Attributes", Run: s.testAttributes, Missing: conformance.Unless(h.Caps.Attributes, "Attributes")},
		{Name: "Batch", Run: s.testBatch, Missing: conformance.Unless(h.Caps.MaxBatch > 0, "MaxBatch")},
		{Name: "TooLarge", Run: s.testTooLarge, Missing: conformance.Unless(h.Caps.MaxMessageSize > 0, "MaxMessageSize")},
		{Name: "BatchPartialFailure", Run: s.testPartialFailure, Missing: conformance.Unless(h.Invalid != nil && h.Caps.MaxBatch != 1, "Harness.Invalid")},
		{Name: "NackRedelivers", Run: s.testNack},
		{Name: "NackDelay", Run: s.testNackDelay, Missing: conformance.Unless(h.Caps.NackDelay, "NackDelay")},
		{Name: "VisibilityTimeout", Run: s.testVisibility, Missing: conformance.Unless(h.Caps.VisibilityTimeout, "VisibilityTimeout")},
		{Name: "Extend", Run: s.testExtend, Missing: conformance.Unless(h.Caps.Extend && h.Caps.VisibilityTimeout, "Extend and VisibilityTimeout")},
		{Name: "Delay", Run: s.testDelay, Missing: conformance.Unless(h.Caps.Delay, "Delay")},
		{Name: "LongPollReturnsEarly", Run: s.testLongPollEarly},
		{Name: "LongPollCancel", Run: s.testLongPollCancel},
		{Name: "Closed", Run: s.testClosed},
		{Name: "Purge", Run: s.testPurge, Missing: conformance.Unless(h.Caps.Purge, "Purge")},
		{Name: "Stats", Run: s.testStats, Missing: conformance.Unless(h.Caps.Stats, "Stats")},
		{Name: "StaleReceipt", Run: s.testStaleReceipt, Missing: conformance.Unless(h.Caps.StaleReceiptDeletes && h.Caps.VisibilityTimeout, "StaleReceiptDeletes")},
		{Name: "FIFOOrder", Run: s.testFIFOOrder, Missing: conformance.Unless(h.Caps.FIFO, "FIFO")},
		{Name: "FIFOGroupLock", Run: s.testFIFOGroupLock, Missing: conformance.Unless(h.Caps.FIFO, "FIFO")},
		{Name: "FIFOStaleReceipt", Run: s.testFIFOStaleReceipt, Missing: conformance.Unless(h.Caps.FIFO && h.Caps.VisibilityTimeout && h.Caps.StaleReceiptDeletes, "FIFO, VisibilityTimeout and StaleReceiptDeletes")},
		{Name: "FIFODeduplication", Run: s.testDedup, Missing: conformance.Unless(h.Caps.FIFO && h.Caps.Deduplication, "FIFO and Deduplication")},
	})
}

type suite struct{ h Harness }

// open makes a queue for one test and closes it when the test ends.
func (s *suite) open(t *testing.T, cfg Config) queue.Queue {
	t.Helper()
	q := s.h.New(t, cfg)
	require.NotNil(t, q, "Harness.New returned nil")
	t.Cleanup(func() { _ = q.Close() })
	return q
}

const (
	pollWait = 2 * time.Second  // one long poll of the suite
	patience = 20 * time.Second // how long the suite waits for a message that must come
)

// receive collects n deliveries, long-polling until they came or patience
// ran out.
func receive(t *testing.T, q queue.Queue, n int) []*queue.Delivery {
	t.Helper()
	var got []*queue.Delivery
	deadline := time.Now().Add(patience)
	for len(got) < n && time.Now().Before(deadline) {
		ds, err := q.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: min(n-len(got), 10), WaitTime: pollWait})
		require.NoError(t, err)
		got = append(got, ds...)
	}
	require.Len(t, got, n, "messages received")
	return got
}

// receiveNone checks that no message arrives within wait.
func receiveNone(t *testing.T, q queue.Queue, wait time.Duration) {
	t.Helper()
	ds, err := q.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 10, WaitTime: wait})
	require.NoError(t, err)
	require.Empty(t, ds, "no message should be visible, got %q", bodies(ds))
}

func bodies(ds []*queue.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d.Body)
	}
	return out
}

func msg(body string) *queue.Message { return &queue.Message{Body: []byte(body)} }

func send(t *testing.T, q queue.Queue, msgs ...*queue.Message) {
	t.Helper()
	for chunk := range slices.Chunk(msgs, 10) {
		require.NoError(t, q.Send(context.Background(), chunk...))
	}
}

func ack(t *testing.T, q queue.Queue, ds ...*queue.Delivery) {
	t.Helper()
	for chunk := range slices.Chunk(ds, 10) {
		require.NoError(t, q.Ack(context.Background(), chunk...))
	}
}

func (s *suite) testSendReceiveAck(t *testing.T) {
	q := s.open(t, Config{})
	ms := []*queue.Message{msg("one"), msg("two"), msg("three")}
	send(t, q, ms...)
	for _, m := range ms {
		assert.NotEmpty(t, m.ID, "Send sets the message id")
	}
	ds := receive(t, q, 3)
	assert.ElementsMatch(t, []string{"one", "two", "three"}, bodies(ds))
	for _, d := range ds {
		assert.NotEmpty(t, d.Receipt, "a delivery has a receipt")
		assert.GreaterOrEqual(t, d.ReceiveCount, 1)
		i := slices.IndexFunc(ms, func(m *queue.Message) bool { return string(m.Body) == string(d.Body) })
		assert.Equal(t, ms[i].ID, d.ID, "the delivery carries the id Send returned")
		conformance.CheckAs(t, d, s.h.As)
	}
	ack(t, q, ds...)
	receiveNone(t, q, time.Second)
}

func (s *suite) testAttributes(t *testing.T) {
	q := s.open(t, Config{})
	attrs := queue.Attributes{
		"customer": queue.String("c-42"),
		"amount":   queue.Number("12.5"),
		"blob":     queue.Binary([]byte{0, 1, 2, 255}),
	}
	send(t, q, &queue.Message{Body: []byte("with attributes"), Attributes: attrs})
	d := receive(t, q, 1)[0]
	for name, want := range attrs {
		got, ok := d.Attributes[name]
		if assert.True(t, ok, "attribute %s delivered", name) {
			assert.Equal(t, want.BaseType(), got.BaseType(), "type of %s", name)
			assert.Equal(t, want.Value, got.Value, "value of %s", name)
			assert.Equal(t, want.Binary, got.Binary, "binary value of %s", name)
		}
	}
	ack(t, q, d)
}

func (s *suite) testBatch(t *testing.T) {
	q := s.open(t, Config{})
	max := s.h.Caps.MaxBatch
	ms := make([]*queue.Message, max)
	for i := range ms {
		ms[i] = msg(fmt.Sprintf("m%d", i))
	}
	require.NoError(t, q.Send(context.Background(), ms...))

	over := append(slices.Clone(ms), msg("one too many"))
	err := q.Send(context.Background(), over...)
	if !conformance.ErrorIs(t, s.h.Pkg, err, postroom.ErrTooManyEntries, "ErrTooManyEntries") {
		t.FailNow()
	}
	err = q.Send(context.Background())
	if !conformance.ErrorIs(t, s.h.Pkg, err, postroom.ErrTooManyEntries, "an empty batch") {
		t.FailNow()
	}

	ds := receive(t, q, max)
	assert.Len(t, ds, max, "the rejected batch sent nothing")
	ack(t, q, ds...)
	receiveNone(t, q, time.Second)
}

func (s *suite) testTooLarge(t *testing.T) {
	q := s.open(t, Config{})
	big := &queue.Message{Body: bytes.Repeat([]byte("x"), s.h.Caps.MaxMessageSize+1)}
	err := q.Send(context.Background(), big)
	if !conformance.ErrorIs(t, s.h.Pkg, err, postroom.ErrTooLarge, "ErrTooLarge") {
		t.FailNow()
	}
	fits := &queue.Message{Body: bytes.Repeat([]byte("y"), s.h.Caps.MaxMessageSize)}
	require.NoError(t, q.Send(context.Background(), fits), "a message of exactly the limit")
	d := receive(t, q, 1)[0]
	assert.Len(t, d.Body, s.h.Caps.MaxMessageSize)
	ack(t, q, d)
}

func (s *suite) testPartialFailure(t *testing.T) {
	q := s.open(t, Config{})
	bad, wantErr := s.h.Invalid()
	ms := []*queue.Message{msg("good-0"), bad, msg("good-2")}
	err := q.Send(context.Background(), ms...)
	var be *postroom.BatchError
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Errs, 3, "one entry per message")
	assert.NoError(t, be.Errs[0])
	assert.ErrorIs(t, be.Errs[1], wantErr)
	assert.NoError(t, be.Errs[2])
	assert.Equal(t, []int{1}, be.Failed())
	assert.ErrorIs(t, err, wantErr, "errors.Is sees into a BatchError")
	ds := receive(t, q, 2)
	assert.ElementsMatch(t, []string{"good-0", "good-2"}, bodies(ds))
	ack(t, q, ds...)
}

func (s *suite) testNack(t *testing.T) {
	q := s.open(t, Config{})
	send(t, q, msg("again"))
	d := receive(t, q, 1)[0]
	require.NoError(t, q.Nack(context.Background(), 0, d))
	d2 := receive(t, q, 1)[0]
	assert.Equal(t, "again", string(d2.Body))
	assert.Equal(t, d.ID, d2.ID)
	if s.h.Caps.ReceiveCount {
		assert.Equal(t, d.ReceiveCount+1, d2.ReceiveCount, "the receive count grows")
	}
	ack(t, q, d2)
	receiveNone(t, q, time.Second)
}

func (s *suite) testNackDelay(t *testing.T) {
	q := s.open(t, Config{})
	send(t, q, msg("later"))
	d := receive(t, q, 1)[0]
	const delay = 3 * time.Second
	nacked := time.Now()
	require.NoError(t, q.Nack(context.Background(), delay, d))
	receiveNone(t, q, time.Second)
	d2 := receive(t, q, 1)[0]
	assert.GreaterOrEqual(t, time.Since(nacked), delay-100*time.Millisecond, "redelivered after the delay")
	assert.Equal(t, "later", string(d2.Body))
	if s.h.Caps.ReceiveCount {
		assert.Equal(t, d.ReceiveCount+1, d2.ReceiveCount)
	}
	ack(t, q, d2)
}

func (s *suite) testVisibility(t *testing.T) {
	const vt = 2 * time.Second
	q := s.open(t, Config{VisibilityTimeout: vt})
	send(t, q, msg("unacked"))
	first := time.Now()
	d := receive(t, q, 1)[0]
	receiveNone(t, q, vt/4)
	d2 := receive(t, q, 1)[0]
	assert.GreaterOrEqual(t, time.Since(first), vt-100*time.Millisecond, "not redelivered before the visibility timeout")
	assert.Equal(t, d.ID, d2.ID)
	assert.NotEqual(t, d.Receipt, d2.Receipt, "every receive issues a new receipt")
	if s.h.Caps.ReceiveCount {
		assert.Equal(t, 2, d2.ReceiveCount)
	}
	ack(t, q, d2)
}

func (s *suite) testExtend(t *testing.T) {
	const vt = 2 * time.Second
	q := s.open(t, Config{VisibilityTimeout: vt})
	ext, ok := q.(queue.Extender)
	require.True(t, ok, "the driver declares Extend but its queue is no queue.Extender")
	send(t, q, msg("slow"))
	d := receive(t, q, 1)[0]
	require.NoError(t, ext.Extend(context.Background(), 3*vt, d))
	receiveNone(t, q, 2*vt) // past the original timeout
	ack(t, q, d)
	receiveNone(t, q, 2*vt)
}

func (s *suite) testDelay(t *testing.T) {
	q := s.open(t, Config{})
	const delay = 2 * time.Second
	sent := time.Now()
	send(t, q, &queue.Message{Body: []byte("delayed"), Delay: delay}, msg("now"))
	d := receive(t, q, 1)[0]
	assert.Equal(t, "now", string(d.Body), "the undelayed message comes first")
	d2 := receive(t, q, 1)[0]
	assert.Equal(t, "delayed", string(d2.Body))
	assert.GreaterOrEqual(t, time.Since(sent), delay-100*time.Millisecond)
	ack(t, q, d, d2)
}

func (s *suite) testLongPollEarly(t *testing.T) {
	q := s.open(t, Config{})
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(200 * time.Millisecond)
		assert.NoError(t, q.Send(context.Background(), msg("wake up")))
	})
	start := time.Now()
	ds, err := q.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 10, WaitTime: 20 * time.Second})
	wg.Wait()
	require.NoError(t, err)
	if len(ds) == 0 { // a transport may deliver a moment later
		ds = receive(t, q, 1)
	}
	assert.Less(t, time.Since(start), 10*time.Second, "a long poll returns as soon as a message is available")
	require.Len(t, ds, 1)
	ack(t, q, ds...)
}

func (s *suite) testLongPollCancel(t *testing.T) {
	q := s.open(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: 20 * time.Second})
	assert.Empty(t, ds)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "cancelling the context ends the long poll")
}

func (s *suite) testClosed(t *testing.T) {
	q := s.open(t, Config{})
	send(t, q, msg("before close"))
	d := receive(t, q, 1)[0]
	require.NoError(t, q.Close())
	ctx := context.Background()
	conformance.ErrorIs(t, s.h.Pkg, q.Send(ctx, msg("after close")), postroom.ErrClosed, "Send")
	_, err := q.Receive(ctx, queue.ReceiveOptions{WaitTime: time.Second})
	conformance.ErrorIs(t, s.h.Pkg, err, postroom.ErrClosed, "Receive")
	conformance.ErrorIs(t, s.h.Pkg, q.Ack(ctx, d), postroom.ErrClosed, "Ack")
	conformance.ErrorIs(t, s.h.Pkg, q.Nack(ctx, 0, d), postroom.ErrClosed, "Nack")
	assert.NoError(t, q.Close(), "a second Close")
}

func (s *suite) testPurge(t *testing.T) {
	q := s.open(t, Config{})
	p, ok := q.(queue.Purger)
	require.True(t, ok, "the driver declares Purge but its queue is no queue.Purger")
	send(t, q, msg("a"), msg("b"), msg("c"))
	_ = receive(t, q, 1) // one in flight: purged too
	require.NoError(t, p.Purge(context.Background()))
	receiveNone(t, q, time.Second)
}

func (s *suite) testStats(t *testing.T) {
	q := s.open(t, Config{})
	st, ok := q.(queue.Stater)
	require.True(t, ok, "the driver declares Stats but its queue is no queue.Stater")
	ms := []*queue.Message{msg("a"), msg("b"), msg("c")}
	if s.h.Caps.Delay {
		ms = append(ms, &queue.Message{Body: []byte("d"), Delay: time.Minute})
	}
	send(t, q, ms...)
	d := receive(t, q, 1)[0]
	got, err := st.Stats(context.Background())
	require.NoError(t, err)
	want := queue.Stats{Visible: 2, InFlight: 1}
	if s.h.Caps.Delay {
		want.Delayed = 1
	}
	assert.Equal(t, want, got)
	ack(t, q, d)
}

func (s *suite) testStaleReceipt(t *testing.T) {
	const vt = 2 * time.Second
	q := s.open(t, Config{VisibilityTimeout: vt})
	send(t, q, msg("stale"))
	old := receive(t, q, 1)[0]
	time.Sleep(vt + 100*time.Millisecond)
	fresh := receive(t, q, 1)[0]
	assert.NotEqual(t, old.Receipt, fresh.Receipt)
	require.NoError(t, q.Ack(context.Background(), old), "a standard queue deletes with an old receipt")
	receiveNone(t, q, vt+time.Second)
}

func (s *suite) testFIFOStaleReceipt(t *testing.T) {
	const vt = 2 * time.Second
	q := s.open(t, Config{FIFO: true, VisibilityTimeout: vt, ContentBasedDeduplication: true})
	send(t, q, &queue.Message{Body: []byte("stale"), GroupID: "g"})
	old := receive(t, q, 1)[0]
	time.Sleep(vt + 100*time.Millisecond)
	err := q.Ack(context.Background(), old)
	if !conformance.ErrorIs(t, s.h.Pkg, err, postroom.ErrReceiptExpired, "ErrReceiptExpired") {
		t.FailNow()
	}
	d := receive(t, q, 1)[0]
	assert.Equal(t, old.ID, d.ID, "the message was not deleted")
	ack(t, q, d)
}

func (s *suite) testFIFOOrder(t *testing.T) {
	q := s.open(t, Config{FIFO: true, ContentBasedDeduplication: true})
	var ms []*queue.Message
	for i := range 12 {
		g := []string{"a", "b", "c"}[i%3]
		ms = append(ms, &queue.Message{Body: fmt.Appendf(nil, "%s-%02d", g, i), GroupID: g})
	}
	send(t, q, ms...)
	got := map[string][]string{}
	for received := 0; received < len(ms); {
		ds := receive(t, q, 1)
		for _, d := range ds {
			got[d.GroupID] = append(got[d.GroupID], string(d.Body))
		}
		ack(t, q, ds...)
		received += len(ds)
	}
	for g, bs := range got {
		assert.True(t, slices.IsSorted(bs), "group %s delivered in order: %v", g, bs)
		assert.Len(t, bs, 4, "group %s", g)
	}
}

func (s *suite) testFIFOGroupLock(t *testing.T) {
	q := s.open(t, Config{FIFO: true, ContentBasedDeduplication: true})
	send(t, q,
		&queue.Message{Body: []byte("a1"), GroupID: "a"},
		&queue.Message{Body: []byte("a2"), GroupID: "a"},
		&queue.Message{Body: []byte("b1"), GroupID: "b"})
	ds, err := q.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 1, WaitTime: pollWait})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	first := ds[0]
	require.Equal(t, "a1", string(first.Body), "the oldest message comes first")
	// While a1 is in flight, group a is locked: only b1 can come.
	ds, err = q.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 10, WaitTime: pollWait})
	require.NoError(t, err)
	assert.Equal(t, []string{"b1"}, bodies(ds), "group a is locked while a1 is in flight")
	ack(t, q, ds...)
	ack(t, q, first)
	d := receive(t, q, 1)[0]
	assert.Equal(t, "a2", string(d.Body), "acking a1 unlocks group a")
	ack(t, q, d)
}

func (s *suite) testDedup(t *testing.T) {
	q := s.open(t, Config{FIFO: true})
	m1 := &queue.Message{Body: []byte("pay"), GroupID: "g", DeduplicationID: "order-1"}
	m2 := &queue.Message{Body: []byte("pay again"), GroupID: "g", DeduplicationID: "order-1"}
	send(t, q, m1)
	send(t, q, m2)
	d := receive(t, q, 1)[0]
	assert.Equal(t, "pay", string(d.Body))
	ack(t, q, d)
	// Deduplication survives the delete.
	send(t, q, &queue.Message{Body: []byte("pay a third time"), GroupID: "g", DeduplicationID: "order-1"})
	receiveNone(t, q, time.Second)

	// Without an id or content-based deduplication, FIFO refuses.
	err := q.Send(context.Background(), &queue.Message{Body: []byte("x"), GroupID: "g"})
	conformance.ErrorIs(t, s.h.Pkg, err, postroom.ErrInvalid, "ErrInvalid")
	err = q.Send(context.Background(), &queue.Message{Body: []byte("x"), DeduplicationID: "d"})
	conformance.ErrorIs(t, s.h.Pkg, err, postroom.ErrInvalid, "FIFO requires a group id")

	cq := s.open(t, Config{FIFO: true, ContentBasedDeduplication: true})
	send(t, cq, &queue.Message{Body: []byte("same"), GroupID: "g"})
	send(t, cq, &queue.Message{Body: []byte("same"), GroupID: "g"})
	send(t, cq, &queue.Message{Body: []byte("other"), GroupID: "g"})
	ds := receive(t, cq, 2)
	assert.Equal(t, []string{"same", "other"}, bodies(ds))
	ack(t, cq, ds...)
	receiveNone(t, cq, time.Second)
}
