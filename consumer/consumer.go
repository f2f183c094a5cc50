package consumer

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/backoff"
	"github.com/postroom/postroom/internal/errkit"
	"github.com/postroom/postroom/queue"
)

const e errkit.Pkg = "consumer"

// A Handler handles one delivered message. Returning nil acks (deletes)
// the message. Returning an error gives it back to the queue to be
// delivered again after a backoff delay, or moves it to the dead-letter
// sender when the error matches [ErrPermanent] or the attempts ran out (see
// [Retry]).
//
// The context is cancelled when the consumer is shutting down and its
// shutdown timeout passed (or when a middleware such as [Timeout] says so).
// It carries the values of the context given to [Consumer.Run].
type Handler func(ctx context.Context, d *queue.Delivery) error

// A Middleware wraps a [Handler] in another, to add behaviour around every
// message: a timeout ([Timeout]), deduplication (package consumer/dedup),
// tracing (package tracing), logging, metrics.
type Middleware func(Handler) Handler

// Chain wraps h in mw. The first middleware is the outermost: it sees the
// message first and the result last, as with net/http middleware. Pass the
// result to [New].
func Chain(h Handler, mw ...Middleware) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Timeout returns middleware that cancels the handler's context d after
// the call started. The message then fails with the handler's error (most
// handlers return ctx.Err(), context.DeadlineExceeded) and is retried like
// any failure. d must be positive.
//
// Without a timeout a handler may run as long as it likes: the heartbeat
// keeps its message in flight (see [Consumer]).
func Timeout(d time.Duration) Middleware {
	if d <= 0 {
		panic("consumer: Timeout needs a positive duration")
	}
	return func(next Handler) Handler {
		return func(ctx context.Context, m *queue.Delivery) error {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return next(ctx, m)
		}
	}
}

// A BatchHandler handles the messages of one receive together: the shape of
// an AWS Lambda SQS handler that reports batch item failures.
//
// It returns nil when every message succeeded, and a [*postroom.BatchError]
// index-aligned with ds (see [postroom.NewBatchError]) when some failed: the
// messages whose entry is nil are acked, the others are retried or
// dead-lettered one by one as a [Handler]'s would be. Any other error, and
// a *postroom.BatchError of the wrong length, fails the whole batch.
//
// On a FIFO queue, every message that follows a failed one of the same
// group in ds counts as not handled: it is given back with no delay, so
// that the group is delivered again in order.
//
// Middleware does not apply to a batch: a batch handler that needs a
// deadline makes its own with context.WithTimeout.
type BatchHandler func(ctx context.Context, ds []*queue.Delivery) error

// The defaults of [Options]. They are documented on each field.
const (
	defaultConcurrency     = 10
	defaultWaitTime        = 20 * time.Second
	defaultAckInterval     = time.Second
	defaultShutdownTimeout = 30 * time.Second
	defaultSettleTimeout   = 30 * time.Second

	// assumedVisibility is the visibility timeout the heartbeat assumes
	// when neither the options nor the receiver tell it (SQS's default).
	assumedVisibility = 30 * time.Second
	// defaultMaxBatch is the batch limit assumed when the receiver does
	// not describe itself (SQS's).
	defaultMaxBatch = 10
	// ackAttempts is how many times an ack is tried before giving up.
	ackAttempts = 5
	// maxAckCalls bounds the Ack calls in progress at once.
	maxAckCalls = 4
)

