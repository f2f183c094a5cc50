package memory_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

var ctx = context.Background()

func newQueue(t *testing.T, name string, opts memory.QueueOptions) *memory.Queue {
	t.Helper()
	q, err := memory.NewQueue(name, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Close() })
	return q
}

func sendBodies(t *testing.T, q *memory.Queue, group string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte(b), GroupID: group}))
	}
}

func recv(t *testing.T, q *memory.Queue, max int, opts ...func(*queue.ReceiveOptions)) []*queue.Delivery {
	t.Helper()
	o := queue.ReceiveOptions{MaxMessages: max, NoWait: true}
	for _, f := range opts {
		f(&o)
	}
	ds, err := q.Receive(ctx, o)
	require.NoError(t, err)
	return ds
}

func bodiesOf(ds []*queue.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Body))
	}
	return out
}

// sqsError asserts err is a *postroom.Error with SQS's code and message.
func sqsError(t *testing.T, err error, sentinel error, code, message string) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var qe *postroom.Error
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, code, qe.Code)
	assert.Equal(t, message, qe.Message)
}

func TestVisibilityTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "vis", memory.QueueOptions{})
		sendBodies(t, q, "", "m")
		start := time.Now()
		d := recv(t, q, 1)[0]
		assert.Equal(t, start, d.ReceivedAt)
		assert.Equal(t, start, d.FirstReceivedAt)
		assert.Equal(t, start, d.SentAt)

		time.Sleep(30*time.Second - time.Nanosecond)
		assert.Empty(t, recv(t, q, 10), "invisible for the default 30 s")
		time.Sleep(time.Nanosecond)
		d2 := recv(t, q, 1)[0]
		assert.Equal(t, 2, d2.ReceiveCount)
		assert.Equal(t, start, d2.FirstReceivedAt, "the first receive time is kept")
		assert.Equal(t, start.Add(30*time.Second), d2.ReceivedAt)
		assert.NotEqual(t, d.Receipt, d2.Receipt)

		// Per-receive override.
		require.NoError(t, q.Nack(ctx, 0, d2))
		d3 := recv(t, q, 1, func(o *queue.ReceiveOptions) { o.VisibilityTimeout = 5 * time.Second })[0]
		time.Sleep(5 * time.Second)
		d4 := recv(t, q, 1)[0]
		assert.Equal(t, 4, d4.ReceiveCount)
		_ = d3

		// A change counts from the call: 15 s in, set 10 s → visible at 25 s.
		time.Sleep(15 * time.Second)
		require.NoError(t, q.Extend(ctx, 10*time.Second, d4))
		time.Sleep(10*time.Second - time.Nanosecond)
		assert.Empty(t, recv(t, q, 1))
		time.Sleep(time.Nanosecond)
		assert.Len(t, recv(t, q, 1), 1)
	})
}

func TestVisibilityCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "cap", memory.QueueOptions{VisibilityTimeout: time.Hour})
		sendBodies(t, q, "", "m")
		d := recv(t, q, 1)[0]
		time.Sleep(10 * time.Second)
		// 12 h from now would pass the 12-hour cap that runs from the receive.
		err := q.Extend(ctx, 12*time.Hour, d)
		sqsError(t, postroom.EntryErr(err, 0), postroom.ErrInvalid, "InvalidParameterValue",
			"Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]")
		require.NoError(t, q.Extend(ctx, 12*time.Hour-10*time.Second, d), "up to the cap is fine")

		err = q.Extend(ctx, 12*time.Hour+time.Second, d)
		require.ErrorIs(t, err, postroom.ErrInvalid, "above 12 hours is never valid")
		_, err = q.Receive(ctx, queue.ReceiveOptions{VisibilityTimeout: 13 * time.Hour})
		require.ErrorIs(t, err, postroom.ErrInvalid)
		_, err = memory.NewQueue("bad", memory.QueueOptions{VisibilityTimeout: 13 * time.Hour})
		require.ErrorIs(t, err, postroom.ErrInvalid)
	})
}

func TestLongPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "poll", memory.QueueOptions{})
		start := time.Now()
		ds, err := q.Receive(ctx, queue.ReceiveOptions{WaitTime: 20 * time.Second})
		require.NoError(t, err)
		assert.Empty(t, ds)
		assert.Equal(t, 20*time.Second, time.Since(start), "an empty long poll waits the whole wait time")

		go func() {
			time.Sleep(3 * time.Second)
			sendBodies(t, q, "", "a")
		}()
		start = time.Now()
		ds, err = q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: 20 * time.Second})
		require.NoError(t, err)
		assert.Equal(t, []string{"a"}, bodiesOf(ds))
		assert.Equal(t, 3*time.Second, time.Since(start), "returns as soon as a message is available")

		// A delayed message ends a long poll when its delay passes.
		require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("d"), Delay: 5 * time.Second}))
		start = time.Now()
		ds, err = q.Receive(ctx, queue.ReceiveOptions{WaitTime: 20 * time.Second})
		require.NoError(t, err)
		assert.Equal(t, []string{"d"}, bodiesOf(ds))
		assert.Equal(t, 5*time.Second, time.Since(start))

		// The queue's default wait applies when the receive sets none.
		q2 := newQueue(t, "poll2", memory.QueueOptions{ReceiveWaitTime: 7 * time.Second})
		start = time.Now()
		_, err = q2.Receive(ctx, queue.ReceiveOptions{})
		require.NoError(t, err)
		assert.Equal(t, 7*time.Second, time.Since(start))

		// Closing the queue ends a pending long poll.
		go func() {
			time.Sleep(time.Second)
			_ = q2.Close()
		}()
		_, err = q2.Receive(ctx, queue.ReceiveOptions{WaitTime: 20 * time.Second})
		require.ErrorIs(t, err, postroom.ErrClosed)
	})
}

func TestReceiveLimits(t *testing.T) {
	q := newQueue(t, "limits", memory.QueueOptions{})
	_, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 11})
	sqsError(t, err, postroom.ErrInvalid, "InvalidParameterValue",
		"Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")
	_, err = q.Receive(ctx, queue.ReceiveOptions{WaitTime: 21 * time.Second})
	sqsError(t, err, postroom.ErrInvalid, "InvalidParameterValue",
		"Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.")

	for i := range 15 {
		sendBodies(t, q, "", fmt.Sprint(i))
	}
	assert.Len(t, recv(t, q, 10), 10)
	assert.Len(t, recv(t, q, 10), 5)
}

