package memory_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

func newWorld(t *testing.T, opts memory.WorldOptions) *memory.World {
	t.Helper()
	w := memory.NewWorld(opts)
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func receiveAll(t *testing.T, q *memory.Queue) []string {
	t.Helper()
	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, NoWait: true})
	require.NoError(t, err)
	return bodiesOf(ds)
}

// TestWorldsApart runs two parallel tests that each make "orders" in their
// own world: neither sees the other's messages, nor the default world's.
func TestWorldsApart(t *testing.T) {
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, memory.WorldOptions{})
			q, err := w.NewQueue("orders", memory.QueueOptions{})
			require.NoError(t, err)
			byURL, err := w.OpenQueue(ctx, "mem://orders")
			require.NoError(t, err)
			assert.Same(t, q, byURL, "a URL opens the world's queue of that name")
			for range 20 {
				require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte(name)}))
			}
			var got []string
			for {
				b := receiveAll(t, q)
				if len(b) == 0 {
					break
				}
				got = append(got, b...)
			}
			require.Len(t, got, 20)
			for _, b := range got {
				assert.Equal(t, name, b)
			}
		})
	}
	d, err := memory.Default().Queue("orders")
	if err == nil {
		assert.Empty(t, receiveAll(t, d), "the default world's orders")
	} else {
		assert.ErrorIs(t, err, postroom.ErrNotFound)
	}
}

func TestWorldNames(t *testing.T) {
	w := newWorld(t, memory.WorldOptions{AccountID: "123456789012", Region: "eu-west-1", QueueURLBase: "http://127.0.0.1:4566/"})
	assert.Equal(t, "123456789012", w.AccountID())
	assert.Equal(t, "eu-west-1", w.Region())
	q, err := w.NewQueue("orders", memory.QueueOptions{})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sqs:eu-west-1:123456789012:orders", q.ARN())
	assert.Equal(t, "http://127.0.0.1:4566/123456789012/orders", q.URL())
	assert.Same(t, w, q.World())
	tp, err := w.NewTopic("events", memory.TopicOptions{})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sns:eu-west-1:123456789012:events", tp.ARN())
	b, err := w.Bus("default")
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:events:eu-west-1:123456789012:event-bus/default", b.ARN())

	// The bus writes the world's account and region into events, and the
	// topic its ARN into notifications.
	sub, err := tp.SubscribeQueue(q, memory.SubscriptionOptions{})
	require.NoError(t, err)
	assert.Contains(t, sub.ARN(), "arn:aws:sns:eu-west-1:123456789012:events:")
	rule(t, b, "all", `{"source":["shop"]}`, eventbus.Target{ID: "t", ARN: tp.ARN()})
	require.NoError(t, b.Put(ctx, &eventbus.Event{Source: "shop", DetailType: "x", Detail: []byte(`{}`)}))
	got := receiveAll(t, q)
	require.Len(t, got, 1)
	var n memory.Notification
	require.NoError(t, json.Unmarshal([]byte(got[0]), &n))
	assert.Equal(t, tp.ARN(), n.TopicARN)
	var ev struct{ Account, Region string }
	require.NoError(t, json.Unmarshal([]byte(n.Message), &ev))
	assert.Equal(t, "123456789012", ev.Account)
	assert.Equal(t, "eu-west-1", ev.Region)

	// Defaults.
	d := newWorld(t, memory.WorldOptions{})
	dq, err := d.NewQueue("orders", memory.QueueOptions{})
	require.NoError(t, err)
	assert.Equal(t, "https://sqs.us-east-1.amazonaws.com/000000000000/orders", dq.URL())
	pq, err := memory.NewQueue("orders", memory.QueueOptions{})
	require.NoError(t, err)
	assert.NotSame(t, pq.World(), dq.World(), "package-level NewQueue makes a world of its own")
}

