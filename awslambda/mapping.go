package awslambda

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/backoff"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/queue"
)

// Lambda's limits and defaults for an SQS event source mapping.
const (
	defaultBatchSize       = 10
	maxBatchSizeFIFO       = 10
	maxBatchSizeStandard   = 10000
	maxBatchingWindow      = 5 * time.Minute
	defaultConcurrency     = 5 // the batches Lambda's pollers start with
	maxConcurrency         = 1000
	defaultFunctionTimeout = 3 * time.Second
	maxFunctionTimeout     = 15 * time.Minute
	pollWait               = 20 * time.Second // Lambda long-polls
	receiveMax             = 10               // messages per ReceiveMessage
)

// MappingOptions configure a [Mapping] with the settings of an SQS event
// source mapping and of the function it invokes. The zero value has
// Lambda's defaults: batches of 10, no batching window, no batch item
// failures, 5 invocations at once, a 3-second function timeout.
type MappingOptions struct {
	// BatchSize is the most messages in one invocation: 1 to 10 on a FIFO
	// queue, 1 to 10,000 on a standard queue, where more than 10 needs a
	// MaximumBatchingWindow. 0 means 10.
	BatchSize int

	// MaximumBatchingWindow is how long the mapping keeps gathering
	// messages, from the first one it received, before it invokes the
	// function with fewer than BatchSize: 0 to 5 minutes. 0 invokes the
	// function with what one receive returns.
	MaximumBatchingWindow time.Duration

	// ReportBatchItemFailures reads the function's response as an
	// events.SQSEventResponse (FunctionResponseTypes:
	// ReportBatchItemFailures): the messages it names stay on the queue,
	// the others are deleted. A response that names a message not in the
	// batch, or an empty identifier, fails the whole batch. Without it, a
	// successful invocation deletes the whole batch.
	ReportBatchItemFailures bool

	// MaximumConcurrency is the most invocations at once (the mapping's
	// MaximumConcurrency, or the function's reserved concurrency): 1 to
	// 1,000. 0 means 5. On a FIFO queue, a message group is in at most one
	// invocation at a time.
	MaximumConcurrency int

	// FunctionTimeout is the function's timeout: the invocation's context
	// ends then, and an invocation that returns later failed ("Task timed
	// out"). 1 s to 15 minutes; 0 means 3 s. As Lambda does, New refuses a
	// timeout longer than the queue's visibility timeout when the receiver
	// is a queue.Describer.
	FunctionTimeout time.Duration

	// EventSourceARN is the queue's ARN in the events; its region is the
	// records' awsRegion, and a name ending in ".fifo" makes the mapping
	// FIFO. Empty means the receiver's ARN() when it has that method (the
	// memory queue does), else an ARN made of queue.Info.Name in
	// us-east-1 and account 000000000000.
	EventSourceARN string

	// Hooks observe the mapping.
	Hooks MappingHooks
}

// MappingHooks observe a [Mapping]; every hook may be nil. Hooks are called
// from the mapping's goroutines, several at once.
type MappingHooks struct {
	// Invoked is called after each invocation with its batch, the ids of
	// the messages left on the queue because the response named them, and
	// the invocation's error (the function's, a timeout, a panic, or a
	// response that fails the whole batch), nil on success.
	Invoked func(ds []*queue.Delivery, failed []string, err error)
	// PollError is called when a receive fails; the poller retries after
	// pause.
	PollError func(err error, pause time.Duration)
	// AckFailed is called when deleting the successful messages failed:
	// they will be received again.
	AckFailed func(ds []*queue.Delivery, err error)
}

// A Mapping is a local SQS event source mapping: it polls a
// queue.Receiver and invokes an [SQSFunction] with the events Lambda would
// send, following Lambda's rules, so that a function can be tested on the
// memory driver with real SQS semantics before it is deployed.
//
// The function is invoked through lambda.NewHandler, with the event as
// JSON, as Lambda's runtime does. A batch whose invocation fails (an error,
// a panic, a timeout) is left alone: its messages come back when their
// visibility timeout passes, and the queue's redrive policy moves a
// message to the dead-letter queue once it has been received
// maxReceiveCount times. With ReportBatchItemFailures only the messages
// the response names come back.
type Mapping struct {
	r       queue.Receiver
	fn      lambda.Handler
	o       MappingOptions
	arn     string
	region  string
	fifo    bool
	maxWait time.Duration

	mu      sync.Mutex      // guards everything below
	busy    map[string]bool // FIFO message groups in an invocation
	changed chan struct{}   // closed when busy loses a group
}

