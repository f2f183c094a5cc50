package awssqs

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/awsbatch"
	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/queue"
)

// Send sends up to 10 msgs with SendMessageBatch, split into as many calls
// as SQS's 1 MiB limit on a batch call's size requires. More than 10
// messages fail with ErrTooManyEntries, and nothing is sent. A message the driver can tell is invalid (an empty
// body, too many or malformed attributes, a body over the queue's maximum
// size) is not sent, and is reported in a *postroom.BatchError beside the
// others, which are. Entries that fail with a retryable code are sent
// again, alone; no entry is sent twice because another one failed.
//
// A Send of one message made while other calls are under way on the queue
// waits up to Options.BatchWait for Sends from other goroutines, to share
// one SendMessageBatch call with them; made alone, it is sent at once.
func (q *Queue) Send(ctx context.Context, msgs ...*queue.Message) error {
	if q.closed.Load() {
		return errClosed("send")
	}
	switch {
	case len(msgs) == 0:
		return &postroom.Error{Pkg: pkgName, Op: "send", Code: "AWS.SimpleQueueService.EmptyBatchRequest",
			Message: "There should be at least one SendMessageBatchRequestEntry in the request.", Kind: postroom.ErrTooManyEntries}
	case len(msgs) > MaxBatch:
		return &postroom.Error{Pkg: pkgName, Op: "send", Code: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
			Message: fmt.Sprintf("Maximum number of entries per request are %d. You have sent %d.", MaxBatch, len(msgs)),
			Kind:    postroom.ErrTooManyEntries}
	}
	errs := make([]error, len(msgs))
	var valid []int
	for i, m := range msgs {
		if errs[i] = q.check(m); errs[i] == nil {
			valid = append(valid, i)
		}
	}
	if len(msgs) == 1 {
		if errs[0] != nil {
			return errs[0]
		}
		return q.sends.One(ctx, msgs[0])
	}
	// Split the valid messages into calls by count and size.
	size := func(i int) int { return messageSize(msgs[i]) }
	for _, group := range awsbatch.Split(valid, MaxBatch, MaxBatchSize, size) {
		chunk := make([]*queue.Message, len(group))
		for j, i := range group {
			chunk[j] = msgs[i]
		}
		for j, err := range q.sendBatch(ctx, chunk) {
			errs[group[j]] = err
		}
	}
	return batchResult(errs)
}

// batchResult returns the result of a call with entries: see
// awsbatch.Result.
func batchResult(errs []error) error { return awsbatch.Result(errs, newBatchError) }

// TraceHeaderAttribute is the name of the attribute that carries an AWS
// X-Ray trace header (Root=1-…;Parent=…;Sampled=1). Send sends a String
// attribute of that name as the AWSTraceHeader message system attribute
// (MessageSystemAttributes) rather than as a message attribute, so it
// counts neither towards the 10 message attributes nor towards the
// message's size; Receive puts the AWSTraceHeader system attribute of a
// message, however it was set (by Send, by the SDK from the
// X-Amzn-Trace-Id header, by a service), back in Delivery.Attributes under
// this name. On the memory driver the attribute is an ordinary one, so the
// same code carries the header on both.
const TraceHeaderAttribute = "AWSTraceHeader"

// TraceHeader returns the X-Ray trace header a delivery carries (see
// TraceHeaderAttribute), or "".
func TraceHeader(d *queue.Delivery) string {
	if d == nil {
		return ""
	}
	return d.Attributes[TraceHeaderAttribute].Value
}

// messageSize is what a message counts towards SQS's size limits: its
// body and its message attributes, not the trace header.
func messageSize(m *queue.Message) int {
	n := len(m.Body) + m.Attributes.Size()
	if a, ok := m.Attributes[TraceHeaderAttribute]; ok {
		n -= len(TraceHeaderAttribute) + len(a.Type) + a.Size()
	}
	return n
}

// userAttributes returns attrs without the trace header, and the header.
// It copies attrs only when they hold a header.
func userAttributes(attrs queue.Attributes) (queue.Attributes, *queue.Attribute) {
	a, ok := attrs[TraceHeaderAttribute]
	if !ok {
		return attrs, nil
	}
	out := make(queue.Attributes, len(attrs)-1)
	for name, v := range attrs {
		if name != TraceHeaderAttribute {
			out[name] = v
		}
	}
	return out, &a
}

