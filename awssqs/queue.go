package awssqs

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/awsbatch"
	"github.com/postroom/postroom/queue"
)

// SQS's fixed limits.
const (
	MaxBatch             = 10               // entries of one batch call, messages of one receive
	MaxBatchSize         = 1 << 20          // bytes of one SendMessageBatch (1 MiB)
	MaxWaitTime          = 20 * time.Second // longest long poll
	MaxVisibilityTimeout = 12 * time.Hour   // longest a message stays in flight from its receive
	MaxDelay             = 15 * time.Minute // longest send or nack delay
	maxAttributes        = 10               // message attributes of one message
)

// DefaultBatchWait is how long a single Send, Ack, Nack or Extend made
// while others are under way waits for calls from other goroutines to
// share its batch call, unless Options.BatchWait says otherwise.
const DefaultBatchWait = 5 * time.Millisecond

// Options tune a [Queue]. The zero value works.
type Options struct {
	// BatchWait is how long a Send of one message, or an Ack, Nack or
	// Extend of one delivery, waits for concurrent calls of the same kind
	// to join one batch call. It waits only while other Sends, Acks, Nacks
	// or Extends are under way on the queue (not after they all return):
	// a call made alone goes at once. Zero means DefaultBatchWait; a
	// negative value sends each call on its own.
	BatchWait time.Duration

	// EntryRetries is how many times an entry of a batch call that failed
	// with a retryable code (throttling, an internal error) is sent again,
	// alone with the other failed entries. Zero means 3; negative means
	// never.
	EntryRetries int

	// RetryBackoff is the first pause before entries are sent again; it
	// doubles, with jitter, on each retry. Zero means 50 ms.
	RetryBackoff time.Duration
}

func (o Options) withDefaults() Options {
	if o.BatchWait == 0 {
		o.BatchWait = DefaultBatchWait
	}
	if o.EntryRetries == 0 {
		o.EntryRetries = 3
	}
	if o.EntryRetries < 0 {
		o.EntryRetries = 0
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 50 * time.Millisecond
	}
	return o
}

// A Queue is one SQS queue. It is safe for concurrent use.
type Queue struct {
	api  api
	url  string
	opts Options

	info     queue.Info
	arn      string        // QueueArn
	maxSize  int           // MaximumMessageSize
	waitTime time.Duration // ReceiveMessageWaitTimeSeconds

	load  awsbatch.Load // calls under way in sends, acks and vis
	sends *awsbatch.Coalescer[*queue.Message]
	acks  *awsbatch.Coalescer[*queue.Delivery]

	vmu sync.Mutex                                      // guards vis
	vis map[visKey]*awsbatch.Coalescer[*queue.Delivery] // by operation and timeout

	closed atomic.Bool
}

var (
	_ queue.Queue     = (*Queue)(nil)
	_ queue.Extender  = (*Queue)(nil)
	_ queue.Purger    = (*Queue)(nil)
	_ queue.Stater    = (*Queue)(nil)
	_ queue.Describer = (*Queue)(nil)
)

// New opens the queue nameOrURL names (its name, or its URL as
// GetQueueUrl returns it) through client. It reads the queue's attributes
// once, for Describe and for the defaults of Receive.
func New(ctx context.Context, client *sqs.Client, nameOrURL string, opts Options) (*Queue, error) {
	return open(ctx, client, nameOrURL, opts)
}

// NewFromConfig is New with a client made from cfg, as sqs.NewFromConfig
// makes it (honouring cfg.BaseEndpoint and the AWS_ENDPOINT_URL_SQS
// variable the config loader reads).
func NewFromConfig(ctx context.Context, cfg aws.Config, nameOrURL string, opts Options) (*Queue, error) {
	return open(ctx, sqs.NewFromConfig(cfg), nameOrURL, opts)
}