// NewMapping returns a mapping that invokes fn with the messages of r. It
// returns an error matching postroom.ErrInvalid for options Lambda would
// refuse.
func NewMapping(r queue.Receiver, fn SQSFunction, opts MappingOptions) (*Mapping, error) {
	m := &Mapping{r: r, o: opts, busy: map[string]bool{}, changed: make(chan struct{}), maxWait: pollWait}
	if fn == nil || r == nil {
		return nil, invalidf("a mapping needs a receiver and a function")
	}
	m.fn = lambda.NewHandler(fn)
	var info queue.Info
	desc, described := r.(queue.Describer)
	if described {
		info = desc.Describe()
		if info.MaxWaitTime > 0 {
			m.maxWait = min(m.maxWait, info.MaxWaitTime)
		}
	}
	m.arn = opts.EventSourceARN
	if m.arn == "" {
		if a, ok := r.(interface{ ARN() string }); ok {
			m.arn = a.ARN()
		} else if described && info.Name != "" {
			m.arn = "arn:aws:sqs:us-east-1:000000000000:" + info.Name
		} else {
			return nil, invalidf("EventSourceARN is needed: the receiver has no ARN and does not describe itself")
		}
	}
	parts := strings.Split(m.arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" {
		return nil, invalidf("EventSourceARN %q is not an SQS queue ARN", m.arn)
	}
	m.region = parts[3]
	m.fifo = strings.HasSuffix(parts[5], ".fifo") || info.FIFO

	o := &m.o
	if o.BatchSize == 0 {
		o.BatchSize = defaultBatchSize
	}
	switch {
	case m.fifo && (o.BatchSize < 1 || o.BatchSize > maxBatchSizeFIFO):
		return nil, invalidf("BatchSize %d: a FIFO queue takes 1 to %d", o.BatchSize, maxBatchSizeFIFO)
	case o.BatchSize < 1 || o.BatchSize > maxBatchSizeStandard:
		return nil, invalidf("BatchSize %d: a standard queue takes 1 to %d", o.BatchSize, maxBatchSizeStandard)
	case o.BatchSize > receiveMax && o.MaximumBatchingWindow <= 0:
		return nil, invalidf("BatchSize %d: more than %d needs a MaximumBatchingWindow", o.BatchSize, receiveMax)
	case o.MaximumBatchingWindow < 0 || o.MaximumBatchingWindow > maxBatchingWindow:
		return nil, invalidf("MaximumBatchingWindow %v: 0 to %v", o.MaximumBatchingWindow, maxBatchingWindow)
	}
	if o.MaximumConcurrency == 0 {
		o.MaximumConcurrency = defaultConcurrency
	}
	if o.MaximumConcurrency < 1 || o.MaximumConcurrency > maxConcurrency {
		return nil, invalidf("MaximumConcurrency %d: 1 to %d", o.MaximumConcurrency, maxConcurrency)
	}
	if o.FunctionTimeout == 0 {
		o.FunctionTimeout = defaultFunctionTimeout
	}
	if o.FunctionTimeout < time.Second || o.FunctionTimeout > maxFunctionTimeout {
		return nil, invalidf("FunctionTimeout %v: 1 s to %v", o.FunctionTimeout, maxFunctionTimeout)
	}
	if vt := info.VisibilityTimeout; vt > 0 && vt < o.FunctionTimeout {
		return nil, invalidf("queue visibility timeout %v is less than the function timeout %v", vt, o.FunctionTimeout)
	}
	return m, nil
}

func invalidf(format string, args ...any) error {
	return e.Errorf(postroom.ErrInvalid, "new mapping", format, args...)
}

