package memory_test

import (
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

func sqsMsg(body, group, trace string) *memory.SQSMessage {
	return &memory.SQSMessage{Message: queue.Message{Body: []byte(body), GroupID: group}, TraceHeader: trace}
}

func TestSendSQSSequenceNumbersAndTraceHeader(t *testing.T) {
	q := newQueue(t, "orders.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
	a, b, dup := sqsMsg("a", "g", "Root=1-a"), sqsMsg("b", "g", ""), sqsMsg("a", "g", "Root=1-dup")
	require.NoError(t, q.SendSQS(ctx, a, b))
	require.NoError(t, q.SendSQS(ctx, dup))
	require.NotEmpty(t, a.SequenceNumber)
	assert.Less(t, a.SequenceNumber, b.SequenceNumber, "sequence numbers grow within a group")
	assert.Len(t, a.SequenceNumber, 20)
	assert.Equal(t, a.SequenceNumber, dup.SequenceNumber, "a duplicate reports the original's number")
	assert.Equal(t, a.ID, dup.ID)

	ds, err := q.ReceiveSQS(ctx, memory.SQSReceiveOptions{ReceiveOptions: queue.ReceiveOptions{MaxMessages: 10, NoWait: true}})
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.Equal(t, "a", string(ds[0].Body))
	assert.Equal(t, "Root=1-a", ds[0].TraceHeader, "the first send's header, not the duplicate's")
	assert.Equal(t, a.SequenceNumber, ds[0].SequenceNumber)
	assert.Equal(t, "", ds[1].TraceHeader)
	assert.Equal(t, b.SequenceNumber, ds[1].SequenceNumber)

	// A standard queue has no sequence numbers but keeps trace headers.
	std := newQueue(t, "plain", memory.QueueOptions{})
	m := sqsMsg("x", "", "Root=1-x")
	require.NoError(t, std.SendSQS(ctx, m))
	assert.Empty(t, m.SequenceNumber)
	got, err := std.ReceiveSQS(ctx, memory.SQSReceiveOptions{ReceiveOptions: queue.ReceiveOptions{NoWait: true}})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "Root=1-x", got[0].TraceHeader)
	assert.Equal(t, m.ID, got[0].ID)
}

func TestSendSQSInvalidEntries(t *testing.T) {
	q := newQueue(t, "orders.fifo", memory.QueueOptions{})
	ok, bad := &memory.SQSMessage{Message: queue.Message{Body: []byte("ok"), GroupID: "g", DeduplicationID: "1"}}, sqsMsg("no dedup id", "g", "")
	err := q.SendSQS(ctx, ok, bad)
	require.ErrorIs(t, err, postroom.ErrInvalid)
	assert.NotEmpty(t, ok.SequenceNumber)
	assert.Empty(t, bad.SequenceNumber)
	assert.NoError(t, postroom.EntryErr(err, 0))
}

func TestTraceHeaderSurvivesDeadLetterMove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := memory.NewWorld(memory.WorldOptions{})
		defer w.Close()
		dlq, err := w.NewQueue("dlq", memory.QueueOptions{})
		require.NoError(t, err)
		src, err := w.NewQueue("src", memory.QueueOptions{RedrivePolicy: &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: 1}})
		require.NoError(t, err)
		require.NoError(t, src.SendSQS(ctx, sqsMsg("m", "", "Root=1-m")))
		require.Len(t, recv(t, src, 1), 1)
		time.Sleep(31 * time.Second)
		assert.Empty(t, recv(t, src, 1), "moved instead")
		got, err := dlq.ReceiveSQS(ctx, memory.SQSReceiveOptions{ReceiveOptions: queue.ReceiveOptions{NoWait: true}})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "Root=1-m", got[0].TraceHeader)
	})
}

func attemptRecv(t *testing.T, q *memory.Queue, id string, max int, vt time.Duration) []*memory.SQSDelivery {
	t.Helper()
	ds, err := q.ReceiveSQS(ctx, memory.SQSReceiveOptions{AttemptID: id,
		ReceiveOptions: queue.ReceiveOptions{MaxMessages: max, NoWait: true, VisibilityTimeout: vt}})
	require.NoError(t, err)
	return ds
}

func receipts(ds []*memory.SQSDelivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Receipt)
	}
	return out
}

