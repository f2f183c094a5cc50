package awssns

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/awsbatch"
	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// SNS's fixed limits.
const (
	MaxBatch       = 10        // entries of one PublishBatch call
	MaxMessageSize = 256 << 10 // bytes of a message, and of a PublishBatch call
)

// DefaultBatchWait is how long a Publish of one message waits for others to
// share its PublishBatch call, unless Options.BatchWait says otherwise.
const DefaultBatchWait = 5 * time.Millisecond

// Options tune a [Topic]. The zero value works.
type Options struct {
	// BatchWait is how long a Publish of one message waits for Publishes
	// from other goroutines to share a PublishBatch call, when others are
	// under way (one made alone goes at once). Zero means
	// DefaultBatchWait; negative publishes each message on its own.
	BatchWait time.Duration
	// EntryRetries is how many times an entry that failed with a
	// retryable code is published again. Zero means 3; negative never.
	EntryRetries int
	// RetryBackoff is the first pause before a retry. Zero means 50 ms.
	RetryBackoff time.Duration
}

// A Topic is an SNS topic. Subscribe wires SQS queues to it, so it needs
// an SQS client as well. It is safe for concurrent use.
type Topic struct {
	sns  snsAPI
	sqs  sqsAPI
	rq   *sqs.Client // for the receiving side of subscriptions
	arn  string
	fifo bool
	opts Options

	publishes *awsbatch.Coalescer[*pubsub.Message]
	closed    atomic.Bool
}

var _ pubsub.Topic = (*Topic)(nil)

// New opens the topic topicARN names, with the clients of both services.
func New(ctx context.Context, snsClient *sns.Client, sqsClient *sqs.Client, topicARN string, opts Options) (*Topic, error) {
	return open(ctx, snsClient, sqsClient, sqsClient, topicARN, opts)
}

// NewFromConfig is New with clients made from cfg.
func NewFromConfig(ctx context.Context, cfg aws.Config, topicARN string, opts Options) (*Topic, error) {
	return New(ctx, sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg), topicARN, opts)
}

func open(ctx context.Context, s snsAPI, q sqsAPI, rq *sqs.Client, arnOrName string, opts Options) (*Topic, error) {
	if opts.BatchWait == 0 {
		opts.BatchWait = DefaultBatchWait
	}
	if opts.EntryRetries == 0 {
		opts.EntryRetries = 3
	}
	opts.EntryRetries = max(opts.EntryRetries, 0)
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 50 * time.Millisecond
	}
	op := "open " + strconv.Quote(arnOrName)
	arn := arnOrName
	if !strings.HasPrefix(arn, "arn:") {
		found, err := findTopic(ctx, s, arnOrName)
		if err != nil {
			return nil, wrapErr(op, err)
		}
		if found == "" {
			return nil, &postroom.Error{Pkg: pkgName, Op: op, Code: "NotFound", Message: "Topic does not exist", Kind: postroom.ErrNotFound}
		}
		arn = found
	}
	out, err := s.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn})
	if err != nil {
		return nil, wrapErr(op, err)
	}
	t := &Topic{sns: s, sqs: q, rq: rq, arn: arn, opts: opts, fifo: out.Attributes["FifoTopic"] == "true" || strings.HasSuffix(arn, ".fifo")}
	t.publishes = awsbatch.NewCoalescer(opts.BatchWait, MaxBatch, MaxMessageSize, messageSize, t.publishBatch)
	return t, nil
}

// findTopic returns the ARN of the topic called name, or "".
func findTopic(ctx context.Context, s snsAPI, name string) (string, error) {
	p := sns.NewListTopicsPaginator(s, &sns.ListTopicsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, tp := range out.Topics {
			a := aws.ToString(tp.TopicArn)
			if a[strings.LastIndexByte(a, ':')+1:] == name {
				return a, nil
			}
		}
	}
	return "", nil
}

// ARN returns the topic's ARN.
func (t *Topic) ARN() string { return t.arn }

// Close makes later Publish and Subscribe calls fail with ErrClosed.
// Subscriptions stay usable until closed themselves.
func (t *Topic) Close() error {
	t.closed.Store(true)
	return nil
}

func messageSize(m *pubsub.Message) int { return len(m.Body) + m.Attributes.Size() }

