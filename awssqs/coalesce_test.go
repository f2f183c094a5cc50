package awssqs

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

// Sixteen workers that each send, ack and extend one message at a time
// share batch calls: at most 0.3 calls per message for send and ack
// together.
func TestCoalescingCallsPerMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.latency = time.Millisecond
		q := openFake(t, f, Options{})
		const workers, each = 16, 40
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					m := &queue.Message{Body: fmt.Appendf(nil, "w%d-%d", w, i)}
					assert.NoError(t, q.Send(context.Background(), m))
					d := &queue.Delivery{Message: *m, Receipt: "r-" + string(m.Body)}
					assert.NoError(t, q.Extend(context.Background(), time.Minute, d))
					assert.NoError(t, q.Ack(context.Background(), d))
				}
			})
		}
		wg.Wait()
		n := float64(workers * each)
		perMsg := float64(f.count("SendMessageBatch")+f.count("DeleteMessageBatch")) / n
		t.Logf("send+ack: %.3f calls per message; extend: %.3f", perMsg, float64(f.count("ChangeMessageVisibilityBatch"))/n)
		assert.LessOrEqual(t, perMsg, 0.3)
		assert.LessOrEqual(t, float64(f.count("ChangeMessageVisibilityBatch"))/n, 0.15)
		sent := 0
		for _, b := range f.sent {
			assert.LessOrEqual(t, len(b), MaxBatch)
			sent += len(b)
		}
		assert.Equal(t, workers*each, sent, "every message sent once")
		for _, b := range f.vis {
			for _, r := range b {
				assert.Contains(t, r, "@60", "the extension's timeout")
			}
		}
	})
}

// A lone call does not wait; a call made while another is in flight waits
// no longer than BatchWait.
func TestCoalescingBoundedWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.latency = time.Second
		q := openFake(t, f, Options{BatchWait: 20 * time.Millisecond})
		start := time.Now()
		require.NoError(t, q.Send(context.Background(), &queue.Message{Body: []byte("alone")}))
		assert.Equal(t, time.Second, time.Since(start), "the call's latency, no wait")

		start = time.Now()
		var wg sync.WaitGroup
		wg.Go(func() { assert.NoError(t, q.Send(context.Background(), &queue.Message{Body: []byte("first")})) })
		synctest.Wait()
		wg.Go(func() {
			assert.NoError(t, q.Send(context.Background(), &queue.Message{Body: []byte("second")}))
			assert.Equal(t, 20*time.Millisecond+time.Second, time.Since(start), "BatchWait, then the call")
		})
		wg.Wait()
		assert.Equal(t, 3, f.count("SendMessageBatch"))
	})
}

// A worker alone on a queue that sends, extends and acks one message at a
// time never waits for company: its calls take their round trips and
// nothing more.
func TestCoalescingLoneWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.latency = time.Millisecond
		q := openFake(t, f, Options{})
		start := time.Now()
		const n = 10
		for i := range n {
			m := &queue.Message{Body: fmt.Appendf(nil, "m%d", i)}
			require.NoError(t, q.Send(context.Background(), m))
			d := &queue.Delivery{Message: *m, Receipt: "r-" + string(m.Body)}
			require.NoError(t, q.Extend(context.Background(), time.Minute, d))
			require.NoError(t, q.Ack(context.Background(), d))
		}
		assert.Equal(t, 3*n*f.latency, time.Since(start))
	})
}

// In a coalesced call, each caller gets its own entry's result.
func TestCoalescingPerCallerErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.fail = func(body string, _ int) *types.BatchResultErrorEntry {
			if body == "bad" {
				return &types.BatchResultErrorEntry{Code: aws.String("InvalidMessageContents"), Message: aws.String("no"), SenderFault: true}
			}
			return nil
		}
		f.latency = time.Millisecond
		q := openFake(t, f, Options{})
		errs := make([]error, 5)
		var wg sync.WaitGroup
		// One call in flight, so that the others wait and share one.
		wg.Go(func() { assert.NoError(t, q.Send(context.Background(), &queue.Message{Body: []byte("first")})) })
		synctest.Wait()
		for i := range errs {
			wg.Go(func() {
				body := "good"
				if i == 2 {
					body = "bad"
				}
				errs[i] = q.Send(context.Background(), &queue.Message{Body: []byte(body)})
			})
		}
		wg.Wait()
		require.Equal(t, 2, f.count("SendMessageBatch"))
		assert.Len(t, f.sent[1], 5, "the five calls share one batch call")
		for i, err := range errs {
			if i == 2 {
				assert.ErrorIs(t, err, postroom.ErrInvalid)
			} else {
				assert.NoError(t, err)
			}
		}
	})
}

// A Send of one message that joins a batch at the 1 MiB mark starts the
// next batch call instead.
func TestCoalescingBySize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.latency = time.Millisecond
		q := openFake(t, f, Options{})
		var wg sync.WaitGroup
		// One call in flight, so that the others wait and share.
		wg.Go(func() { assert.NoError(t, q.Send(context.Background(), &queue.Message{Body: []byte("first")})) })
		synctest.Wait()
		for i := range 3 {
			wg.Go(func() {
				body := make([]byte, 400<<10)
				body[0] = byte('a' + i)
				assert.NoError(t, q.Send(context.Background(), &queue.Message{Body: body}))
			})
		}
		wg.Wait()
		require.Len(t, f.sent, 3, "3 × 400 KiB fit in two calls of at most 1 MiB")
		var big []int // entries of the calls that sent 400 KiB bodies
		for _, c := range f.sent {
			if c[0] != "first" {
				big = append(big, len(c))
			}
		}
		assert.ElementsMatch(t, []int{2, 1}, big)
	})
}

// Send of up to 10 messages splits by size.
func TestSendSplitsBySize(t *testing.T) {
	f := newFake()
	q := openFake(t, f, Options{})
	ms := make([]*queue.Message, 10)
	for i := range ms {
		ms[i] = &queue.Message{Body: make([]byte, 300<<10)}
		ms[i].Body[0] = byte('a' + i)
	}
	require.NoError(t, q.Send(context.Background(), ms...))
	require.Len(t, f.sent, 4, "3 messages of 300 KiB a call")
	assert.Len(t, f.sent[0], 3)
	assert.Len(t, f.sent[3], 1)
}
