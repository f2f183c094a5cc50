package awslambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/awslambda"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/queue"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

// invoke runs fn as Lambda's runtime does: the payload is unmarshalled
// into the function's event type and the response marshalled back.
func invoke(t *testing.T, fn any, payload []byte) ([]byte, error) {
	t.Helper()
	return lambda.NewHandler(fn).Invoke(context.Background(), payload)
}

// failures reads the ids of a batch response.
func failures(t *testing.T, out []byte) []string {
	t.Helper()
	var resp events.SQSEventResponse
	require.NoError(t, json.Unmarshal(out, &resp), string(out))
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// recorder is a handler that records what it saw and fails the ids in
// fail.
type recorder struct {
	mu   sync.Mutex
	seen []*queue.Delivery
	fail map[string]error
}

func (r *recorder) handle(ctx context.Context, d *queue.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, d)
	return r.fail[d.ID]
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := []string{}
	for _, d := range r.seen {
		ids = append(ids, d.ID)
	}
	return ids
}

const (
	std1 = "3f1c2a8e-5b7d-4e0a-9c61-2d8f0b4a7e11"
	std2 = "8d6e4b20-1a9f-4c3e-b7d5-60e2f9a1c344"
	std3 = "c0a7f5d9-2e64-4b18-8f3a-9b1d7e5c2a06"

	fifo1 = "11e0c6f2-7d0b-4f44-a1f0-000000000001"
	fifo2 = "2b7a9e31-8c55-4a0e-9e2d-000000000002"
	fifo3 = "3c9d4f77-1e2a-4b6f-8d3c-000000000003"
	fifo4 = "4da1b2c3-d4e5-4f60-9a7b-000000000004"
)

// A record becomes the delivery a queue driver gives.
func TestSQSDeliveryShape(t *testing.T) {
	rec := &recorder{}
	out, err := invoke(t, awslambda.SQSHandler(rec.handle, awslambda.SQSOptions{}), fixture(t, "sqs-standard.json"))
	require.NoError(t, err)
	assert.Empty(t, failures(t, out))
	require.Len(t, rec.seen, 3)

	d := rec.seen[0]
	assert.Equal(t, std1, d.ID)
	assert.JSONEq(t, `{"order":"A-1001","total":42.5}`, string(d.Body))
	assert.Equal(t, queue.Attributes{
		"tenant":    queue.String("acme"),
		"priority":  {Type: "Number.int", Value: "3"},
		"signature": queue.Binary([]byte{1, 2, 0xff}),
	}, d.Attributes)
	assert.Equal(t, "AQEBr9kQ1lQ2example0receipt0handle0one==", d.Receipt)
	assert.Equal(t, 1, d.ReceiveCount)
	assert.Equal(t, time.UnixMilli(1699783090123), d.SentAt)
	assert.Equal(t, time.UnixMilli(1699783090187), d.FirstReceivedAt)
	assert.False(t, d.ReceivedAt.IsZero())
	assert.Empty(t, d.GroupID)

	var raw events.SQSMessage
	require.True(t, d.As(&raw))
	assert.Equal(t, "arn:aws:sqs:eu-west-1:111122223333:orders", raw.EventSourceARN)
	assert.Contains(t, raw.Attributes["AWSTraceHeader"], "Root=1-6550a1b2")
	assert.Equal(t, 4, rec.seen[1].ReceiveCount)
	assert.Nil(t, rec.seen[1].Attributes)

	rec = &recorder{}
	_, err = invoke(t, awslambda.SQSHandler(rec.handle, awslambda.SQSOptions{}), fixture(t, "sqs-fifo.json"))
	require.NoError(t, err)
	require.Len(t, rec.seen, 4)
	f := rec.seen[1]
	assert.Equal(t, "customer-17", f.GroupID)
	assert.Equal(t, "dedup-2", f.DeduplicationID)
	assert.Equal(t, "18889531704076672002", f.SequenceNumber)
	assert.Equal(t, "customer-42", rec.seen[3].GroupID)
}