func TestSendValidation(t *testing.T) {
	std := newQueue(t, "std", memory.QueueOptions{})
	fifo := newQueue(t, "f.fifo", memory.QueueOptions{})
	small := newQueue(t, "small", memory.QueueOptions{MaxMessageSize: 1024})
	tests := []struct {
		name     string
		q        *memory.Queue
		m        *queue.Message
		sentinel error
		code     string
		message  string
	}{
		{"empty body", std, &queue.Message{}, postroom.ErrInvalid, "MissingParameter",
			"The request must contain the parameter MessageBody."},
		{"oversize", std, &queue.Message{Body: bytes.Repeat([]byte("x"), 1<<20+1)}, postroom.ErrTooLarge, "InvalidParameterValue",
			"One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes."},
		{"oversize with attributes", small, &queue.Message{Body: bytes.Repeat([]byte("x"), 1000), Attributes: queue.Attributes{"name": queue.String(strings.Repeat("v", 30))}},
			postroom.ErrTooLarge, "InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."},
		{"invalid character", std, &queue.Message{Body: []byte("bell\x07")}, postroom.ErrInvalid, "InvalidMessageContents",
			"Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"},
		{"invalid utf-8", std, &queue.Message{Body: []byte{0xff, 0xfe}}, postroom.ErrInvalid, "InvalidMessageContents",
			"Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"},
		{"delay over 15 minutes", std, &queue.Message{Body: []byte("x"), Delay: 901 * time.Second}, postroom.ErrInvalid, "InvalidParameterValue",
			"Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."},
		{"fifo per-message delay", fifo, &queue.Message{Body: []byte("x"), GroupID: "g", DeduplicationID: "d", Delay: 2 * time.Second}, postroom.ErrInvalid, "InvalidParameterValue",
			"Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."},
		{"fifo without group", fifo, &queue.Message{Body: []byte("x"), DeduplicationID: "d"}, postroom.ErrInvalid, "MissingParameter",
			"The request must contain the parameter MessageGroupId."},
		{"fifo without deduplication", fifo, &queue.Message{Body: []byte("x"), GroupID: "g"}, postroom.ErrInvalid, "InvalidParameterValue",
			"The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"},
		{"invalid group id", std, &queue.Message{Body: []byte("x"), GroupID: "has space"}, postroom.ErrInvalid, "InvalidParameterValue",
			"Value has space for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length."},
		{"11 attributes", std, &queue.Message{Body: []byte("x"), Attributes: attrs(11)}, postroom.ErrInvalid, "InvalidParameterValue",
			"Number of message attributes [11] exceeds the allowed maximum [10]."},
		{"reserved attribute name", std, &queue.Message{Body: []byte("x"), Attributes: queue.Attributes{"aws.trace": queue.String("v")}}, postroom.ErrInvalid, "InvalidParameterValue",
			"You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use. Name: 'aws.trace'."},
		{"empty attribute value", std, &queue.Message{Body: []byte("x"), Attributes: queue.Attributes{"a": queue.String("")}}, postroom.ErrInvalid, "InvalidParameterValue",
			"Message (user) attribute 'a' must contain a non-empty value of type 'String'."},
		{"not a number", std, &queue.Message{Body: []byte("x"), Attributes: queue.Attributes{"n": queue.Number("12a")}}, postroom.ErrInvalid, "InvalidParameterValue",
			"Can't cast the value of message (user) attribute 'n' to a number."},
		{"string array on sqs", std, &queue.Message{Body: []byte("x"), Attributes: queue.Attributes{"l": queue.StringArray("a")}}, postroom.ErrInvalid, "InvalidParameterValue",
			"The type of message (user) attribute 'l' is invalid. You must use only the following supported type prefixes: Binary, Number, String."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.q.Send(ctx, tc.m)
			sqsError(t, postroom.EntryErr(err, 0), tc.sentinel, tc.code, tc.message)
		})
	}
	st, err := std.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, queue.Stats{}, st, "nothing was sent")
}

func attrs(n int) queue.Attributes {
	a := queue.Attributes{}
	for i := range n {
		a[fmt.Sprintf("a%d", i)] = queue.Int(int64(i))
	}
	return a
}

func TestBatchLimits(t *testing.T) {
	q := newQueue(t, "batch", memory.QueueOptions{MaxBatchSize: 256 << 10})
	var ms []*queue.Message
	for range 20 {
		ms = append(ms, &queue.Message{Body: []byte("x")})
	}
	sqsError(t, q.Send(ctx, ms...), postroom.ErrTooManyEntries, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
		"Maximum number of entries per request are 10. You have sent 20.")
	big := bytes.Repeat([]byte("x"), 64<<10)
	ms = ms[:0]
	for range 4 {
		ms = append(ms, &queue.Message{Body: big})
	}
	ms = append(ms, &queue.Message{Body: []byte("x")})
	sqsError(t, q.Send(ctx, ms...), postroom.ErrTooLarge, "AWS.SimpleQueueService.BatchRequestTooLong",
		"Batch requests cannot be longer than 262144 bytes. You have sent 262145 bytes.")

	// A batch with bad entries sends the good ones and reports the bad by index.
	err := q.Send(ctx, &queue.Message{Body: []byte("ok")}, &queue.Message{}, &queue.Message{Body: []byte("ok too")},
		&queue.Message{Body: []byte("x"), Attributes: queue.Attributes{".bad": queue.String("v")}})
	var be *postroom.BatchError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, []int{1, 3}, be.Failed())
	assert.ErrorIs(t, be.Errs[1], postroom.ErrInvalid)
	assert.Equal(t, []string{"ok", "ok too"}, bodiesOf(recv(t, q, 10)))
}