// Options configure a [Consumer]. The zero value works: ten messages at a
// time, 20-second long polls, failed messages retried after exponential
// delays from 1 s to 5 minutes (full jitter) until the queue's redrive
// policy moves them away, acks batched by ten or every second, a heartbeat
// when the receiver is an [queue.Extender], and 30 seconds for handlers to
// finish at shutdown.
//
// Every field follows one rule: zero means the default, which the field
// documents. Options that the receiver cannot honour (a WaitTime above its
// limit, a BatchSize above its batch limit) make [New] fail.
type Options struct {
	// Concurrency is the most messages the consumer holds at once,
	// received and not yet settled by their handler. The consumer
	// receives only as many messages as it has free slots, so a slow
	// handler slows the polling down instead of letting received messages
	// wait in a buffer while their visibility timeout runs. 0 means 10.
	// With 1, the handler runs on the goroutine that calls Run.
	Concurrency int

	// BatchSize is the most messages one receive asks for, and so the
	// largest batch a [BatchHandler] gets; a receive never asks for more
	// than the free slots. 0 means the receiver's batch limit
	// (queue.Info.MaxBatch: 10 on SQS, and when the receiver is not a
	// [queue.Describer]). Above that limit, New fails.
	BatchSize int

	// WaitTime is the long-poll wait of each receive. 0 means 20 s (the
	// consumer's own default, not the queue's receive wait time: a
	// consumer always long-polls). Above the receiver's limit
	// (queue.Info.MaxWaitTime: 20 s on SQS), New fails.
	WaitTime time.Duration

	// VisibilityTimeout is asked of each receive. 0 uses the queue's
	// (queue.Info.VisibilityTimeout; 30 s is assumed when the receiver
	// does not tell).
	VisibilityTimeout time.Duration

	// Heartbeat is how often the heartbeat looks for held messages whose
	// visibility timeout is about to pass, when the receiver is an
	// [queue.Extender]. A message is extended by the visibility timeout
	// once less than a third of it remains (or less than two intervals),
	// until queue.Info.MaxVisibility after its receive. 0 means a sixth of
	// the visibility timeout; negative disables the heartbeat.
	Heartbeat time.Duration

	// FIFO handles the messages of one group (Message.GroupID) one at a
	// time in the order received, and different groups in parallel; when
	// a message fails, the group's messages the consumer holds behind it
	// are given back with no delay, not handled. It is on when the
	// receiver describes itself as FIFO.
	FIFO bool

	// Retry is the failure policy: when a failed message comes back, and
	// where it goes when retrying cannot help.
	Retry Retry

	// Acks batch the deletes of handled messages.
	Acks Acks

	// ShutdownTimeout is how long Run waits, once its context is
	// cancelled, for running handlers to finish; then their context is
	// cancelled and Run waits for them to return. 0 means 30 s; negative
	// cancels them at once.
	ShutdownTimeout time.Duration

	// Hooks observe the consumer, for metrics and logs.
	Hooks Hooks
}

// Retry is the failure policy of a [Consumer]: what happens to a message
// whose handler returned an error, panicked, or was cut short.
//
// # Which dead-letter mechanism
//
// Prefer the queue's own redrive policy (SQS's maxReceiveCount and
// deadLetterTargetArn, memory.QueueOptions.RedrivePolicy, a broker's
// dead-letter exchange): leave MaxAttempts at 0 and the consumer retries a
// failed message with Backoff until the queue moves it to its dead-letter
// queue. The queue counts every receive, including those of consumers that
// crashed, and keeps the message's identity (its DeadLetterSource says where
// it came from).
//
// Use MaxAttempts with a DeadLetter sender when the transport has no redrive
// policy (most brokers), or when the dead letters must go somewhere the
// queue cannot send them (another region, a topic, a database). Do not
// combine both with the same count: whichever is lower wins, and the other
// only confuses.
type Retry struct {
	// Backoff gives the delay before a failed message is delivered again,
	// from its receive count (attempt 1 is the retry after the first
	// receive). nil means backoff.Exponential{}: 1 s doubling to 5
	// minutes, full jitter. A negative delay leaves the message in flight,
	// to come back when its visibility timeout passes (a "lazy" nack); a
	// delay is cut short so that the message does not stay in flight
	// beyond queue.Info.MaxVisibility.
	Backoff backoff.Policy

	// MaxAttempts, when positive, moves a message whose handler failed on
	// its MaxAttempts-th receive to DeadLetter (send, then ack). A message
	// received more often than that (its earlier consumers crashed or
	// timed out) is dead-lettered without running the handler, with
	// [ErrExhausted]. It requires DeadLetter and a receiver that reports
	// Delivery.ReceiveCount. 0 leaves the count to the queue's redrive
	// policy.
	MaxAttempts int

	// DeadLetter receives the messages that exhausted MaxAttempts and
	// those whose handler failed with an error matching [ErrPermanent],
	// with their body, attributes and group id (and, when DeadLetter is a
	// FIFO queue, their id as the deduplication id). nil means no
	// dead-letter sender: see Permanent.
	DeadLetter queue.Sender

	// Permanent says what happens to a message whose handler failed with
	// an error matching [ErrPermanent]. The zero value,
	// DeadLetterPermanent, sends it to DeadLetter at once, or retries it
	// like any failure when there is no DeadLetter, so that the queue's
	// redrive policy moves it: it is never dropped unless you ask.
	Permanent PermanentAction
}

