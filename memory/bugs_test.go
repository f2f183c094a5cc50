package memory_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// TestDeliveryOwnsItsData changes a delivery's body and attributes: the
// next receive of the message, and another queue's copy of a fanned-out
// message, are unchanged.
func TestDeliveryOwnsItsData(t *testing.T) {
	q := newQueue(t, "owns", memory.QueueOptions{})
	require.NoError(t, q.Send(ctx,
		&queue.Message{Body: []byte("first"), Attributes: queue.Attributes{"k": queue.String("v"), "b": queue.Binary([]byte("bin"))}},
		&queue.Message{Body: []byte("second")}))
	ds := recv(t, q, 10)
	require.Len(t, ds, 2)
	ds[0].Body[0] = 'X'
	ds[0].Body = append(ds[0].Body, "-grown"...)
	ds[0].Attributes["k"] = queue.String("changed")
	ds[0].Attributes["b"].Binary[0] = 'X'
	delete(ds[0].Attributes, "b")
	assert.Equal(t, "second", string(ds[1].Body), "appending to one body leaves the next alone")
	require.NoError(t, q.Nack(ctx, 0, ds...))
	again := recv(t, q, 10)
	require.Len(t, again, 2)
	assert.Equal(t, "first", string(again[0].Body))
	assert.Equal(t, "v", again[0].Attributes.Get("k"))
	assert.Equal(t, []byte("bin"), again[0].Attributes["b"].Binary)

	tp := newTopic(t, "owns-topic", memory.TopicOptions{})
	a := newQueue(t, "owns-a", memory.QueueOptions{})
	b := newQueue(t, "owns-b", memory.QueueOptions{})
	for _, sq := range []*memory.Queue{a, b} {
		_, err := tp.SubscribeQueue(sq, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{RawDelivery: true}})
		require.NoError(t, err)
	}
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("fan"), Attributes: queue.Attributes{"k": queue.String("v")}}))
	da, db := recv(t, a, 1), recv(t, b, 1)
	require.Len(t, da, 1)
	require.Len(t, db, 1)
	done := make(chan struct{})
	go func() { // a consumer of a, changing what it got while b's reads
		defer close(done)
		da[0].Body[0] = 'X'
		da[0].Attributes["k"] = queue.String("changed")
	}()
	assert.Equal(t, "fan", string(db[0].Body))
	assert.Equal(t, "v", db[0].Attributes.Get("k"))
	<-done
}

// TestFIFODeadLetterRetention: a FIFO dead-letter queue counts retention
// and age from the move, a standard one from the original send.
func TestFIFODeadLetterRetention(t *testing.T) {
	for _, fifo := range []bool{false, true} {
		name := "retention-std"
		if fifo {
			name = "retention.fifo"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, memory.WorldOptions{})
				suffix := ""
				if fifo {
					suffix = ".fifo"
				}
				dlq, err := w.NewQueue("dlq"+suffix, memory.QueueOptions{Retention: 2 * time.Minute})
				require.NoError(t, err)
				src, err := w.NewQueue("src"+suffix, memory.QueueOptions{ContentBasedDeduplication: fifo,
					RedrivePolicy: &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: 1}})
				require.NoError(t, err)
				m := &queue.Message{Body: []byte("m")}
				if fifo {
					m.GroupID = "g"
				}
				require.NoError(t, src.Send(ctx, m))
				time.Sleep(90 * time.Second)
				ds := recv(t, src, 1)
				require.Len(t, ds, 1)
				require.NoError(t, src.Nack(ctx, 0, ds...))
				require.Empty(t, recv(t, src, 1), "moved")

				st, err := dlq.Stats(ctx)
				require.NoError(t, err)
				require.Equal(t, 1, st.Visible)
				if fifo {
					assert.Equal(t, time.Duration(0), st.OldestAge, "age from the move")
				} else {
					assert.Equal(t, 90*time.Second, st.OldestAge, "age from the send")
				}
				time.Sleep(60 * time.Second) // 150 s after the send, 60 s after the move
				got := recv(t, dlq, 1)
				if fifo {
					require.Len(t, got, 1, "2-minute retention from the move")
					assert.Equal(t, src.ARN(), got[0].DeadLetterSource)
					assert.Equal(t, 150*time.Second, time.Since(got[0].SentAt), "SentAt stays the send's")
				} else {
					assert.Empty(t, got, "2-minute retention from the send")
				}
			})
		})
	}
}

// TestPutInvalidUTF8Detail: EventBridge refuses a Detail that is not valid
// UTF-8 at Put, for that entry only.
func TestPutInvalidUTF8Detail(t *testing.T) {
	w := newWorld(t, memory.WorldOptions{})
	b, err := w.Bus("default")
	require.NoError(t, err)
	q, err := w.NewQueue("utf8", memory.QueueOptions{})
	require.NoError(t, err)
	rule(t, b, "all", `{"source":["shop"]}`, eventbus.Target{ID: "q", Queue: q})
	err = b.Put(ctx,
		&eventbus.Event{Source: "shop", DetailType: "t", Detail: []byte("{\"k\":\"\xff\"}")},
		&eventbus.Event{Source: "shop", DetailType: "t", Detail: []byte(`{"k":"ok"}`)})
	var be *postroom.BatchError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, []int{0}, be.Failed())
	require.ErrorIs(t, be.Errs[0], postroom.ErrInvalid)
	var pe *postroom.Error
	require.ErrorAs(t, be.Errs[0], &pe)
	assert.Equal(t, "MalformedDetail", pe.Code)
	assert.Len(t, drainBodies(t, q), 1, "the valid entry is put")
}
