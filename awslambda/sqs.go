package awslambda

import (
	"context"
	"errors"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/internal/errkit"
	"github.com/postroom/postroom/queue"
)

const e errkit.Pkg = "awslambda"

// An SQSFunction is the handler of a Lambda function that an SQS event
// source mapping invokes: what [SQSHandler] and [SQSBatchHandler] return,
// what lambda.Start takes, and what a [Mapping] runs.
type SQSFunction = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// SQSOptions configure [SQSHandler] and [SQSBatchHandler]. The zero value
// suits a function whose event source mapping reports batch item failures
// (FunctionResponseTypes: ReportBatchItemFailures).
type SQSOptions struct {
	// NoBatchItemFailures is for a function whose event source mapping
	// does not report batch item failures: the first failed message fails
	// the invocation (the function returns its error) and Lambda returns
	// the whole batch to the queue. Without it, the function reports the
	// failed messages in the response and the others are deleted.
	NoBatchItemFailures bool

	// Failed, when set, is called for each message whose handler failed
	// or panicked (a *consumer.PanicError), before the function returns.
	Failed func(d *queue.Delivery, err error)
}

func (o SQSOptions) failed(d *queue.Delivery, err error) {
	if o.Failed != nil {
		o.Failed(d, err)
	}
}

// SQSHandler returns the handler of a Lambda function that handles the
// messages of an SQS event with h, one after another in the batch's order,
// each as the same *queue.Delivery a queue driver gives (see
// [SQSDelivery]). Middleware applies as it does in a consumer: pass
// consumer.Chain(h, mw...).
//
// A message whose handler returns nil is acked: Lambda deletes it. A
// message whose handler returns an error or panics is reported in the
// response's BatchItemFailures (by message id), and Lambda leaves it on the
// queue, to be received again after its visibility timeout (and moved by
// the queue's redrive policy once it has been received too often). On a
// FIFO queue (an event source ARN ending in ".fifo") the function stops at
// the first failure and reports that message and every later one of the
// batch as failed, so that no message of a group is handled after an
// earlier one failed. Once ctx is done (the function's timeout is near),
// the messages not yet handled are reported as failed.
//
// With opts.NoBatchItemFailures, the first failure is the function's error
// instead.
func SQSHandler(h consumer.Handler, opts SQSOptions) SQSFunction {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		now := time.Now()
		for i, m := range ev.Records {
			err := ctx.Err()
			d := SQSDelivery(m, now)
			if err == nil {
				err = call(ctx, h, d)
			}
			if err == nil {
				continue
			}
			opts.failed(d, err)
			if opts.NoBatchItemFailures {
				return events.SQSEventResponse{}, messageError(d, err)
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures, failure(m))
			if isFIFO(m) || ctx.Err() != nil {
				for _, rest := range ev.Records[i+1:] {
					resp.BatchItemFailures = append(resp.BatchItemFailures, failure(rest))
				}
				break
			}
		}
		return resp, nil
	}
}

// SQSBatchHandler returns the handler of a Lambda function that handles
// the messages of an SQS event together with h. h returns nil when all
// succeeded, and a *postroom.BatchError index-aligned with the deliveries
// when some failed (see consumer.BatchHandler): the failed ones are
// reported in BatchItemFailures, on a FIFO queue together with every
// message after the first failed one. Any other error, a BatchError of the
// wrong length and a panic are the function's error: Lambda returns the
// whole batch to the queue. With opts.NoBatchItemFailures every error is
// the function's error.
func SQSBatchHandler(h consumer.BatchHandler, opts SQSOptions) SQSFunction {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		now := time.Now()
		ds := make([]*queue.Delivery, len(ev.Records))
		for i, m := range ev.Records {
			ds[i] = SQSDelivery(m, now)
		}
		if len(ds) == 0 {
			return resp, nil
		}
		err := callBatch(ctx, h, ds)
		if err == nil {
			return resp, nil
		}
		var be *postroom.BatchError
		if !errors.As(err, &be) || len(be.Errs) != len(ds) || opts.NoBatchItemFailures {
			for _, d := range ds {
				opts.failed(d, err)
			}
			return resp, e.Wrap(nil, "handle batch", err)
		}
		for i, err := range be.Errs {
			if err == nil {
				continue
			}
			opts.failed(ds[i], err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, failure(ev.Records[i]))
			if isFIFO(ev.Records[i]) {
				for _, rest := range ev.Records[i+1:] {
					resp.BatchItemFailures = append(resp.BatchItemFailures, failure(rest))
				}
				break
			}
		}
		return resp, nil
	}
}

func isFIFO(m events.SQSMessage) bool { return strings.HasSuffix(m.EventSourceARN, ".fifo") }

func failure(m events.SQSMessage) events.SQSBatchItemFailure {
	return events.SQSBatchItemFailure{ItemIdentifier: m.MessageId}
}

// messageError is the function's error when a message failed without
// batch item failures.
func messageError(d *queue.Delivery, err error) error {
	return e.Wrap(nil, "handle message "+d.ID, err)
}

// call runs h, turning a panic into a *consumer.PanicError.
func call(ctx context.Context, h consumer.Handler, d *queue.Delivery) (err error) {
	defer recoverTo(&err)
	return h(ctx, d)
}

func callBatch(ctx context.Context, h consumer.BatchHandler, ds []*queue.Delivery) (err error) {
	defer recoverTo(&err)
	return h(ctx, ds)
}

func recoverTo(err *error) {
	if v := recover(); v != nil {
		*err = &consumer.PanicError{Value: v, Stack: debug.Stack()}
	}
}