func TestStaleReceipts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "stale", memory.QueueOptions{})
		sendBodies(t, q, "", "m")
		old := recv(t, q, 1)[0]
		time.Sleep(31 * time.Second)
		// A visibility change through an expired receipt does nothing.
		require.NoError(t, q.Extend(ctx, time.Hour, old))
		cur := recv(t, q, 1)[0]
		require.NoError(t, q.Ack(ctx, old), "standard: an old receipt still deletes")
		st, _ := q.Stats(ctx)
		assert.Equal(t, queue.Stats{}, st)
		// A receipt of a deleted message cannot change visibility.
		err := q.Nack(ctx, 0, cur)
		sqsError(t, postroom.EntryErr(err, 0), postroom.ErrReceiptInvalid, "InvalidParameterValue",
			"Value "+cur.Receipt+" for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.")
		// A made-up receipt, or one of another queue, is invalid.
		other := newQueue(t, "other", memory.QueueOptions{})
		sendBodies(t, other, "", "o")
		od := recv(t, other, 1)[0]
		for _, d := range []*queue.Delivery{{Receipt: "nonsense"}, od} {
			err := q.Ack(ctx, d)
			sqsError(t, postroom.EntryErr(err, 0), postroom.ErrReceiptInvalid, "ReceiptHandleIsInvalid",
				fmt.Sprintf("The input receipt handle %q is not a valid receipt handle.", d.Receipt))
		}

		f := newQueue(t, "stale.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
		sendBodies(t, f, "g", "m")
		old = recv(t, f, 1)[0]
		time.Sleep(31 * time.Second)
		err = f.Ack(ctx, old)
		sqsError(t, postroom.EntryErr(err, 0), postroom.ErrReceiptExpired, "InvalidParameterValue",
			"Value "+old.Receipt+" for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.")
		cur = recv(t, f, 1)[0]
		assert.ErrorIs(t, f.Ack(ctx, old), postroom.ErrReceiptExpired, "FIFO: an earlier receipt stays expired")
		require.NoError(t, f.Ack(ctx, cur))
	})
}

func TestDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "delay", memory.QueueOptions{Delay: 10 * time.Second})
		require.NoError(t, q.Send(ctx,
			&queue.Message{Body: []byte("queue delay")},
			&queue.Message{Body: []byte("own delay"), Delay: 3 * time.Second}))
		assert.Empty(t, recv(t, q, 10))
		st, _ := q.Stats(ctx)
		assert.Equal(t, 2, st.Delayed)
		err := q.Send(ctx, &queue.Message{Body: []byte("x"), Delay: -time.Second})
		sqsError(t, err, postroom.ErrInvalid, "InvalidParameterValue",
			"Value -1 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.")
		time.Sleep(3 * time.Second)
		assert.Equal(t, []string{"own delay"}, bodiesOf(recv(t, q, 10)))
		time.Sleep(7 * time.Second)
		assert.Equal(t, []string{"queue delay"}, bodiesOf(recv(t, q, 10)))

		f := newQueue(t, "delay.fifo", memory.QueueOptions{Delay: 5 * time.Second, ContentBasedDeduplication: true})
		require.NoError(t, f.Send(ctx, &queue.Message{Body: []byte("x"), GroupID: "g"}))
		assert.Empty(t, recv(t, f, 10), "and applies the queue's delay, as SQS does")
		time.Sleep(5 * time.Second)
		assert.Len(t, recv(t, f, 10), 1)
	})
}

func TestRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dlq := newQueue(t, "ret-dlq", memory.QueueOptions{Retention: 2 * time.Hour})
		q := newQueue(t, "ret", memory.QueueOptions{Retention: time.Hour,
			RedrivePolicy: &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: 1}})
		sendBodies(t, q, "", "old")
		time.Sleep(30 * time.Minute)
		sendBodies(t, q, "", "new")
		time.Sleep(30 * time.Minute)
		assert.Equal(t, []string{"new"}, bodiesOf(recv(t, q, 10)), "the first message expired after an hour")
		st, _ := q.Stats(ctx)
		assert.Equal(t, queue.Stats{InFlight: 1, OldestAge: 30 * time.Minute}, st, "the oldest is \"new\", 30 minutes old")

		// Retention counts from the first enqueue, also in the dead-letter queue.
		time.Sleep(31 * time.Second)
		assert.Empty(t, recv(t, q, 10), "moved to the dead-letter queue")
		assert.Len(t, recv(t, dlq, 10, func(o *queue.ReceiveOptions) { o.VisibilityTimeout = time.Second }), 1)
		time.Sleep(89 * time.Minute) // "new" was sent 30 minutes in: 1 h 59 m 31 s old now
		st, _ = dlq.Stats(ctx)
		assert.Equal(t, queue.Stats{Visible: 1, OldestAge: time.Hour + 59*time.Minute + 31*time.Second}, st,
			"a standard dead-letter queue keeps the original enqueue time")
		time.Sleep(29 * time.Second)
		assert.Empty(t, recv(t, dlq, 10), "expired 2 hours after its first enqueue, not its move")
	})
}

