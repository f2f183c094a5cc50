package awssqs

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postroom/postroom/internal/awsbatch"
	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/queue"
)

// Ack deletes deliveries (DeleteMessageBatch, 10 a call). An Ack of one
// delivery made while other calls are under way on the queue waits up to
// Options.BatchWait to share its call with Acks from other goroutines.
func (q *Queue) Ack(ctx context.Context, ds ...*queue.Delivery) error {
	if q.closed.Load() {
		return errClosed("ack")
	}
	return q.settle(ctx, "ack", ds, q.acks, q.deleteBatch)
}

// Nack makes deliveries visible again after delay (ChangeMessageVisibility
// Batch with the delay as visibility timeout, rounded up to whole seconds;
// zero makes them visible at once).
func (q *Queue) Nack(ctx context.Context, delay time.Duration, ds ...*queue.Delivery) error {
	if q.closed.Load() {
		return errClosed("nack")
	}
	return q.changeVisibility(ctx, "nack", delay, ds)
}

// Extend sets deliveries' visibility timeout to timeout from now.
func (q *Queue) Extend(ctx context.Context, timeout time.Duration, ds ...*queue.Delivery) error {
	if q.closed.Load() {
		return errClosed("extend")
	}
	return q.changeVisibility(ctx, "extend", timeout, ds)
}

func (q *Queue) changeVisibility(ctx context.Context, op string, d time.Duration, ds []*queue.Delivery) error {
	if d < 0 || d > MaxVisibilityTimeout {
		return validate.Invalid(pkgName, op, "InvalidParameterValue",
			"Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", int(d/time.Second))
	}
	secs := int32(ceilSeconds(d))
	key := visKey{op, secs}
	q.vmu.Lock()
	b := q.vis[key]
	if b == nil {
		b = awsbatch.NewCoalescer(q.opts.BatchWait, MaxBatch, 0, nil, func(ctx context.Context, ds []*queue.Delivery) []error {
			return q.visibilityBatch(ctx, op, secs, ds)
		}).ShareLoad(&q.load)
		q.vis[key] = b
	}
	q.vmu.Unlock()
	return q.settle(ctx, op, ds, b, func(ctx context.Context, ds []*queue.Delivery) []error {
		return q.visibilityBatch(ctx, op, secs, ds)
	})
}

// visKey tells the batchers of visibility changes apart: one per
// operation (for its errors) and timeout (one value per batch call).
type visKey struct {
	op   string
	secs int32
}

// settle runs one delivery through the batcher, and more in calls of 10.
func (q *Queue) settle(ctx context.Context, op string, ds []*queue.Delivery, b *awsbatch.Coalescer[*queue.Delivery],
	call func(context.Context, []*queue.Delivery) []error) error {
	switch len(ds) {
	case 0:
		return nil
	case 1:
		if ds[0] == nil {
			return validate.Invalid(pkgName, op, "MissingParameter", "The request must contain the parameter ReceiptHandle.")
		}
		return b.One(ctx, ds[0])
	}
	errs := make([]error, len(ds))
	for start := 0; start < len(ds); start += MaxBatch {
		chunk := ds[start:min(start+MaxBatch, len(ds))]
		var live []*queue.Delivery
		var at []int
		for j, d := range chunk {
			if d == nil {
				errs[start+j] = validate.Invalid(pkgName, op, "MissingParameter", "The request must contain the parameter ReceiptHandle.")
				continue
			}
			live = append(live, d)
			at = append(at, start+j)
		}
		if len(live) == 0 {
			continue
		}
		for k, err := range call(ctx, slices.Clip(live)) {
			errs[at[k]] = err
		}
	}
	return batchResult(errs)
}

func (q *Queue) deleteBatch(ctx context.Context, ds []*queue.Delivery) []error {
	return q.entryRetry(ctx, "ack", len(ds), func(ctx context.Context, idx []int) ([]string, []types.BatchResultErrorEntry, error) {
		in := &sqs.DeleteMessageBatchInput{QueueUrl: &q.url, Entries: make([]types.DeleteMessageBatchRequestEntry, len(idx))}
		for k, i := range idx {
			in.Entries[k] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(ds[i].Receipt)}
		}
		out, err := q.api.DeleteMessageBatch(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		ok := make([]string, len(out.Successful))
		for k, s := range out.Successful {
			ok[k] = aws.ToString(s.Id)
		}
		return ok, out.Failed, nil
	})
}

func (q *Queue) visibilityBatch(ctx context.Context, op string, secs int32, ds []*queue.Delivery) []error {
	return q.entryRetry(ctx, op, len(ds), func(ctx context.Context, idx []int) ([]string, []types.BatchResultErrorEntry, error) {
		in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &q.url, Entries: make([]types.ChangeMessageVisibilityBatchRequestEntry, len(idx))}
		for k, i := range idx {
			in.Entries[k] = types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(ds[i].Receipt), VisibilityTimeout: secs}
		}
		out, err := q.api.ChangeMessageVisibilityBatch(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		ok := make([]string, len(out.Successful))
		for k, s := range out.Successful {
			ok[k] = aws.ToString(s.Id)
		}
		return ok, out.Failed, nil
	})
}