func TestWorldQueues(t *testing.T) {
	w := newWorld(t, memory.WorldOptions{})
	a, err := w.NewQueue("b-orders", memory.QueueOptions{VisibilityTimeout: 45e9})
	require.NoError(t, err)
	again, err := w.NewQueue("b-orders", memory.QueueOptions{VisibilityTimeout: 45e9})
	require.NoError(t, err)
	assert.Same(t, a, again, "CreateQueue is idempotent")
	_, err = w.NewQueue("b-orders", memory.QueueOptions{})
	require.ErrorIs(t, err, postroom.ErrExists)
	var pe *postroom.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "QueueNameExists", pe.Code)
	f, err := w.NewQueue("a-orders.fifo", memory.QueueOptions{})
	require.NoError(t, err)
	_, err = w.NewQueue("a-orders.fifo", memory.QueueOptions{FIFO: true})
	require.NoError(t, err, "the same options, FIFO implied by the name")
	_, err = w.NewQueue("c", memory.QueueOptions{})
	require.NoError(t, err)

	got, err := w.Queue("b-orders")
	require.NoError(t, err)
	assert.Same(t, a, got)
	got, err = w.QueueByARN(f.ARN())
	require.NoError(t, err)
	assert.Same(t, f, got)
	_, err = w.Queue("nope")
	require.ErrorIs(t, err, postroom.ErrNotFound)
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "QueueDoesNotExist", pe.Code)
	_, err = w.QueueByARN("arn:aws:sqs:eu-west-1:000000000000:b-orders")
	assert.ErrorIs(t, err, postroom.ErrNotFound, "another region's ARN")

	var names []string
	for _, q := range w.Queues("") {
		names = append(names, q.Name())
	}
	assert.Equal(t, []string{"a-orders.fifo", "b-orders", "c"}, names)
	assert.Len(t, w.Queues("b-"), 1)

	require.NoError(t, w.DeleteQueue("b-orders"))
	assert.ErrorIs(t, w.DeleteQueue("b-orders"), postroom.ErrNotFound)
	_, err = w.Queue("b-orders")
	assert.ErrorIs(t, err, postroom.ErrNotFound)
	assert.ErrorIs(t, a.Send(ctx, &queue.Message{Body: []byte("x")}), postroom.ErrClosed)
	fresh, err := w.NewQueue("b-orders", memory.QueueOptions{})
	require.NoError(t, err, "a deleted name is free again")
	assert.NotSame(t, a, fresh)

	require.NoError(t, w.Close())
	assert.ErrorIs(t, fresh.Send(ctx, &queue.Message{Body: []byte("x")}), postroom.ErrClosed)
	_, err = w.NewQueue("d", memory.QueueOptions{})
	assert.ErrorIs(t, err, postroom.ErrClosed)
	assert.Empty(t, w.Queues(""))
}

func TestWorldTopicsAndBuses(t *testing.T) {
	w := newWorld(t, memory.WorldOptions{})
	tp, err := w.NewTopic("events", memory.TopicOptions{})
	require.NoError(t, err)
	again, err := w.NewTopic("events", memory.TopicOptions{})
	require.NoError(t, err)
	assert.Same(t, tp, again)
	_, err = w.NewTopic("events", memory.TopicOptions{MaxMessageSize: 2048})
	assert.ErrorIs(t, err, postroom.ErrExists)
	byURL, err := w.OpenTopic(ctx, "mem://events")
	require.NoError(t, err)
	assert.Same(t, tp, byURL)
	got, err := w.TopicByARN(tp.ARN())
	require.NoError(t, err)
	assert.Same(t, tp, got)
	assert.Len(t, w.Topics("ev"), 1)
	require.NoError(t, w.DeleteTopic("events"))
	_, err = w.Topic("events")
	assert.ErrorIs(t, err, postroom.ErrNotFound)

	def, err := w.Bus("default")
	require.NoError(t, err)
	_, err = w.NewBus("default", memory.BusOptions{})
	assert.ErrorIs(t, err, postroom.ErrExists)
	assert.ErrorIs(t, w.DeleteBus("default"), postroom.ErrInvalid)
	b, err := w.NewBus("orders", memory.BusOptions{})
	require.NoError(t, err)
	_, err = w.NewBus("orders", memory.BusOptions{})
	assert.ErrorIs(t, err, postroom.ErrExists)
	byURL2, err := w.OpenBus(ctx, "mem://orders")
	require.NoError(t, err)
	assert.Same(t, b, byURL2)
	got2, err := w.BusByARN(def.ARN())
	require.NoError(t, err)
	assert.Same(t, def, got2)
	var names []string
	for _, b := range w.Buses("") {
		names = append(names, b.Name())
	}
	assert.Equal(t, []string{"default", "orders"}, names)
	require.NoError(t, w.DeleteBus("orders"))
	_, err = w.Bus("orders")
	assert.ErrorIs(t, err, postroom.ErrNotFound)
	assert.ErrorIs(t, b.Put(ctx, &eventbus.Event{Source: "s", DetailType: "d", Detail: []byte(`{}`)}), postroom.ErrClosed)

	_, err = w.OpenQueue(ctx, "sqs://orders")
	assert.ErrorIs(t, err, postroom.ErrInvalid)
}