func TestSQSHandlerPartialBatch(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		fixture string
		fail    []string
		want    []string // batch item failures
		handled []string
	}{
		{"all succeed", "sqs-standard.json", nil, []string{}, []string{std1, std2, std3}},
		{"standard: only the failed", "sqs-standard.json", []string{std2}, []string{std2}, []string{std1, std2, std3}},
		{"standard: two failed", "sqs-standard.json", []string{std1, std3}, []string{std1, std3}, []string{std1, std2, std3}},
		{"FIFO: stop at the first failure", "sqs-fifo.json", []string{fifo2}, []string{fifo2, fifo3, fifo4}, []string{fifo1, fifo2}},
		{"FIFO: first fails", "sqs-fifo.json", []string{fifo1, fifo3}, []string{fifo1, fifo2, fifo3, fifo4}, []string{fifo1}},
		{"FIFO: last fails", "sqs-fifo.json", []string{fifo4}, []string{fifo4}, []string{fifo1, fifo2, fifo3, fifo4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{fail: map[string]error{}}
			for _, id := range tt.fail {
				rec.fail[id] = boom
			}
			var failed []string
			opts := awslambda.SQSOptions{Failed: func(d *queue.Delivery, err error) {
				assert.ErrorIs(t, err, boom)
				failed = append(failed, d.ID)
			}}
			out, err := invoke(t, awslambda.SQSHandler(rec.handle, opts), fixture(t, tt.fixture))
			require.NoError(t, err)
			assert.Equal(t, tt.want, failures(t, out))
			assert.Equal(t, tt.handled, rec.ids())
			assert.ElementsMatch(t, tt.fail[:min(len(tt.fail), len(failed))], failed)
		})
	}
}

