package awssqs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/rawvalue"
	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/queue"
)

// Receive long-polls the queue (ReceiveMessage) for up to opts.MaxMessages
// messages (1 to 10; zero means 1), asking for every message attribute and
// system attribute. The wait is opts.WaitTime, or the queue's
// ReceiveMessageWaitTimeSeconds when it is zero (none with opts.NoWait),
// and never more than what
// is left of ctx's deadline (in whole seconds), so that SQS does not hand
// out messages to a request its caller has abandoned. When the deadline
// cuts the wait short and nothing came, Receive waits out ctx and returns
// its error, as a long poll would.
//
// On a FIFO queue each call sends a ReceiveRequestAttemptId, which the
// SDK's retries of that call reuse: a retried receive gets the same
// messages back rather than hiding them for a visibility timeout.
func (q *Queue) Receive(ctx context.Context, opts queue.ReceiveOptions) ([]*queue.Delivery, error) {
	if q.closed.Load() {
		return nil, errClosed("receive")
	}
	max := opts.MaxMessages
	if max == 0 {
		max = 1
	}
	if max < 1 || max > MaxBatch {
		return nil, validate.Invalid(pkgName, "receive", "InvalidParameterValue",
			"Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
	}
	wait := opts.WaitTime
	switch {
	case opts.NoWait:
		wait = 0
	case wait == 0:
		wait = q.waitTime
	case wait < 0 || wait > MaxWaitTime:
		return nil, validate.Invalid(pkgName, "receive", "InvalidParameterValue",
			"Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", int(wait/time.Second))
	}
	if opts.VisibilityTimeout < 0 || opts.VisibilityTimeout > MaxVisibilityTimeout {
		return nil, validate.Invalid(pkgName, "receive", "InvalidParameterValue",
			"Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", int(opts.VisibilityTimeout/time.Second))
	}
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    &q.url,
		MaxNumberOfMessages:         int32(max),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	}
	if opts.VisibilityTimeout > 0 {
		in.VisibilityTimeout = int32(ceilSeconds(opts.VisibilityTimeout))
	}
	for {
		w, capped := capWait(ctx, wait)
		in.WaitTimeSeconds = int32(w / time.Second)
		if q.info.FIFO {
			in.ReceiveRequestAttemptId = aws.String(attemptID())
		}
		out, err := q.api.ReceiveMessage(ctx, in)
		if err != nil {
			if ctx.Err() != nil {
				return nil, &postroom.Error{Pkg: pkgName, Op: "receive", Kind: ctx.Err(), Err: err}
			}
			return nil, wrapErr("receive", err)
		}
		if len(out.Messages) > 0 || !capped {
			return deliveries(out.Messages, time.Now()), nil
		}
		if _, ok := ctx.Deadline(); ok && time.Until(deadline(ctx)) >= time.Second {
			wait -= w
			continue // more than a second left: poll again
		}
		<-ctx.Done()
		return nil, &postroom.Error{Pkg: pkgName, Op: "receive", Kind: ctx.Err()}
	}
}

func deadline(ctx context.Context) time.Time { d, _ := ctx.Deadline(); return d }

// capWait returns the wait, in whole seconds, that fits in what is left of
// ctx, and whether that is shorter than wait.
func capWait(ctx context.Context, wait time.Duration) (time.Duration, bool) {
	w := ceilSeconds(wait) * time.Second
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl).Truncate(time.Second); left < w {
			return max(left, 0), true
		}
	}
	return w, false
}

func ceilSeconds(d time.Duration) time.Duration { return (d + time.Second - 1) / time.Second }

func attemptID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// deliveries converts received messages.
func deliveries(ms []types.Message, now time.Time) []*queue.Delivery {
	ds := make([]*queue.Delivery, len(ms))
	for i, m := range ms {
		a := m.Attributes
		d := &queue.Delivery{
			Message: queue.Message{
				ID:              aws.ToString(m.MessageId),
				Body:            []byte(aws.ToString(m.Body)),
				Attributes:      fromSQSAttributes(m.MessageAttributes),
				GroupID:         a[string(types.MessageSystemAttributeNameMessageGroupId)],
				DeduplicationID: a[string(types.MessageSystemAttributeNameMessageDeduplicationId)],
			},
			Receipt:          aws.ToString(m.ReceiptHandle),
			SentAt:           millis(a[string(types.MessageSystemAttributeNameSentTimestamp)]),
			FirstReceivedAt:  millis(a[string(types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp)]),
			ReceivedAt:       now,
			SequenceNumber:   a[string(types.MessageSystemAttributeNameSequenceNumber)],
			DeadLetterSource: a[string(types.MessageSystemAttributeNameDeadLetterQueueSourceArn)],
		}
		if h := a[string(types.MessageSystemAttributeNameAWSTraceHeader)]; h != "" {
			if d.Attributes == nil {
				d.Attributes = make(queue.Attributes, 1)
			}
			d.Attributes[TraceHeaderAttribute] = queue.String(h)
		}
		rawvalue.Set(d, m)
		d.ReceiveCount, _ = strconv.Atoi(a[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		ds[i] = d
	}
	return ds
}

func millis(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}