// A PermanentAction says what a [Consumer] does with a message whose
// handler failed with an error matching [ErrPermanent] (see
// [Retry].Permanent). Every action reports the failure to Hooks.Failed
// first.
type PermanentAction int

const (
	// DeadLetterPermanent moves the message to Retry.DeadLetter at once;
	// without a DeadLetter sender it is retried like any other failure.
	DeadLetterPermanent PermanentAction = iota
	// DropPermanent acks (deletes) the message: it is neither retried nor
	// dead-lettered.
	DropPermanent
	// RetryPermanent retries the message like any other failure, until
	// MaxAttempts or the queue's redrive policy ends it.
	RetryPermanent
)

// Acks configure how a [Consumer] settles messages: handled messages are
// deleted in batches, made when Threshold messages wait or Interval passed,
// and at shutdown.
type Acks struct {
	// Threshold is how many handled messages make an ack batch: 1 to the
	// receiver's batch limit; 0 means the limit.
	Threshold int

	// Interval is the longest a handled message waits for its batch to
	// fill before it is acked. It must be less than half the visibility
	// timeout: a message waiting for its batch is not extended. 0 means
	// 1 s on a standard queue and immediate acks on a FIFO queue (a group
	// stays locked until its message is deleted); negative means
	// immediate acks, batched only with the messages handled while an ack
	// call is in progress.
	Interval time.Duration

	// Timeout bounds each call the consumer makes besides Receive: Ack,
	// Nack, Extend and the dead-letter Send. 0 means 30 s.
	Timeout time.Duration
}

