package localaws

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoad runs 64 concurrent SDK clients against one server, each sending
// its share of the messages in batches while receiving and deleting
// whatever the queue gives it, and counts what was lost and what came twice.
// Nothing may be lost. A message may come again only as SQS allows: after
// its visibility timeout passed without a delete (a receive count above 1).
// The clients leave every 50th message undeleted on its first receive, so
// those must come back once.
func TestLoad(t *testing.T) {
	const (
		clients   = 64
		perClient = 100
		total     = clients * perClient
		abandon   = 50 // every abandon-th message is not deleted on its first receive
		vt        = 2  // seconds
	)
	_, cfg := NewTestServer(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := sqs.NewFromConfig(cfg)
	url := createQueue(t, admin, "load", map[string]string{"VisibilityTimeout": strconv.Itoa(vt)})

	var (
		mu         sync.Mutex
		seen       = make(map[string]int, total)  // body → receives
		redeliver  int                            // receives with ApproximateReceiveCount > 1
		done       = make(map[string]bool, total) // bodies deleted
		doneN      atomic.Int64
		sendFailed atomic.Int64
		delFailed  atomic.Int64
	)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			c := sqs.NewFromConfig(cfg)
			next := 0
			for doneN.Load() < total && ctx.Err() == nil {
				if next < perClient {
					var entries []types.SendMessageBatchRequestEntry
					for i := 0; i < 10 && next < perClient; i++ {
						entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)),
							MessageBody: aws.String(fmt.Sprintf("c%02d-m%03d", w, next))})
						next++
					}
					out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
					if !assert.NoError(t, err) {
						return
					}
					sendFailed.Add(int64(len(out.Failed)))
				}
				got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
					WaitTimeSeconds: 1, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount"}})
				if ctx.Err() != nil {
					return
				}
				if !assert.NoError(t, err) {
					return
				}
				if len(got.Messages) == 0 {
					continue
				}
				var del []types.DeleteMessageBatchRequestEntry
				bodies := map[string]string{}
				mu.Lock()
				for i, m := range got.Messages {
					seen[*m.Body]++
					first := m.Attributes["ApproximateReceiveCount"] == "1"
					if !first {
						redeliver++
					}
					var n int
					_, _ = fmt.Sscanf((*m.Body)[5:], "%d", &n)
					if first && n%abandon == 0 {
						continue // comes back after the visibility timeout
					}
					id := fmt.Sprint(i)
					bodies[id] = *m.Body
					del = append(del, types.DeleteMessageBatchRequestEntry{Id: &id, ReceiptHandle: m.ReceiptHandle})
				}
				mu.Unlock()
				if len(del) == 0 {
					continue
				}
				out, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: del})
				if !assert.NoError(t, err) {
					return
				}
				delFailed.Add(int64(len(out.Failed)))
				mu.Lock()
				for _, e := range out.Successful {
					if b := bodies[*e.Id]; !done[b] {
						done[b] = true
						doneN.Add(1)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	require.NoError(t, ctx.Err(), "the load did not finish in time")

	lost, duplicates := 0, 0
	for w := range clients {
		for i := range perClient {
			switch n := seen[fmt.Sprintf("c%02d-m%03d", w, i)]; {
			case n == 0:
				lost++
			case n > 1:
				duplicates += n - 1
			}
		}
	}
	t.Logf("%d clients, %d messages in %v (%.0f msgs/s): %d lost, %d duplicates, %d redeliveries, %d failed sends, %d failed deletes",
		clients, total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), lost, duplicates, redeliver, sendFailed.Load(), delFailed.Load())
	assert.Len(t, seen, total, "only sent messages are received")
	assert.Zero(t, lost, "lost messages")
	assert.Equal(t, redeliver, duplicates, "every duplicate is a redelivery after the visibility timeout")
	assert.GreaterOrEqual(t, duplicates, total/abandon, "every abandoned message came back")
	assert.Zero(t, sendFailed.Load())
	assert.Zero(t, delFailed.Load())
	assert.Len(t, done, total)

	attrs, err := admin.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}, attrs.Attributes)
}
