package awssqs

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// fake is an api that records the calls and lets a test decide what each
// batch entry answers.
type fake struct {
	mu    sync.Mutex
	calls map[string]int                       // by operation
	sent  [][]string                           // bodies of each SendMessageBatch call
	sentE []types.SendMessageBatchRequestEntry // every entry sent
	acked [][]string                           // receipts of each DeleteMessageBatch call
	vis   [][]string                           // receipts of each ChangeMessageVisibilityBatch call
	fail  func(body string, attempt int) *types.BatchResultErrorEntry
	tries map[string]int // SendMessageBatch entries seen, by body
	attrs map[string]string

	latency time.Duration // how long each batch call takes (a round trip)

	received []types.Message            // what the next ReceiveMessage returns
	recvIn   []*sqs.ReceiveMessageInput // the ReceiveMessage inputs
}

func newFake() *fake {
	return &fake{calls: map[string]int{}, tries: map[string]int{}, attrs: map[string]string{
		"VisibilityTimeout": "30", "MaximumMessageSize": "1048576", "ReceiveMessageWaitTimeSeconds": "0",
	}}
}

func (f *fake) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fake) GetQueueUrl(_ context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String("https://sqs.us-east-1.amazonaws.com/123456789012/" + aws.ToString(in.QueueName))}, nil
}

func (f *fake) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: f.attrs}, nil
}

func (f *fake) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	time.Sleep(f.latency)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["SendMessageBatch"]++
	out := &sqs.SendMessageBatchOutput{}
	var bodies []string
	for _, e := range in.Entries {
		body := aws.ToString(e.MessageBody)
		bodies = append(bodies, body)
		f.sentE = append(f.sentE, e)
		attempt := f.tries[body]
		f.tries[body]++
		if f.fail != nil {
			if fe := f.fail(body, attempt); fe != nil {
				fe.Id = e.Id
				out.Failed = append(out.Failed, *fe)
				continue
			}
		}
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("id-" + body)})
	}
	f.sent = append(f.sent, bodies)
	return out, nil
}

func (f *fake) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["ReceiveMessage"]++
	f.recvIn = append(f.recvIn, in)
	out := &sqs.ReceiveMessageOutput{Messages: f.received}
	f.received = nil
	if len(out.Messages) == 0 && in.WaitTimeSeconds > 0 { // a long poll that finds nothing
		f.mu.Unlock()
		defer f.mu.Lock()
		t := time.NewTimer(time.Duration(in.WaitTimeSeconds) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return out, nil
}

func (f *fake) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	time.Sleep(f.latency)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["DeleteMessageBatch"]++
	out := &sqs.DeleteMessageBatchOutput{}
	var rs []string
	for _, e := range in.Entries {
		rs = append(rs, aws.ToString(e.ReceiptHandle))
		out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
	}
	f.acked = append(f.acked, rs)
	return out, nil
}

func (f *fake) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	time.Sleep(f.latency)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["ChangeMessageVisibilityBatch"]++
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	var rs []string
	for _, e := range in.Entries {
		rs = append(rs, aws.ToString(e.ReceiptHandle)+"@"+strconv.Itoa(int(e.VisibilityTimeout)))
		out.Successful = append(out.Successful, types.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
	}
	f.vis = append(f.vis, rs)
	return out, nil
}

func (f *fake) PurgeQueue(context.Context, *sqs.PurgeQueueInput, ...func(*sqs.Options)) (*sqs.PurgeQueueOutput, error) {
	return &sqs.PurgeQueueOutput{}, nil
}

func ratelimitQuota() error { return ratelimit.QuotaExceededError{Available: 0, Requested: 5} }