// Publish publishes up to 10 messages: one with Publish (sharing a
// PublishBatch call with concurrent Publishes of one message), more with
// PublishBatch, split by SNS's 256 KiB limit on a batch. Messages the driver
// can tell are invalid are reported in a *postroom.BatchError beside the
// others, which are published. Entries that fail with a retryable code
// are published again.
func (t *Topic) Publish(ctx context.Context, msgs ...*pubsub.Message) error {
	if t.closed.Load() {
		return errClosed("publish")
	}
	switch {
	case len(msgs) == 0:
		return &postroom.Error{Pkg: pkgName, Op: "publish", Code: "EmptyBatchRequest", Message: "The batch request doesn't contain any entries.", Kind: postroom.ErrTooManyEntries}
	case len(msgs) > MaxBatch:
		return &postroom.Error{Pkg: pkgName, Op: "publish", Code: "TooManyEntriesInBatchRequest",
			Message: fmt.Sprintf("The batch request contains more entries than permissible (%d > %d).", len(msgs), MaxBatch), Kind: postroom.ErrTooManyEntries}
	}
	errs := make([]error, len(msgs))
	var valid []int
	for i, m := range msgs {
		if errs[i] = t.check(m); errs[i] == nil {
			valid = append(valid, i)
		}
	}
	if len(msgs) == 1 {
		if errs[0] != nil {
			return errs[0]
		}
		return t.publishes.One(ctx, msgs[0])
	}
	size := func(i int) int { return messageSize(msgs[i]) }
	for _, group := range awsbatch.Split(valid, MaxBatch, MaxMessageSize, size) {
		chunk := make([]*pubsub.Message, len(group))
		for j, i := range group {
			chunk[j] = msgs[i]
		}
		for j, err := range t.publishBatch(ctx, chunk) {
			errs[group[j]] = err
		}
	}
	return awsbatch.Result(errs, newBatchError)
}

func (t *Topic) check(m *pubsub.Message) error {
	switch {
	case m == nil || len(m.Body) == 0:
		return validate.Invalid(pkgName, "publish", "InvalidParameter", "Invalid parameter: Empty message")
	case messageSize(m) > MaxMessageSize:
		return &postroom.Error{Pkg: pkgName, Op: "publish", Code: "InvalidParameter",
			Message: "Invalid parameter: Message too long", Kind: postroom.ErrTooLarge}
	case len(m.Subject) > 100 || strings.ContainsAny(m.Subject, "\r\n"):
		return validate.Invalid(pkgName, "publish", "InvalidParameter", "Invalid parameter: Subject")
	}
	if len(m.Attributes) > 0 {
		return validate.Attributes(pkgName, "publish", m.Attributes, validate.SNS)
	}
	return nil
}

func (t *Topic) publishBatch(ctx context.Context, msgs []*pubsub.Message) []error {
	r := awsbatch.Retry{
		Retries:   t.opts.EntryRetries,
		Backoff:   t.opts.RetryBackoff,
		Retryable: retryable,
		EntryErr:  func(code, msg string) error { return entryErr("publish", code, msg) },
		CallErr:   func(err error) error { return wrapErr("publish", err) },
		NoResult: func() error {
			return &postroom.Error{Pkg: pkgName, Op: "publish", Message: "the service returned no result for this entry", Kind: postroom.ErrUnavailable}
		},
	}
	return r.Do(ctx, len(msgs), func(ctx context.Context, idx []int) ([]string, []awsbatch.Failure, error) {
		in := &sns.PublishBatchInput{TopicArn: &t.arn, PublishBatchRequestEntries: make([]types.PublishBatchRequestEntry, len(idx))}
		for k, i := range idx {
			m := msgs[i]
			e := types.PublishBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), Message: aws.String(string(m.Body))}
			if m.Subject != "" {
				e.Subject = aws.String(m.Subject)
			}
			if m.GroupID != "" {
				e.MessageGroupId = aws.String(m.GroupID)
			}
			if m.DeduplicationID != "" {
				e.MessageDeduplicationId = aws.String(m.DeduplicationID)
			}
			if len(m.Attributes) > 0 {
				e.MessageAttributes = toSNSAttributes(m.Attributes)
			}
			in.PublishBatchRequestEntries[k] = e
		}
		out, err := t.sns.PublishBatch(ctx, in)
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
		fs := make([]awsbatch.Failure, len(out.Failed))
		for k, f := range out.Failed {
			fs[k] = awsbatch.Failure{ID: aws.ToString(f.Id), Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
		}
		return ok, fs, nil
	})
}

func toSNSAttributes(attrs queue.Attributes) map[string]types.MessageAttributeValue {
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
