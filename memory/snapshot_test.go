package memory_test

import (
	"bytes"
	"encoding/json"
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

func TestSnapshotRestore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := memory.NewWorld(memory.WorldOptions{Region: "eu-west-1"})
		defer w.Close()
		dlq, err := w.NewQueue("dlq", memory.QueueOptions{})
		require.NoError(t, err)
		src, err := w.NewQueue("src", memory.QueueOptions{VisibilityTimeout: time.Minute,
			RedrivePolicy: &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: 2}})
		require.NoError(t, err)
		fifo, err := w.NewQueue("f.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
		require.NoError(t, err)

		// src: one in flight (received once), one visible, one delayed.
		require.NoError(t, src.SendSQS(ctx, sqsMsg("inflight", "", "Root=1-a")))
		ds := recv(t, src, 1)
		require.Len(t, ds, 1)
		require.NoError(t, src.Send(ctx, &queue.Message{Body: []byte("visible"),
			Attributes: queue.Attributes{"k": queue.String("v"), "b": {Type: "Binary", Binary: []byte{0, 1}}}}))
		require.NoError(t, src.Send(ctx, &queue.Message{Body: []byte("delayed"), Delay: 10 * time.Minute}))
		// fifo: group g locked by an in-flight message, one behind it.
		sent := sqsMsg("f1", "g", "")
		require.NoError(t, fifo.SendSQS(ctx, sent, sqsMsg("f2", "g", "")))
		fds := recv(t, fifo, 1)
		require.Len(t, fds, 1)

		topic, err := w.NewTopic("events", memory.TopicOptions{})
		require.NoError(t, err)
		require.NoError(t, topic.SetAttribute("DisplayName", "Events"))
		require.NoError(t, topic.Tag(map[string]string{"team": "a"}))
		sub, err := topic.SubscribeQueueARN(dlq.ARN(), memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{
			FilterPolicy: `{"kind":["keep"]}`, RawDelivery: true}})
		require.NoError(t, err)
		email, _, err := topic.SubscribeEndpoint("sms", "+15555550100", map[string]string{"FilterPolicy": `{"kind":["sms"]}`})
		require.NoError(t, err)
		bus, err := w.Bus("default")
		require.NoError(t, err)
		require.NoError(t, bus.PutRule(ctx, eventbus.Rule{Name: "r", EventPattern: `{"source":["app"]}`}))
		require.NoError(t, bus.PutTargets(ctx, "r", eventbus.Target{ID: "t", ARN: dlq.ARN(), InputPath: "$.detail"}))
		require.NoError(t, bus.CreateArchive(ctx, "all", eventbus.ArchiveOptions{}))
		require.NoError(t, bus.Put(ctx, &eventbus.Event{Source: "other", DetailType: "x", Detail: json.RawMessage(`{}`)}))

		var buf bytes.Buffer
		require.NoError(t, w.Snapshot(&buf))
		w2 := memory.NewWorld(memory.WorldOptions{Region: "eu-west-1"})
		defer w2.Close()
		require.NoError(t, w2.Restore(bytes.NewReader(buf.Bytes())))
		assert.ErrorIs(t, w2.Restore(bytes.NewReader(buf.Bytes())), postroom.ErrInvalid, "only into an empty world")

		// FIFO: the group stays locked, deduplication goes on, sequence
		// numbers go up.
		fifo2, err := w2.Queue("f.fifo")
		require.NoError(t, err)
		assert.Empty(t, recv(t, fifo2, 10))
		dup := sqsMsg("f1", "g", "")
		require.NoError(t, fifo2.SendSQS(ctx, dup))
		assert.Equal(t, sent.ID, dup.ID)
		require.NoError(t, fifo2.Ack(ctx, fds[0]))
		f2 := recv(t, fifo2, 10)
		assert.Equal(t, []string{"f2"}, bodiesOf(f2))
		next := sqsMsg("f3", "g", "")
		require.NoError(t, fifo2.SendSQS(ctx, next))
		assert.Greater(t, next.SequenceNumber, f2[0].SequenceNumber)

		src2, err := w2.Queue("src")
		require.NoError(t, err)
		st, err := src2.Stats(ctx)
		require.NoError(t, err)
		assert.Equal(t, queue.Stats{Visible: 1, InFlight: 1, Delayed: 1}, queue.Stats{Visible: st.Visible, InFlight: st.InFlight, Delayed: st.Delayed})
		assert.Equal(t, time.Minute, src2.Options().VisibilityTimeout)
		require.NotNil(t, src2.Options().RedrivePolicy)
		assert.Equal(t, "arn:aws:sqs:eu-west-1:000000000000:dlq", src2.Options().RedrivePolicy.DeadLetterQueue.ARN())
		got := recv(t, src2, 10)
		require.Len(t, got, 1)
		assert.Equal(t, "visible", string(got[0].Body))
		assert.Equal(t, queue.Attributes{"k": queue.String("v"), "b": {Type: "Binary", Binary: []byte{0, 1}}}, got[0].Attributes)
		require.NoError(t, src2.Ack(ctx, got[0]))

		// The in-flight message comes back when its timeout ends, with its
		// count and trace header; its old receipt still works until then.
		require.NoError(t, src2.Extend(ctx, 2*time.Minute, ds[0]))
		time.Sleep(2 * time.Minute)
		again, err := src2.ReceiveSQS(ctx, memory.SQSReceiveOptions{ReceiveOptions: queue.ReceiveOptions{NoWait: true}})
		require.NoError(t, err)
		require.Len(t, again, 1)
		assert.Equal(t, ds[0].ID, again[0].ID)
		assert.Equal(t, 2, again[0].ReceiveCount)
		assert.Equal(t, "Root=1-a", again[0].TraceHeader)
		time.Sleep(time.Minute)
		assert.Empty(t, recv(t, src2, 10), "moved to the dead-letter queue on the third receive")
		time.Sleep(10 * time.Minute)
		assert.Equal(t, []string{"delayed"}, bodiesOf(recv(t, src2, 10)))

		// The topic delivers by its filter policy; the rule routes; the
		// archive kept its event.
		topic2, err := w2.Topic("events")
		require.NoError(t, err)
		assert.Equal(t, "Events", topic2.Attributes()["DisplayName"])
		assert.Equal(t, map[string]string{"team": "a"}, topic2.Tags())
		subs := topic2.Subscriptions()
		require.Len(t, subs, 2)
		byARN := map[string]memory.SubscriptionInfo{subs[0].ARN: subs[0], subs[1].ARN: subs[1]}
		assert.Equal(t, "true", byARN[sub.ARN()].Attributes["RawMessageDelivery"])
		assert.Equal(t, `{"kind":["sms"]}`, byARN[email.ARN].Attributes["FilterPolicy"])
		assert.Equal(t, "sms", byARN[email.ARN].Protocol)
		require.NoError(t, topic2.Publish(ctx, &pubsub.Message{Body: []byte("no")},
			&pubsub.Message{Body: []byte("yes"), Attributes: queue.Attributes{"kind": queue.String("keep")}}))
		bus2, err := w2.Bus("default")
		require.NoError(t, err)
		require.NoError(t, bus2.Put(ctx, &eventbus.Event{Source: "app", DetailType: "x", Detail: json.RawMessage(`{"n":1}`)}))
		dlq2, err := w2.Queue("dlq")
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"inflight", "yes", `{"n":1}`}, bodiesOf(recv(t, dlq2, 10)))
		a, err := bus2.DescribeArchive(ctx, "all")
		require.NoError(t, err)
		assert.Equal(t, 2, a.EventCount, "the event before the snapshot and the one after")
		targets, err := bus2.ListTargets(ctx, "r")
		require.NoError(t, err)
		require.Len(t, targets, 1)
		assert.Equal(t, "$.detail", targets[0].InputPath)

		assert.ErrorIs(t, memory.NewWorld(memory.WorldOptions{}).Restore(bytes.NewReader([]byte("{"))), postroom.ErrInvalid)
	})
}