// TestWorldRedriveByARN names a dead-letter queue by ARN; the redrive
// follows the ARN to a queue made again after a delete.
func TestWorldRedriveByARN(t *testing.T) {
	w := newWorld(t, memory.WorldOptions{})
	dlq, err := w.NewQueue("orders-dlq", memory.QueueOptions{})
	require.NoError(t, err)
	src, err := w.NewQueue("orders", memory.QueueOptions{RedrivePolicy: &memory.RedrivePolicy{DeadLetterQueueARN: dlq.ARN(), MaxReceiveCount: 1}})
	require.NoError(t, err)
	_, err = w.NewQueue("x", memory.QueueOptions{RedrivePolicy: &memory.RedrivePolicy{DeadLetterQueueARN: w.Queues("")[0].ARN() + "-nope", MaxReceiveCount: 1}})
	assert.ErrorIs(t, err, postroom.ErrInvalid, "a dead-letter queue that does not exist")

	redrive := func(body string) {
		t.Helper()
		require.NoError(t, src.Send(ctx, &queue.Message{Body: []byte(body)}))
		ds, err := src.Receive(ctx, queue.ReceiveOptions{NoWait: true})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		require.NoError(t, src.Nack(ctx, 0, ds...))
		ds, err = src.Receive(ctx, queue.ReceiveOptions{NoWait: true})
		require.NoError(t, err)
		require.Empty(t, ds, "moved on the second receive")
	}
	redrive("one")
	ds, err := dlq.Receive(ctx, queue.ReceiveOptions{NoWait: true})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, "one", string(ds[0].Body))
	assert.Equal(t, src.ARN(), ds[0].DeadLetterSource)

	require.NoError(t, w.DeleteQueue("orders-dlq"))
	dlq2, err := w.NewQueue("orders-dlq", memory.QueueOptions{})
	require.NoError(t, err)
	redrive("two")
	assert.Equal(t, []string{"two"}, receiveAll(t, dlq2))
}

// TestWorldSubscribeByARN subscribes a queue to a topic by ARN: it is
// found in the topic's world at each delivery.
func TestWorldSubscribeByARN(t *testing.T) {
	w := newWorld(t, memory.WorldOptions{})
	tp, err := w.NewTopic("events", memory.TopicOptions{})
	require.NoError(t, err)
	dead, err := w.NewQueue("events-dlq", memory.QueueOptions{})
	require.NoError(t, err)
	arn := "arn:aws:sqs:us-east-1:000000000000:later"
	sub, err := tp.SubscribeQueueARN(arn, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{RawDelivery: true}, DeadLetter: dead})
	require.NoError(t, err)
	assert.Nil(t, sub.Queue())
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("early")}))
	gone := receiveAll(t, dead)
	require.Len(t, gone, 1, "no queue yet: dead-lettered")
	var n memory.Notification
	require.NoError(t, json.Unmarshal([]byte(gone[0]), &n))
	assert.Equal(t, "early", n.Message)

	later, err := w.NewQueue("later", memory.QueueOptions{})
	require.NoError(t, err)
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("on time")}))
	assert.Equal(t, []string{"on time"}, receiveAll(t, later))

	_, err = tp.SubscribeQueueARN("arn:aws:sqs:us-east-1:000000000000:x.fifo", memory.SubscriptionOptions{})
	assert.ErrorIs(t, err, postroom.ErrInvalid, "a FIFO queue on a standard topic")
	_, err = tp.SubscribeQueueARN("arn:aws:sqs:eu-west-1:000000000000:later", memory.SubscriptionOptions{})
	assert.ErrorIs(t, err, postroom.ErrInvalid, "another region")
}

// FuzzWorldOpen opens a URL as a queue, a topic and a bus of a new world:
// each either fails or opens a resource that a second open returns again.
func FuzzWorldOpen(f *testing.F) {
	for _, s := range []string{
		"mem://orders?visibility=30s", "mem://o.fifo?content_based_deduplication=true&deduplication_scope=messageGroup",
		"mem://t.fifo?deduplication_scope=MessageGroup&max_message_size=2048", "mem://b?max_entry_size=262144",
		"mem://a?dlq=a&max_receive_count=3", "mem://%zz", "mem:opaque", "sqs://x", "mem://default",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		w := memory.NewWorld(memory.WorldOptions{})
		defer w.Close()
		if q, err := w.OpenQueue(ctx, raw); err == nil {
			again, err := w.OpenQueue(ctx, raw)
			if err != nil || again != q {
				t.Fatalf("second OpenQueue(%q): %v, %v", raw, again, err)
			}
			if got, err := w.QueueByARN(q.ARN()); err != nil || got != q {
				t.Fatalf("QueueByARN(%q): %v", q.ARN(), err)
			}
		} else if q != nil {
			t.Fatalf("OpenQueue(%q) returned a queue and an error", raw)
		}
		if tp, err := w.OpenTopic(ctx, raw); err == nil {
			if again, err := w.OpenTopic(ctx, raw); err != nil || again != tp {
				t.Fatalf("second OpenTopic(%q): %v", raw, err)
			}
		} else if tp != nil {
			t.Fatalf("OpenTopic(%q) returned a topic and an error", raw)
		}
		if b, err := w.OpenBus(ctx, raw); err == nil {
			if again, err := w.OpenBus(ctx, raw); err != nil || again != b {
				t.Fatalf("second OpenBus(%q): %v", raw, err)
			}
		} else if b != nil {
			t.Fatalf("OpenBus(%q) returned a bus and an error", raw)
		}
	})
}