func TestRedrive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dlq := newQueue(t, "dlq", memory.QueueOptions{})
		q := newQueue(t, "src", memory.QueueOptions{RedrivePolicy: &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: 3}})
		require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("poison"), Attributes: queue.Attributes{"k": queue.String("v")}}))
		var id string
		for i := 1; i <= 3; i++ {
			d := recv(t, q, 1)[0]
			assert.Equal(t, i, d.ReceiveCount)
			id = d.ID
			require.NoError(t, q.Nack(ctx, 0, d))
		}
		assert.Empty(t, recv(t, q, 1), "the fourth receive moves it instead")
		ds := recv(t, dlq, 1)
		require.Len(t, ds, 1)
		d := ds[0]
		assert.Equal(t, id, d.ID, "keeps its id")
		assert.Equal(t, "poison", string(d.Body))
		assert.Equal(t, "v", d.Attributes.Get("k"))
		assert.Equal(t, q.ARN(), d.DeadLetterSource)
		assert.Empty(t, recv(t, dlq, 1), "one move")

		_, err := memory.NewQueue("bad.fifo", memory.QueueOptions{RedrivePolicy: &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: 3}})
		require.ErrorIs(t, err, postroom.ErrInvalid, "a FIFO queue needs a FIFO dead-letter queue")
		_, err = memory.NewQueue("bad", memory.QueueOptions{RedrivePolicy: &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: 1001}})
		require.ErrorIs(t, err, postroom.ErrInvalid)

		// FIFO to FIFO: the deduplication id becomes the message id.
		fdlq := newQueue(t, "dlq.fifo", memory.QueueOptions{})
		f := newQueue(t, "src.fifo", memory.QueueOptions{RedrivePolicy: &memory.RedrivePolicy{DeadLetterQueue: fdlq, MaxReceiveCount: 1}})
		require.NoError(t, f.Send(ctx, &queue.Message{Body: []byte("p"), GroupID: "g", DeduplicationID: "dd"}))
		first := recv(t, f, 1)[0]
		require.NoError(t, f.Nack(ctx, 0, first))
		assert.Empty(t, recv(t, f, 1))
		moved := recv(t, fdlq, 1)[0]
		assert.Equal(t, first.ID, moved.ID)
		assert.Equal(t, first.ID, moved.DeduplicationID)
		assert.Equal(t, "g", moved.GroupID)
	})
}

func TestFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "order.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
		sendBodies(t, q, "a", "a1", "a2", "a3")
		sendBodies(t, q, "b", "b1", "b2")
		ds := recv(t, q, 10)
		assert.Equal(t, []string{"a1", "a2", "a3", "b1", "b2"}, bodiesOf(ds), "as many of one group as possible, groups in order")
		for i, d := range ds {
			assert.NotEmpty(t, d.SequenceNumber)
			if i > 0 && d.GroupID == ds[i-1].GroupID {
				assert.Greater(t, d.SequenceNumber, ds[i-1].SequenceNumber)
			}
		}
		// Nack one message of group a: the group stays locked until all of it is settled.
		require.NoError(t, q.Nack(ctx, 0, ds[0]))
		require.NoError(t, q.Ack(ctx, ds[3], ds[4]))
		assert.Empty(t, recv(t, q, 10), "a2 and a3 are still in flight")
		require.NoError(t, q.Ack(ctx, ds[1]))
		require.NoError(t, q.Nack(ctx, 0, ds[2]))
		assert.Equal(t, []string{"a1", "a3"}, bodiesOf(recv(t, q, 10)), "order kept after redelivery")

		// Deduplication: a 5-minute window that survives the delete.
		d := newQueue(t, "dedup.fifo", memory.QueueOptions{})
		send := func(body, id string) string {
			m := &queue.Message{Body: []byte(body), GroupID: "g", DeduplicationID: id}
			require.NoError(t, d.Send(ctx, m))
			return m.ID
		}
		id1 := send("one", "x")
		assert.Equal(t, id1, send("dup", "x"), "a duplicate is accepted and gets the original's id")
		got := recv(t, d, 10)
		assert.Equal(t, []string{"one"}, bodiesOf(got))
		require.NoError(t, d.Ack(ctx, got...))
		time.Sleep(5*time.Minute - time.Second)
		send("still a duplicate", "x")
		assert.Empty(t, recv(t, d, 10))
		time.Sleep(time.Second)
		send("after the window", "x")
		assert.Equal(t, []string{"after the window"}, bodiesOf(recv(t, d, 10)))
	})
}

func TestDeduplicationScope(t *testing.T) {
	q := newQueue(t, "scope.fifo", memory.QueueOptions{DeduplicationScope: memory.DedupScopeMessageGroup, ContentBasedDeduplication: true})
	sendBodies(t, q, "a", "same")
	sendBodies(t, q, "b", "same")
	sendBodies(t, q, "a", "same")
	assert.Equal(t, []string{"same", "same"}, bodiesOf(recv(t, q, 10)), "scope messageGroup: one per group")

	qq := newQueue(t, "scopeq.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
	sendBodies(t, qq, "a", "same")
	sendBodies(t, qq, "b", "same")
	assert.Len(t, recv(t, qq, 10), 1, "scope queue: one in the whole queue")

	_, err := memory.NewQueue("std", memory.QueueOptions{ContentBasedDeduplication: true})
	require.ErrorIs(t, err, postroom.ErrInvalid, "deduplication is for FIFO queues")
}

func TestPurgeAndStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "purge", memory.QueueOptions{})
		sendBodies(t, q, "", "a", "b", "c")
		recv(t, q, 1)
		st, err := q.Stats(ctx)
		require.NoError(t, err)
		assert.Equal(t, queue.Stats{Visible: 2, InFlight: 1}, st)
		require.NoError(t, q.Purge(ctx))
		st, _ = q.Stats(ctx)
		assert.Equal(t, queue.Stats{}, st)
		err = q.Purge(ctx)
		sqsError(t, err, postroom.ErrPurgeInProgress, "AWS.SimpleQueueService.PurgeQueueInProgress",
			"Only one PurgeQueue operation on purge is allowed every 60 seconds.")
		time.Sleep(60 * time.Second)
		require.NoError(t, q.Purge(ctx))
	})
}

func TestQueueNames(t *testing.T) {
	for _, name := range []string{"", "has space", strings.Repeat("x", 81), "x.fifo.fifo", "dot.name"} {
		_, err := memory.NewQueue(name, memory.QueueOptions{})
		assert.ErrorIs(t, err, postroom.ErrInvalid, "%q", name)
	}
	_, err := memory.NewQueue("plain", memory.QueueOptions{FIFO: true})
	assert.ErrorIs(t, err, postroom.ErrInvalid, "a FIFO queue's name ends in .fifo")
	q, err := memory.NewQueue(strings.Repeat("x", 75)+".fifo", memory.QueueOptions{})
	require.NoError(t, err)
	assert.True(t, q.Describe().FIFO)
}

func TestClosed(t *testing.T) {
	q := newQueue(t, "closed", memory.QueueOptions{})
	require.NoError(t, q.Close())
	for name, err := range map[string]error{
		"send":  q.Send(ctx, &queue.Message{Body: []byte("x")}),
		"purge": q.Purge(ctx),
		"stats": func() error { _, err := q.Stats(ctx); return err }(),
	} {
		assert.True(t, errors.Is(err, postroom.ErrClosed), "%s: %v", name, err)
	}
}