func TestReceiveRequestAttemptID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const vt = 30 * time.Second
		q := newQueue(t, "orders.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
		for _, b := range []string{"g1-a", "g1-b", "g2-a", "g2-b"} {
			require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte(b), GroupID: b[:2]}))
		}
		first := attemptRecv(t, q, "attempt-1", 2, vt)
		require.Len(t, first, 2)
		assert.Equal(t, []string{"g1-a", "g1-b"}, []string{string(first[0].Body), string(first[1].Body)})

		// A retry within the visibility timeout returns the same messages
		// and receipts at once, and restarts their visibility timeout.
		time.Sleep(20 * time.Second)
		again := attemptRecv(t, q, "attempt-1", 10, vt)
		assert.Equal(t, receipts(first), receipts(again))
		assert.Equal(t, 1, again[0].ReceiveCount, "not a new receive")
		time.Sleep(20 * time.Second) // 40 s after the first receive, 20 s after the retry
		other := recv(t, q, 10)
		assert.Equal(t, []string{"g2-a", "g2-b"}, bodiesOf(other), "group g1 is still in flight")
		require.NoError(t, q.Ack(ctx, other...))

		// Another id receives anew: nothing is visible.
		assert.Empty(t, attemptRecv(t, q, "attempt-2", 10, vt))

		// Deleting one of the messages ends the replay: the retry receives
		// anew once the other is visible again.
		require.NoError(t, q.Ack(ctx, &first[0].Delivery))
		time.Sleep(11 * time.Second) // g1-b is visible again
		fresh := attemptRecv(t, q, "attempt-1", 10, vt)
		require.Len(t, fresh, 1)
		assert.Equal(t, "g1-b", string(fresh[0].Body))
		assert.Equal(t, 2, fresh[0].ReceiveCount)
		assert.NotEqual(t, first[1].Receipt, fresh[0].Receipt)

		// So does a visibility change.
		require.NoError(t, q.Extend(ctx, vt, &fresh[0].Delivery))
		time.Sleep(vt)
		changed := attemptRecv(t, q, "attempt-1", 10, 10*time.Minute)
		require.Len(t, changed, 1)
		assert.Equal(t, 3, changed[0].ReceiveCount)
		assert.NotEqual(t, fresh[0].Receipt, changed[0].Receipt)

		// An id is good for 5 minutes from the receive that recorded it.
		time.Sleep(5*time.Minute - time.Second)
		same := attemptRecv(t, q, "attempt-1", 10, 10*time.Minute)
		assert.Equal(t, receipts(changed), receipts(same))
		time.Sleep(time.Second)
		assert.Empty(t, attemptRecv(t, q, "attempt-1", 10, vt), "a new receive: the group is still locked")

		// Standard queues ignore the id; FIFO queues check it.
		std := newQueue(t, "plain", memory.QueueOptions{})
		sendBodies(t, std, "", "x")
		require.Len(t, attemptRecv(t, std, "same", 1, vt), 1)
		assert.Empty(t, attemptRecv(t, std, "same", 1, vt))
		_, err := q.ReceiveSQS(ctx, memory.SQSReceiveOptions{AttemptID: strings.Repeat("x", 129)})
		sqsError(t, err, postroom.ErrInvalid, "InvalidParameterValue",
			"Value "+strings.Repeat("x", 129)+" for parameter ReceiveRequestAttemptId is invalid. Reason: ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
	})
}

func TestReceiveRequestAttemptIDAfterPurge(t *testing.T) {
	q := newQueue(t, "orders.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
	sendBodies(t, q, "g", "a")
	require.Len(t, attemptRecv(t, q, "p", 1, time.Minute), 1)
	require.NoError(t, q.Purge(ctx))
	assert.Empty(t, attemptRecv(t, q, "p", 1, time.Minute), "purged messages are not replayed")
}

// TestSetOptionsWhileSendingAndReceiving changes a queue's options while
// other goroutines send, receive, redrive and describe: under -race it
// fails if any of them reads the options without synchronisation.
func TestSetOptionsWhileSendingAndReceiving(t *testing.T) {
	w := memory.NewWorld(memory.WorldOptions{})
	defer w.Close()
	dlq, err := w.NewQueue("dlq", memory.QueueOptions{})
	require.NoError(t, err)
	q, err := w.NewQueue("q", memory.QueueOptions{})
	require.NoError(t, err)
	const rounds = 300
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range rounds {
			o := memory.QueueOptions{VisibilityTimeout: time.Duration(1+i%3) * time.Millisecond,
				ReceiveWaitTime: time.Duration(i%2) * time.Millisecond, MaxMessageSize: 1024 << (i % 3)}
			if i%2 == 0 {
				o.RedrivePolicy = &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: 1}
			}
			assert.NoError(t, q.SetOptions(o))
		}
	})
	wg.Go(func() {
		for range rounds {
			assert.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("m")}, &queue.Message{Body: []byte("n")}))
		}
	})
	wg.Go(func() {
		for range rounds {
			_, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10})
			assert.NoError(t, err)
		}
	})
	wg.Go(func() {
		for range rounds {
			_, err := q.ReceiveSQS(ctx, memory.SQSReceiveOptions{ReceiveOptions: queue.ReceiveOptions{MaxMessages: 10, NoWait: true}})
			assert.NoError(t, err)
			_ = q.Describe()
		}
	})
	wg.Wait()
	st, err := q.Stats(ctx)
	require.NoError(t, err)
	dst, err := dlq.Stats(ctx)
	require.NoError(t, err)
	assert.Positive(t, st.Visible+st.InFlight+dst.Visible+dst.InFlight, "messages are somewhere")
}