func open(ctx context.Context, c api, nameOrURL string, opts Options) (*Queue, error) {
	if nameOrURL == "" {
		return nil, &postroom.Error{Pkg: pkgName, Op: "open", Message: "empty queue name", Kind: postroom.ErrInvalid}
	}
	q := &Queue{api: c, url: nameOrURL, opts: opts.withDefaults()}
	op := "open " + strconv.Quote(nameOrURL)
	if !strings.HasPrefix(nameOrURL, "https://") && !strings.HasPrefix(nameOrURL, "http://") {
		out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &nameOrURL})
		if err != nil {
			return nil, wrapErr(op, err)
		}
		q.url = aws.ToString(out.QueueUrl)
	}
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &q.url,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		return nil, wrapErr(op, err)
	}
	a := out.Attributes
	q.info = queue.Info{
		Name:              queueName(q.url),
		FIFO:              a[string(types.QueueAttributeNameFifoQueue)] == "true",
		VisibilityTimeout: seconds(a[string(types.QueueAttributeNameVisibilityTimeout)], 30*time.Second),
		MaxBatch:          MaxBatch,
		MaxVisibility:     MaxVisibilityTimeout,
	}
	q.arn = a[string(types.QueueAttributeNameQueueArn)]
	q.waitTime = seconds(a[string(types.QueueAttributeNameReceiveMessageWaitTimeSeconds)], 0)
	q.maxSize = MaxBatchSize
	if n, err := strconv.Atoi(a[string(types.QueueAttributeNameMaximumMessageSize)]); err == nil && n > 0 {
		q.maxSize = n
	}
	q.sends = awsbatch.NewCoalescer(q.opts.BatchWait, MaxBatch, MaxBatchSize, messageSize, q.sendBatch).ShareLoad(&q.load)
	q.acks = awsbatch.NewCoalescer(q.opts.BatchWait, MaxBatch, 0, nil, q.deleteBatch).ShareLoad(&q.load)
	q.vis = make(map[visKey]*awsbatch.Coalescer[*queue.Delivery])
	return q, nil
}

// queueName returns the last path element of a queue URL.
func queueName(u string) string {
	if p, err := url.Parse(u); err == nil && p.Path != "" {
		u = p.Path
	}
	return u[strings.LastIndexByte(u, '/')+1:]
}

func seconds(s string, def time.Duration) time.Duration {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return time.Duration(n) * time.Second
}

// URL returns the queue's URL.
func (q *Queue) URL() string { return q.url }

// ARN returns the queue's ARN, as its attributes said when it was opened.
func (q *Queue) ARN() string { return q.arn }

// Describe returns what the queue's attributes said when it was opened.
func (q *Queue) Describe() queue.Info { return q.info }

// MaxMessageSize is the queue's MaximumMessageSize when it was opened.
func (q *Queue) MaxMessageSize() int { return q.maxSize }

// Stats returns the queue's approximate counts (GetQueueAttributes).
//
// SQS exposes no age of the oldest message as a queue attribute: that is
// the CloudWatch metric ApproximateAgeOfOldestMessage, published once a
// minute. Stats therefore leaves OldestAge zero.
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	if q.closed.Load() {
		return queue.Stats{}, errClosed("stats")
	}
	out, err := q.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &q.url,
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return queue.Stats{}, wrapErr("stats", err)
	}
	n := func(name types.QueueAttributeName) int {
		v, _ := strconv.Atoi(out.Attributes[string(name)])
		return v
	}
	return queue.Stats{
		Visible:  n(types.QueueAttributeNameApproximateNumberOfMessages),
		InFlight: n(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		Delayed:  n(types.QueueAttributeNameApproximateNumberOfMessagesDelayed),
	}, nil
}

// Purge deletes every message of the queue (PurgeQueue). SQS allows one
// purge a minute; a second one fails with ErrPurgeInProgress.
func (q *Queue) Purge(ctx context.Context) error {
	if q.closed.Load() {
		return errClosed("purge")
	}
	_, err := q.api.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &q.url})
	return wrapErr("purge", err)
}

// Close makes every later call fail with ErrClosed. Batch calls already
// under way finish. It does not close the client, which the caller owns.
func (q *Queue) Close() error {
	q.closed.Store(true)
	return nil
}

func errClosed(op string) error {
	return &postroom.Error{Pkg: pkgName, Op: op, Kind: postroom.ErrClosed}
}