// A Consumer receives messages from a [queue.Receiver] with long polls and
// runs a handler on them, several at a time: it acks what succeeds, retries
// what fails with backoff, keeps long-running messages in flight, and stops
// gracefully. Create one with [New] or [NewBatch] and call Run. It works on
// any Receiver, a queue or a pub/sub subscription, and uses the optional
// [queue.Extender] and [queue.Describer] when the receiver has them.
//
// # Concurrency and back-pressure
//
// The consumer holds at most Concurrency messages at once, from their
// receive until their handler returned and they were settled. One receive
// is in progress at a time, and it asks only for the free slots (at most
// BatchSize), so messages never wait in a buffer while their visibility
// timeout runs. With Concurrency 1, the handler runs on the goroutine that
// calls Run.
//
// # Acknowledgement and retry
//
// A handler that returns nil has its message acked (deleted). Acks are
// batched (see [Acks]). A failed ack is reported to Hooks.AckFailed and
// retried, except for a stale receipt (the message comes back, so it is
// handled again: handlers must be idempotent, or use package
// consumer/dedup).
//
// A handler that returns an error or panics has its message nacked with the
// delay Retry.Backoff gives for its receive count, so the queue delivers it
// again later. The queue's redrive policy, or Retry.MaxAttempts with a
// DeadLetter sender, ends the retries (see [Retry] for which to use). An
// error that matches [ErrPermanent] is handled as Retry.Permanent says.
//
// A panic is recovered by the consumer itself, not by a middleware one could
// forget: the message is nacked like a failed one, the panic is reported to
// Hooks.Panic as a [*PanicError], and the consumer goes on. A panic that
// escaped would end the program with messages held and acks unflushed.
//
// # Visibility heartbeat
//
// When the receiver is an [queue.Extender], one goroutine extends the
// visibility of every held message close to expiry, in batches, so that a
// handler can run longer than the visibility timeout; it stops at the
// receiver's Info.MaxVisibility (12 hours on SQS) and on stale receipts. A
// message is watched until its handler's outcome is settled: one waiting for
// its ack batch is not extended, so Acks.Interval must stay well below the
// visibility timeout (the default 1 s against SQS's default 30 s).
//
// # FIFO
//
// On a FIFO queue (or with Options.FIFO) the messages of one group are
// handled one at a time in order, and groups in parallel. When a message
// fails, the messages of its group that the consumer holds are given back
// with no delay instead of being handled, so the queue delivers the group
// again in order.
//
// # Shutdown
//
// See [Consumer.Run].
type Consumer struct {
	r   queue.Receiver
	h   Handler      // nil for a batch consumer
	bh  BatchHandler // nil for a per-message consumer
	dlq queue.Sender

	concurrency   int
	maxMessages   int // BatchSize
	maxBatch      int
	wait          time.Duration
	recvVT        time.Duration // asked of Receive; 0 for the queue's
	vt            time.Duration // the visibility timeout in force
	maxVis        time.Duration
	backoff       backoff.Policy
	pollBackoff   backoff.Policy
	maxAttempts   int
	dlqFIFO       bool
	permanent     PermanentAction
	fifo          bool
	drain         time.Duration
	settleTimeout time.Duration
	hooks         Hooks
	inlineOnly    bool // each message takes every slot: handle it on the poller

	acks *acker
	hb   *heartbeat // nil without a heartbeat

	running atomic.Bool

	// Set by Run before any goroutine starts.
	sem      chan int32      // the free slots; a message held takes one
	base     context.Context // Run's context without its cancellation
	workCtx  context.Context // handlers' parent, cancelled after the drain timeout
	units    chan unit       // to the workers
	workers  sync.WaitGroup  // the pool of handler goroutines
	stopping atomic.Bool     // Run's context is done: start no handler
	nheld    atomic.Int64    // messages held, for Hooks.InFlight

	groupsMu sync.Mutex // guards groups
	groups   map[string]*groupRun

	settleMu    sync.Mutex // guards everything below
	settleCtxs  []settleCtx
	settleRenew time.Time
}

// New returns a consumer that runs h on every message r delivers. Wrap h
// in middleware with [Chain]. It returns an error matching
// postroom.ErrInvalid for a bad option, or one r cannot honour.
func New(r queue.Receiver, h Handler, opts Options) (*Consumer, error) {
	if h == nil {
		return nil, invalidOption("the handler is nil")
	}
	c, err := newConsumer(r, opts)
	if err != nil {
		return nil, err
	}
	c.h = h
	c.inlineOnly = c.concurrency == 1
	return c, nil
}

// NewBatch returns a consumer that runs h on the messages of each receive
// together. Concurrency still counts messages: a receive asks for at most
// as many messages as there are free slots, so Concurrency should be at
// least BatchSize for full batches. It returns an error matching
// postroom.ErrInvalid for a bad option, or one r cannot honour.
func NewBatch(r queue.Receiver, h BatchHandler, opts Options) (*Consumer, error) {
	if h == nil {
		return nil, invalidOption("the batch handler is nil")
	}
	c, err := newConsumer(r, opts)
	if err != nil {
		return nil, err
	}
	c.bh = h
	return c, nil
}

func invalidOption(format string, args ...any) error {
	return e.Errorf(postroom.ErrInvalid, "new", format, args...)
}

// pollBackoff spaces the receives after consecutive failed ones.
func pollBackoff() backoff.Policy {
	return backoff.Exponential{Initial: time.Second, Max: 30 * time.Second, Jitter: backoff.EqualJitter}
}