// check applies the rules the driver can check without asking SQS, with
// the codes and messages SQS would answer.
func (q *Queue) check(m *queue.Message) error {
	switch {
	case m == nil || len(m.Body) == 0:
		return validate.Invalid(pkgName, "send", "MissingParameter", "The request must contain the parameter MessageBody.")
	case messageSize(m) > q.maxSize:
		return &postroom.Error{Pkg: pkgName, Op: "send", Code: "InvalidParameterValue",
			Message: fmt.Sprintf("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.maxSize),
			Kind:    postroom.ErrTooLarge}
	case m.Delay > MaxDelay:
		return validate.Invalid(pkgName, "send", "InvalidParameterValue",
			"Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", int(m.Delay/time.Second))
	}
	if len(m.Attributes) > 0 {
		attrs, trace := userAttributes(m.Attributes)
		if trace != nil && (trace.Type != queue.TypeString || trace.Value == "") {
			return validate.Invalid(pkgName, "send", "InvalidParameterValue",
				"Message system attribute '%s' must be a non-empty value of type 'String'.", TraceHeaderAttribute)
		}
		if err := validate.Attributes(pkgName, "send", attrs, validate.SQS); err != nil {
			return err
		}
	}
	return nil
}

// sendBatch sends at most 10 valid messages in one SendMessageBatch call,
// and again the entries that failed with a retryable code.
func (q *Queue) sendBatch(ctx context.Context, msgs []*queue.Message) []error {
	return q.entryRetry(ctx, "send", len(msgs), func(ctx context.Context, idx []int) ([]string, []types.BatchResultErrorEntry, error) {
		in := &sqs.SendMessageBatchInput{QueueUrl: &q.url, Entries: make([]types.SendMessageBatchRequestEntry, len(idx))}
		for k, i := range idx {
			in.Entries[k] = sendEntry(strconv.Itoa(i), msgs[i])
		}
		out, err := q.api.SendMessageBatch(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		ok := make([]string, len(out.Successful))
		for k, s := range out.Successful {
			ok[k] = aws.ToString(s.Id)
			if i, err := strconv.Atoi(ok[k]); err == nil && i >= 0 && i < len(msgs) {
				msgs[i].ID = aws.ToString(s.MessageId)
			}
		}
		return ok, out.Failed, nil
	})
}

func sendEntry(id string, m *queue.Message) types.SendMessageBatchRequestEntry {
	e := types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(string(m.Body))}
	if m.Delay > 0 {
		e.DelaySeconds = int32((m.Delay + time.Second - 1) / time.Second)
	}
	if m.GroupID != "" {
		e.MessageGroupId = aws.String(m.GroupID)
	}
	if m.DeduplicationID != "" {
		e.MessageDeduplicationId = aws.String(m.DeduplicationID)
	}
	if len(m.Attributes) > 0 {
		attrs, trace := userAttributes(m.Attributes)
		if trace != nil {
			e.MessageSystemAttributes = map[string]types.MessageSystemAttributeValue{
				TraceHeaderAttribute: {DataType: aws.String(queue.TypeString), StringValue: aws.String(trace.Value)},
			}
		}
		if len(attrs) > 0 {
			e.MessageAttributes = toSQSAttributes(attrs)
		}
	}
	return e
}

func toSQSAttributes(attrs queue.Attributes) map[string]types.MessageAttributeValue {
	out := make(map[string]types.MessageAttributeValue, len(attrs))
	for name, a := range attrs {
		v := types.MessageAttributeValue{DataType: aws.String(a.Type)}
		if a.BaseType() == queue.TypeBinary {
			v.BinaryValue = a.Binary
		} else {
			v.StringValue = aws.String(a.Value)
		}
		out[name] = v
	}
	return out
}

func fromSQSAttributes(attrs map[string]types.MessageAttributeValue) queue.Attributes {
	if len(attrs) == 0 {
		return nil
	}
	out := make(queue.Attributes, len(attrs))
	for name, v := range attrs {
		a := queue.Attribute{Type: aws.ToString(v.DataType)}
		if a.BaseType() == queue.TypeBinary {
			a.Binary = v.BinaryValue
		} else {
			a.Value = aws.ToString(v.StringValue)
		}
		out[name] = a
	}
	return out
}

// entryRetry makes a batch call through call, with the retry of
// retryable entries (awsbatch.Retry).
func (q *Queue) entryRetry(ctx context.Context, op string, n int,
	call func(ctx context.Context, idx []int) (ok []string, failed []types.BatchResultErrorEntry, err error)) []error {
	r := awsbatch.Retry{
		Retries:   q.opts.EntryRetries,
		Backoff:   q.opts.RetryBackoff,
		Retryable: retryable,
		EntryErr:  func(code, msg string) error { return entryErr(op, code, msg) },
		CallErr:   func(err error) error { return wrapErr(op, err) },
		NoResult: func() error {
			return &postroom.Error{Pkg: pkgName, Op: op, Message: "the service returned no result for this entry", Kind: postroom.ErrUnavailable}
		},
	}
	return r.Do(ctx, n, func(ctx context.Context, idx []int) ([]string, []awsbatch.Failure, error) {
		ok, failed, err := call(ctx, idx)
		fs := make([]awsbatch.Failure, len(failed))
		for i, f := range failed {
			fs[i] = awsbatch.Failure{ID: aws.ToString(f.Id), Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
		}
		return ok, fs, err
	})
}