// FuzzRestore feeds Restore damaged snapshots: it must fail or restore a
// world that works, never panic.
func FuzzRestore(f *testing.F) {
	w := memory.NewWorld(memory.WorldOptions{})
	q, err := w.NewQueue("f.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
	require.NoError(f, err)
	require.NoError(f, q.Send(ctx, &queue.Message{Body: []byte("a"), GroupID: "g"}, &queue.Message{Body: []byte("b"), GroupID: "g"}))
	_, err = q.Receive(ctx, queue.ReceiveOptions{NoWait: true})
	require.NoError(f, err)
	s, err := w.NewQueue("s", memory.QueueOptions{})
	require.NoError(f, err)
	require.NoError(f, s.Send(ctx, &queue.Message{Body: []byte("c"), Attributes: queue.Attributes{"k": queue.String("v")}}))
	_, err = w.NewTopic("t", memory.TopicOptions{})
	require.NoError(f, err)
	var buf bytes.Buffer
	require.NoError(f, w.Snapshot(&buf))
	require.NoError(f, w.Close())
	f.Add(buf.Bytes())
	f.Add([]byte(`{"Version":1,"Queues":[{"Name":"s","Dedup":{"k":{}},"Messages":[{"Serial":1,"Body":"YQ=="},{"Serial":1,"Body":"YQ==","InFlight":true}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := memory.NewWorld(memory.WorldOptions{})
		defer w.Close()
		if w.Restore(bytes.NewReader(data)) != nil {
			return
		}
		for _, q := range w.Queues("") {
			for range 3 {
				ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, NoWait: true})
				if err != nil || len(ds) == 0 {
					break
				}
				_ = q.Ack(ctx, ds...)
			}
			_, _ = q.Stats(ctx)
		}
	})
}