// Run polls and invokes until ctx is cancelled, then waits for the
// invocations in progress and returns nil. Messages it has received but
// not handed to an invocation are given back to the queue. A receive error
// matching postroom.ErrClosed or postroom.ErrInvalid stops every poller,
// and Run returns it; other receive errors are retried with backoff.
func (m *Mapping) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	for range m.o.MaximumConcurrency {
		wg.Go(func() {
			if err := m.poll(ctx); err != nil {
				errMu.Lock()
				if first == nil {
					first = err
				}
				errMu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	return first
}

// poll is one poller: it gathers a batch and invokes the function with
// it, one invocation at a time.
func (m *Mapping) poll(ctx context.Context) error {
	failures := 0
	pauses := backoff.Exponential{Initial: time.Second, Max: 30 * time.Second, Jitter: backoff.EqualJitter}
	for ctx.Err() == nil {
		ds, err := m.gather(ctx)
		if ctx.Err() != nil {
			m.giveBack(ctx, ds)
			return nil
		}
		if len(ds) > 0 {
			m.invoke(ctx, ds)
		}
		if err == nil {
			failures = 0
			continue
		}
		if errors.Is(err, postroom.ErrClosed) || errors.Is(err, postroom.ErrInvalid) {
			return err
		}
		failures++
		pause := pauses.Delay(failures)
		if m.o.Hooks.PollError != nil {
			m.o.Hooks.PollError(err, pause)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
	}
	return nil
}

// gather receives one batch: up to BatchSize messages, within the
// batching window from the first.
func (m *Mapping) gather(ctx context.Context) ([]*queue.Delivery, error) {
	var (
		ds       []*queue.Delivery
		deadline time.Time
	)
	for len(ds) < m.o.BatchSize {
		wait := m.maxWait
		if len(ds) > 0 {
			left := time.Until(deadline)
			if m.o.MaximumBatchingWindow == 0 || left <= 0 {
				break
			}
			wait = min(wait, left)
		}
		got, err := m.r.Receive(ctx, queue.ReceiveOptions{MaxMessages: min(receiveMax, m.o.BatchSize-len(ds)), WaitTime: wait})
		if err != nil {
			return ds, err
		}
		if len(ds) == 0 && len(got) > 0 {
			deadline = time.Now().Add(m.o.MaximumBatchingWindow)
		}
		ds = append(ds, got...)
	}
	return ds, nil
}

// giveBack makes messages the mapping will not invoke the function with
// visible again at once.
func (m *Mapping) giveBack(ctx context.Context, ds []*queue.Delivery) {
	if len(ds) > 0 {
		_ = m.r.Nack(context.WithoutCancel(ctx), 0, ds...)
	}
}

// invoke runs the function on ds and settles the batch by its result.
func (m *Mapping) invoke(ctx context.Context, ds []*queue.Delivery) {
	if m.fifo {
		groups, ok := m.lockGroups(ctx, ds)
		if !ok {
			m.giveBack(ctx, ds)
			return
		}
		defer m.unlockGroups(groups)
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(ds))}
	for i, d := range ds {
		ev.Records[i] = sqsRecord(d, m.arn, m.region)
	}
	failed, err := m.call(ctx, ev)
	if err == nil {
		err = m.settle(ctx, ds, failed)
	}
	if m.o.Hooks.Invoked != nil {
		m.o.Hooks.Invoked(ds, failed, err)
	}
}

// call invokes the function with ev as JSON and returns the ids its
// response names as failed (with ReportBatchItemFailures).
func (m *Mapping) call(ctx context.Context, ev events.SQSEvent) (failed []string, err error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, e.Wrap(postroom.ErrInvalid, "invoke", err)
	}
	ictx := lambdacontext.NewContext(context.WithoutCancel(ctx), &lambdacontext.LambdaContext{AwsRequestID: requestID()})
	ictx, cancel := context.WithTimeout(ictx, m.o.FunctionTimeout)
	defer cancel()
	out, err := m.invokeRecover(ictx, payload)
	if ictx.Err() != nil {
		return nil, e.Errorf(nil, "invoke", "Task timed out after %.2f seconds", m.o.FunctionTimeout.Seconds())
	}
	if err != nil {
		return nil, e.Wrap(nil, "invoke", err)
	}
	if !m.o.ReportBatchItemFailures {
		return nil, nil
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, e.Errorf(postroom.ErrInvalid, "invoke", "response is not an SQSEventResponse: %v", err)
	}
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed, nil
}

func (m *Mapping) invokeRecover(ctx context.Context, payload []byte) (out []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &consumer.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return m.fn.Invoke(ctx, payload)
}

// settle deletes the messages of ds that failed does not name. A name that
// is empty or not in the batch fails the whole batch, as on Lambda.
func (m *Mapping) settle(ctx context.Context, ds []*queue.Delivery, failed []string) error {
	inBatch := make(map[string]bool, len(ds))
	for _, d := range ds {
		inBatch[d.ID] = true
	}
	left := make(map[string]bool, len(failed))
	for _, id := range failed {
		if !inBatch[id] {
			return e.Errorf(postroom.ErrInvalid, "invoke", "batch item failure %q names no message of the batch", id)
		}
		left[id] = true
	}
	var ok []*queue.Delivery
	for _, d := range ds {
		if !left[d.ID] {
			ok = append(ok, d)
		}
	}
	for len(ok) > 0 {
		n := min(len(ok), receiveMax)
		if err := m.r.Ack(context.WithoutCancel(ctx), ok[:n]...); err != nil && m.o.Hooks.AckFailed != nil {
			m.o.Hooks.AckFailed(ok[:n], err)
		}
		ok = ok[n:]
	}
	return nil
}

// lockGroups waits until no other invocation holds a message group of ds,
// and takes them. It reports false when ctx ended first.
func (m *Mapping) lockGroups(ctx context.Context, ds []*queue.Delivery) ([]string, bool) {
	var groups []string
	seen := map[string]bool{}
	for _, d := range ds {
		if !seen[d.GroupID] {
			seen[d.GroupID] = true
			groups = append(groups, d.GroupID)
		}
	}
	for {
		m.mu.Lock()
		free := true
		for _, g := range groups {
			free = free && !m.busy[g]
		}
		if free {
			for _, g := range groups {
				m.busy[g] = true
			}
			m.mu.Unlock()
			return groups, true
		}
		changed := m.changed
		m.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, false
		}
	}
}

func (m *Mapping) unlockGroups(groups []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, g := range groups {
		delete(m.busy, g)
	}
	close(m.changed)
	m.changed = make(chan struct{})
}

// requestID is a random request id shaped like Lambda's (a UUID).
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:])
}