func newConsumer(r queue.Receiver, o Options) (*Consumer, error) {
	if r == nil {
		return nil, invalidOption("the receiver is nil")
	}
	var info queue.Info
	if d, ok := r.(queue.Describer); ok {
		info = d.Describe()
	}
	c := &Consumer{
		r:             r,
		dlq:           o.Retry.DeadLetter,
		concurrency:   o.Concurrency,
		maxMessages:   o.BatchSize,
		maxBatch:      info.MaxBatch,
		wait:          o.WaitTime,
		recvVT:        o.VisibilityTimeout,
		vt:            o.VisibilityTimeout,
		maxVis:        info.MaxVisibility,
		backoff:       o.Retry.Backoff,
		pollBackoff:   pollBackoff(),
		maxAttempts:   o.Retry.MaxAttempts,
		permanent:     o.Retry.Permanent,
		fifo:          o.FIFO || info.FIFO,
		drain:         o.ShutdownTimeout,
		settleTimeout: o.Acks.Timeout,
		hooks:         o.Hooks,
	}
	switch {
	case o.Concurrency < 0:
		return nil, invalidOption("Concurrency %d is negative", o.Concurrency)
	case o.BatchSize < 0:
		return nil, invalidOption("BatchSize %d is negative", o.BatchSize)
	case o.WaitTime < 0:
		return nil, invalidOption("WaitTime %v is negative", o.WaitTime)
	case info.MaxWaitTime > 0 && o.WaitTime > info.MaxWaitTime:
		return nil, invalidOption("WaitTime %v is above the receiver's limit of %v", o.WaitTime, info.MaxWaitTime)
	case o.VisibilityTimeout < 0:
		return nil, invalidOption("VisibilityTimeout %v is negative", o.VisibilityTimeout)
	case info.MaxVisibility > 0 && o.VisibilityTimeout > info.MaxVisibility:
		return nil, invalidOption("VisibilityTimeout %v is above the receiver's limit of %v", o.VisibilityTimeout, info.MaxVisibility)
	case o.Retry.MaxAttempts < 0:
		return nil, invalidOption("Retry.MaxAttempts %d is negative", o.Retry.MaxAttempts)
	case o.Retry.MaxAttempts > 0 && o.Retry.DeadLetter == nil:
		return nil, invalidOption("Retry.MaxAttempts needs a Retry.DeadLetter sender")
	case o.Retry.Permanent < DeadLetterPermanent || o.Retry.Permanent > RetryPermanent:
		return nil, invalidOption("Retry.Permanent %d is not a PermanentAction", o.Retry.Permanent)
	case o.Acks.Threshold < 0:
		return nil, invalidOption("Acks.Threshold %d is negative", o.Acks.Threshold)
	case o.Acks.Timeout < 0:
		return nil, invalidOption("Acks.Timeout %v is negative", o.Acks.Timeout)
	}
	if c.concurrency == 0 {
		c.concurrency = defaultConcurrency
	}
	if c.maxBatch <= 0 {
		c.maxBatch = defaultMaxBatch
	}
	if c.maxMessages == 0 {
		c.maxMessages = c.maxBatch
	}
	if c.maxMessages > c.maxBatch {
		return nil, invalidOption("BatchSize %d is above the receiver's batch limit of %d", c.maxMessages, c.maxBatch)
	}
	if c.wait == 0 {
		c.wait = defaultWaitTime
		if info.MaxWaitTime > 0 {
			c.wait = min(c.wait, info.MaxWaitTime) // the receiver cannot wait as long
		}
	}
	if c.vt == 0 {
		c.vt = info.VisibilityTimeout
	}
	if c.vt == 0 {
		c.vt = assumedVisibility
	}
	if c.backoff == nil {
		c.backoff = backoff.Exponential{}
	}
	if c.drain == 0 {
		c.drain = defaultShutdownTimeout
	}
	if c.settleTimeout == 0 {
		c.settleTimeout = defaultSettleTimeout
	}
	if c.dlq != nil {
		c.dlqFIFO = c.fifo
		if d, ok := c.dlq.(queue.Describer); ok {
			c.dlqFIFO = d.Describe().FIFO
		}
	}

	threshold := o.Acks.Threshold
	if threshold == 0 {
		threshold = c.maxBatch
	}
	if threshold > c.maxBatch {
		return nil, invalidOption("Acks.Threshold %d is above the receiver's batch limit of %d", threshold, c.maxBatch)
	}
	interval := o.Acks.Interval
	if interval > 0 && interval >= c.vt/2 {
		return nil, invalidOption("Acks.Interval %v must be less than half the visibility timeout (%v)", interval, c.vt)
	}
	if interval == 0 {
		interval = defaultAckInterval
		if c.fifo {
			interval = -1
		}
	}
	c.acks = newAcker(c, threshold, interval)

	if ext, ok := r.(queue.Extender); ok && o.Heartbeat >= 0 {
		c.hb = newHeartbeat(c, ext, o.Heartbeat)
	}
	return c, nil
}