// The response is exactly what Lambda reads.
func TestSQSHandlerResponseJSON(t *testing.T) {
	rec := &recorder{fail: map[string]error{std2: errors.New("no")}}
	out, err := invoke(t, awslambda.SQSHandler(rec.handle, awslambda.SQSOptions{}), fixture(t, "sqs-standard.json"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"batchItemFailures":[{"itemIdentifier":"`+std2+`"}]}`, string(out))
}

// Without ReportBatchItemFailures the first failure fails the invocation.
func TestSQSHandlerNoBatchItemFailures(t *testing.T) {
	boom := errors.New("boom")
	rec := &recorder{fail: map[string]error{std2: boom}}
	_, err := invoke(t, awslambda.SQSHandler(rec.handle, awslambda.SQSOptions{NoBatchItemFailures: true}), fixture(t, "sqs-standard.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "awslambda: handle message "+std2+": boom")
	assert.Equal(t, []string{std1, std2}, rec.ids())

	// The error reaches the caller unmarshalled by the runtime, but when
	// called directly it still matches.
	_, err = awslambda.SQSHandler(rec.handle, awslambda.SQSOptions{NoBatchItemFailures: true})(context.Background(), events.SQSEvent{
		Records: []events.SQSMessage{{MessageId: std2}},
	})
	assert.ErrorIs(t, err, boom)
}

// A panic fails its message, not the batch.
func TestSQSHandlerPanic(t *testing.T) {
	var got error
	h := func(ctx context.Context, d *queue.Delivery) error {
		if d.ID == std1 {
			panic("bad order")
		}
		return nil
	}
	out, err := invoke(t, awslambda.SQSHandler(h, awslambda.SQSOptions{Failed: func(d *queue.Delivery, err error) { got = err }}), fixture(t, "sqs-standard.json"))
	require.NoError(t, err)
	assert.Equal(t, []string{std1}, failures(t, out))
	var pe *consumer.PanicError
	require.ErrorAs(t, got, &pe)
	assert.Equal(t, "bad order", pe.Value)
	assert.NotEmpty(t, pe.Stack)

	_, err = invoke(t, awslambda.SQSHandler(h, awslambda.SQSOptions{NoBatchItemFailures: true}), fixture(t, "sqs-standard.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "handler panicked: bad order")
}

// Middleware built for the consumer applies unchanged.
func TestSQSHandlerMiddleware(t *testing.T) {
	var order []string
	trace := func(name string) consumer.Middleware {
		return func(next consumer.Handler) consumer.Handler {
			return func(ctx context.Context, d *queue.Delivery) error {
				order = append(order, name+" "+d.ID[:4])
				return next(ctx, d)
			}
		}
	}
	slow := func(ctx context.Context, d *queue.Delivery) error {
		if d.ID == std3 {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	h := consumer.Chain(slow, trace("outer"), trace("inner"), consumer.Timeout(time.Millisecond))
	out, err := invoke(t, awslambda.SQSHandler(h, awslambda.SQSOptions{}), fixture(t, "sqs-standard.json"))
	require.NoError(t, err)
	assert.Equal(t, []string{std3}, failures(t, out))
	assert.Equal(t, []string{"outer 3f1c", "inner 3f1c", "outer 8d6e", "inner 8d6e", "outer c0a7", "inner c0a7"}, order)
}

// Once the invocation's context is done, the messages left are failed
// without being handled.
func TestSQSHandlerDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var seen []string
	h := func(_ context.Context, d *queue.Delivery) error {
		seen = append(seen, d.ID)
		cancel() // the function's time ran out during the first message
		return nil
	}
	var ev events.SQSEvent
	require.NoError(t, json.Unmarshal(fixture(t, "sqs-standard.json"), &ev))
	resp, err := awslambda.SQSHandler(h, awslambda.SQSOptions{})(ctx, ev)
	require.NoError(t, err)
	assert.Equal(t, []string{std1}, seen)
	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: std2}, {ItemIdentifier: std3}}, resp.BatchItemFailures)
}

func TestSQSBatchHandler(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		fixture string
		opts    awslambda.SQSOptions
		err     func(ds []*queue.Delivery) error
		want    []string
		wantErr string
	}{
		{"all succeed", "sqs-standard.json", awslambda.SQSOptions{}, func([]*queue.Delivery) error { return nil }, []string{}, ""},
		{"partial", "sqs-standard.json", awslambda.SQSOptions{}, func(ds []*queue.Delivery) error {
			return postroom.NewBatchError("test", []error{nil, boom, boom})
		}, []string{std2, std3}, ""},
		{"FIFO partial", "sqs-fifo.json", awslambda.SQSOptions{}, func(ds []*queue.Delivery) error {
			return postroom.NewBatchError("test", []error{nil, boom, nil, nil})
		}, []string{fifo2, fifo3, fifo4}, ""},
		{"whole batch", "sqs-standard.json", awslambda.SQSOptions{}, func([]*queue.Delivery) error { return boom }, nil, "awslambda: handle batch: boom"},
		{"wrong length", "sqs-standard.json", awslambda.SQSOptions{}, func([]*queue.Delivery) error {
			return postroom.NewBatchError("test", []error{boom})
		}, nil, "awslambda: handle batch: test: 1 of 1 batch entries failed"},
		{"partial without batch item failures", "sqs-standard.json", awslambda.SQSOptions{NoBatchItemFailures: true}, func([]*queue.Delivery) error {
			return postroom.NewBatchError("test", []error{nil, boom, nil})
		}, nil, "awslambda: handle batch: test: 1 of 3 batch entries failed"},
		{"panic", "sqs-standard.json", awslambda.SQSOptions{}, func([]*queue.Delivery) error { panic("oops") }, nil, "handler panicked: oops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n int
			h := func(ctx context.Context, ds []*queue.Delivery) error {
				n = len(ds)
				return tt.err(ds)
			}
			out, err := invoke(t, awslambda.SQSBatchHandler(h, tt.opts), fixture(t, tt.fixture))
			assert.Positive(t, n)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, failures(t, out))
		})
	}
}