// Run receives and handles messages until ctx is cancelled, then shuts
// down gracefully: it cancels the long poll in progress, gives back with
// no delay the messages it holds whose handler has not started, waits for
// running handlers (up to DrainTimeout, after which their context is
// cancelled), settles their messages and flushes the pending acks. It
// returns nil after a shutdown caused by ctx.
//
// A receive error is reported to Hooks.PollError and retried with backoff,
// except one matching postroom.ErrClosed or postroom.ErrInvalid, which will not go away: Run
// then shuts down the same way and returns it.
//
// Run may be called once.
func (c *Consumer) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return e.New(postroom.ErrInvalid, "run", "Run was called twice")
	}
	c.sem = make(chan int32, c.concurrency)
	for i := range c.concurrency {
		c.sem <- int32(i)
	}
	c.units = make(chan unit, c.concurrency)
	c.groups = make(map[string]*groupRun)
	c.base = context.WithoutCancel(ctx)
	workCtx, cancelWork := context.WithCancel(c.base)
	defer cancelWork()
	c.workCtx = workCtx

	var bg sync.WaitGroup
	pollDone := make(chan struct{})
	workersDone := make(chan struct{})
	// The shutdown watcher starts the drain timer when ctx ends, even
	// while Run itself is busy in a handler it runs on the poller.
	bg.Go(func() { c.watchShutdown(ctx, pollDone, workersDone, cancelWork) })
	stopAcks, acksStopped := make(chan struct{}), make(chan struct{})
	bg.Go(func() {
		defer close(acksStopped)
		c.acks.run(stopAcks)
	})
	stopHB := make(chan struct{})
	if c.hb != nil {
		c.hb.tick()
		bg.Go(func() { c.hb.run(stopHB) })
	}

	// A pool of workers, one per slot, runs the handlers; with one slot
	// the poller runs them itself.
	if c.concurrency > 1 {
		for range c.concurrency {
			c.workers.Add(1)
			go c.worker()
		}
	}

	err := c.poll(ctx)

	// Shut down: no handler starts from now on; wait for the running
	// ones, which the watcher cancels when the drain timeout passes.
	c.stopping.Store(true)
	close(pollDone)
	close(c.units)
	c.workers.Wait()
	close(workersDone)
	close(stopAcks)
	<-acksStopped // no more interval flushes
	c.acks.stop() // flush what is left
	close(stopHB)
	bg.Wait()
	c.releaseSettleContexts()
	return err
}

// watchShutdown waits for ctx to end (or the polling to stop), then gives
// handlers the drain timeout to finish before cancelling their context.
func (c *Consumer) watchShutdown(ctx context.Context, pollDone, workersDone <-chan struct{}, cancelWork context.CancelFunc) {
	select {
	case <-ctx.Done():
	case <-pollDone:
	}
	c.stopping.Store(true)
	if c.drain < 0 {
		cancelWork()
		return
	}
	t := time.NewTimer(c.drain)
	defer t.Stop()
	select {
	case <-t.C:
		cancelWork()
	case <-workersDone:
	}
}
