package queue

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postroom/postroom"
)

// A Handler handles one delivered message. Returning nil acks (deletes)
// the message. Returning an error gives it back to the queue to be
// delivered again after a backoff delay, or moves it to the dead-letter
// sender when the error matches [ErrPermanent] or the attempts ran out (see
// [ConsumerOptions]).
//
// The context is cancelled when the handler's timeout passes, or when the
// consumer is shutting down and its drain timeout passed. It carries the
// values of the context given to [Consumer.Run].
type Handler func(ctx context.Context, d *Delivery) error

// A Middleware wraps a [Handler] in another, to add behaviour around every
// message: tracing ([TraceMiddleware]), logging, metrics, deduplication.
type Middleware func(Handler) Handler

// Chain wraps h in mw. The first middleware is the outermost: it sees the
// message first and the result last, as with net/http middleware.
func Chain(h Handler, mw ...Middleware) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// A BatchHandler handles the messages of one receive together: the shape of
// an AWS Lambda SQS handler that reports batch item failures.
//
// It returns nil when every message succeeded, and a [*postroom.BatchError]
// index-aligned with ds (see [NewBatchError]) when some failed: the
// messages whose entry is nil are acked, the others are retried or
// dead-lettered one by one as a [Handler]'s would be. Any other error, and
// a *postroom.BatchError of the wrong length, fails the whole batch.
//
// On a FIFO queue, every message that follows a failed one of the same
// group in ds counts as not handled: it is given back with no delay, so
// that the group is delivered again in order.
type BatchHandler func(ctx context.Context, ds []*Delivery) error

// Defaults of [ConsumerOptions].
const (
	DefaultConcurrency   = 10
	DefaultWaitTime      = 20 * time.Second
	DefaultAckInterval   = time.Second
	DefaultDrainTimeout  = 30 * time.Second
	DefaultSettleTimeout = 30 * time.Second

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

// ConsumerOptions configure a [Consumer]. The zero value works: ten
// messages at a time, 20-second long polls, acks batched by ten or every
// second, exponential retry delays from 1 s to 5 minutes with full jitter,
// a heartbeat when the receiver is an [Extender], and 30 seconds for
// handlers to finish at shutdown.
type ConsumerOptions struct {
	// Concurrency is the most messages the consumer holds at once,
	// received and not yet settled by their handler. The consumer
	// receives only as many messages as it has free slots, so a slow
	// handler slows the polling down instead of letting received messages
	// wait in a buffer while their visibility timeout runs. 0 means
	// DefaultConcurrency.
	Concurrency int

	// MaxMessages caps one receive: 1 to the receiver's batch limit
	// (Info.MaxBatch; 10 when the receiver is not a Describer). 0 means
	// the limit.
	MaxMessages int

	// WaitTime is the long-poll wait of each receive. 0 means
	// DefaultWaitTime (20 s, the most SQS allows).
	WaitTime time.Duration

	// VisibilityTimeout is asked of each receive. 0 uses the queue's
	// (Info.VisibilityTimeout; 30 s is assumed when the receiver is not a
	// Describer).
	VisibilityTimeout time.Duration

	// HeartbeatInterval is how often the heartbeat looks for in-flight
	// messages whose visibility timeout is about to pass, when the
	// receiver is an [Extender]. A message is extended by the visibility
	// timeout once less than a third of it remains (or less than two
	// intervals), until Info.MaxVisibility after its receive. 0 means a
	// sixth of the visibility timeout; negative disables the heartbeat.
	HeartbeatInterval time.Duration

	// Timeout bounds each handler call through its context. 0 means no
	// timeout: the heartbeat keeps long handlers' messages in flight.
	Timeout time.Duration

	// Backoff gives the delay before a failed message is delivered again,
	// from its receive count (attempt 1 is the retry after the first
	// receive). nil means Backoff{}: 1 s doubling to 5 minutes, full
	// jitter. A negative delay leaves the message in flight, to come back
	// when its visibility timeout passes (a "lazy" nack); the delay is cut
	// short so that the message does not stay in flight beyond
	// Info.MaxVisibility.
	Backoff BackoffPolicy

	// MaxAttempts, when positive, moves a message whose handler failed on
	// its MaxAttempts-th receive to DeadLetter (send, then ack), for
	// transports without a redrive policy of their own. A message received
	// more often than that (its earlier consumers crashed or timed out) is
	// dead-lettered without running the handler, with ErrExhausted. It
	// requires DeadLetter, and a receiver that reports
	// Delivery.ReceiveCount. 0 leaves retries to the queue's own redrive
	// policy.
	MaxAttempts int

	// DeadLetter receives the messages that exhausted MaxAttempts and
	// those whose handler failed with an error matching ErrPermanent, with
	// their body, attributes and group id (and, when DeadLetter is a FIFO
	// queue, their id as the deduplication id). Without it, a permanent
	// failure is retried like any other so that the queue's redrive
	// policy dead-letters it: it is never dropped, unless DropPermanent.
	DeadLetter Sender

	// DropPermanent acks (drops) a message whose handler failed with an
	// error matching ErrPermanent when there is no DeadLetter. It is
	// reported to Hooks.Failed first.
	DropPermanent bool

	// FIFO handles the messages of one group (Message.GroupID) one at a
	// time in the order received, and different groups in parallel; when
	// a message fails, the group's messages the consumer holds behind it
	// are given back with no delay, not handled. It is on when the
	// receiver describes itself as FIFO.
	FIFO bool

	// AckThreshold is how many handled messages make an ack batch: 1 to
	// the batch limit; 0 means the limit.
	AckThreshold int

	// AckInterval is the longest a handled message waits for its batch to
	// fill before it is acked. 0 means DefaultAckInterval (1 s) on a
	// standard queue and immediate acks on a FIFO queue (a group stays
	// locked until its message is deleted); negative means immediate
	// acks, batched only with the messages handled while an ack call is
	// in progress. Acks are flushed at shutdown.
	AckInterval time.Duration

	// DrainTimeout is how long Run waits, once its context is cancelled,
	// for running handlers to finish; then their context is cancelled and
	// Run waits for them to return. 0 means DefaultDrainTimeout; negative
	// cancels them at once.
	DrainTimeout time.Duration

	// PollBackoff gives the pause after consecutive failed receives. nil
	// means 1 s doubling to 30 s, with equal jitter.
	PollBackoff BackoffPolicy

	// SettleTimeout bounds each call the consumer makes besides Receive:
	// Ack, Nack, Extend and the dead-letter Send. 0 means
	// DefaultSettleTimeout.
	SettleTimeout time.Duration

	// Middleware wraps the handler; the first is the outermost (see
	// [Chain]). It does not apply to a [BatchHandler].
	Middleware []Middleware

	// Hooks observe the consumer, for metrics and logs.
	Hooks Hooks
}

// A Consumer receives messages from a [Receiver] with long polls and runs a
// handler on them, several at a time: it acks what succeeds, retries what
// fails with backoff, keeps long-running messages in flight, and stops
// gracefully. Create one with [NewConsumer] or [NewBatchConsumer] and call
// Run. It works on any Receiver, a queue or a pub/sub subscription, and
// uses the optional [Extender] and [Describer] when the receiver has them.
//
// # Concurrency and back-pressure
//
// The consumer holds at most Concurrency messages at once, from their
// receive until their handler returned and they were settled. One receive
// is in progress at a time, and it asks only for the free slots (at most
// MaxMessages), so messages never wait in a buffer while their visibility
// timeout runs. With Concurrency 1, the handler runs on the goroutine that
// calls Run.
//
// # Acknowledgement and retry
//
// A handler that returns nil has its message acked (deleted). Acks are
// batched: a call is made when AckThreshold messages are waiting or
// AckInterval has passed, and at shutdown. A failed ack is reported to
// Hooks.AckFailed and retried, except for a stale receipt (the message
// comes back, so it is handled again: handlers must be idempotent).
//
// A handler that returns an error, panics or runs past Timeout has its
// message nacked with the delay Backoff gives for its receive count, so the
// queue delivers it again later. The queue's redrive policy, or
// MaxAttempts with a DeadLetter sender, ends the retries. An error that
// matches [ErrPermanent] is not retried: see DeadLetter and DropPermanent.
//
// # Visibility heartbeat
//
// When the receiver is an [Extender], one goroutine extends the visibility
// of every held message close to expiry, in batches, so that a handler can
// run longer than the visibility timeout; it stops at the receiver's
// Info.MaxVisibility (12 hours on SQS) and on stale receipts. A message is
// watched until its handler's outcome is settled: one waiting for its ack
// batch is not extended, so AckInterval must stay well below the
// visibility timeout (the default 1 s against SQS's default 30 s).
//
// # FIFO
//
// On a FIFO queue (or with the FIFO option) the messages of one group are
// handled one at a time in order, and groups in parallel. When a message
// fails, the messages of its group that the consumer holds are given back
// with no delay instead of being handled, so the queue delivers the group
// again in order.
//
// # Shutdown
//
// See [Consumer.Run].
type Consumer struct {
	r   Receiver
	h   Handler      // with middleware; nil for a batch consumer
	bh  BatchHandler // nil for a per-message consumer
	dlq Sender

	concurrency   int
	maxMessages   int
	maxBatch      int
	wait          time.Duration
	recvVT        time.Duration // asked of Receive; 0 for the queue's
	vt            time.Duration // the visibility timeout in force
	maxVis        time.Duration
	timeout       time.Duration
	backoff       BackoffPolicy
	pollBackoff   BackoffPolicy
	maxAttempts   int
	dlqFIFO       bool
	dropPermanent bool
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

// NewConsumer returns a consumer that runs h, wrapped in opts.Middleware,
// on every message r delivers. It returns an error matching postroom.ErrInvalid for
// a bad option.
func NewConsumer(r Receiver, h Handler, opts ConsumerOptions) (*Consumer, error) {
	if h == nil {
		return nil, invalidOption("the handler is nil")
	}
	c, err := newConsumer(r, opts)
	if err != nil {
		return nil, err
	}
	c.h = Chain(h, opts.Middleware...)
	c.inlineOnly = c.concurrency == 1
	return c, nil
}

// NewBatchConsumer returns a consumer that runs h on the messages of each
// receive together. Concurrency still counts messages: a receive asks for
// at most as many messages as there are free slots, so Concurrency should
// be at least MaxMessages for full batches. It returns an error matching
// postroom.ErrInvalid for a bad option.
func NewBatchConsumer(r Receiver, h BatchHandler, opts ConsumerOptions) (*Consumer, error) {
	if h == nil {
		return nil, invalidOption("the batch handler is nil")
	}
	if len(opts.Middleware) > 0 {
		return nil, invalidOption("Middleware does not apply to a batch handler")
	}
	c, err := newConsumer(r, opts)
	if err != nil {
		return nil, err
	}
	c.bh = h
	return c, nil
}

func invalidOption(msg string) error {
	return &postroom.Error{Pkg: "queue", Op: "new consumer", Message: msg, Err: postroom.ErrInvalid}
}

func newConsumer(r Receiver, o ConsumerOptions) (*Consumer, error) {
	if r == nil {
		return nil, invalidOption("the receiver is nil")
	}
	var info Info
	if d, ok := r.(Describer); ok {
		info = d.Describe()
	}
	c := &Consumer{
		r:             r,
		dlq:           o.DeadLetter,
		concurrency:   o.Concurrency,
		maxMessages:   o.MaxMessages,
		maxBatch:      info.MaxBatch,
		wait:          o.WaitTime,
		recvVT:        o.VisibilityTimeout,
		vt:            o.VisibilityTimeout,
		maxVis:        info.MaxVisibility,
		timeout:       o.Timeout,
		backoff:       o.Backoff,
		pollBackoff:   o.PollBackoff,
		maxAttempts:   o.MaxAttempts,
		dropPermanent: o.DropPermanent,
		fifo:          o.FIFO || info.FIFO,
		drain:         o.DrainTimeout,
		settleTimeout: o.SettleTimeout,
		hooks:         o.Hooks,
	}
	switch {
	case o.Concurrency < 0:
		return nil, invalidOption("Concurrency is negative")
	case o.MaxMessages < 0:
		return nil, invalidOption("MaxMessages is negative")
	case o.WaitTime < 0:
		return nil, invalidOption("WaitTime is negative")
	case o.VisibilityTimeout < 0:
		return nil, invalidOption("VisibilityTimeout is negative")
	case o.Timeout < 0:
		return nil, invalidOption("Timeout is negative")
	case o.MaxAttempts < 0:
		return nil, invalidOption("MaxAttempts is negative")
	case o.MaxAttempts > 0 && o.DeadLetter == nil:
		return nil, invalidOption("MaxAttempts needs a DeadLetter sender")
	case o.AckThreshold < 0:
		return nil, invalidOption("AckThreshold is negative")
	case o.SettleTimeout < 0:
		return nil, invalidOption("SettleTimeout is negative")
	}
	if c.concurrency == 0 {
		c.concurrency = DefaultConcurrency
	}
	if c.maxBatch <= 0 {
		c.maxBatch = defaultMaxBatch
	}
	if c.maxMessages == 0 {
		c.maxMessages = c.maxBatch
	}
	if c.maxMessages > c.maxBatch {
		return nil, invalidOption("MaxMessages is above the receiver's batch limit")
	}
	if c.wait == 0 {
		c.wait = DefaultWaitTime
	}
	if c.vt == 0 {
		c.vt = info.VisibilityTimeout
	}
	if c.vt == 0 {
		c.vt = assumedVisibility
	}
	if c.backoff == nil {
		c.backoff = Backoff{}
	}
	if c.pollBackoff == nil {
		c.pollBackoff = Backoff{Initial: time.Second, Max: 30 * time.Second, Jitter: EqualJitter}
	}
	if c.drain == 0 {
		c.drain = DefaultDrainTimeout
	}
	if c.settleTimeout == 0 {
		c.settleTimeout = DefaultSettleTimeout
	}
	if c.dlq != nil {
		c.dlqFIFO = c.fifo
		if d, ok := c.dlq.(Describer); ok {
			c.dlqFIFO = d.Describe().FIFO
		}
	}

	threshold := o.AckThreshold
	if threshold == 0 {
		threshold = c.maxBatch
	}
	if threshold > c.maxBatch {
		return nil, invalidOption("AckThreshold is above the receiver's batch limit")
	}
	interval := o.AckInterval
	if interval > 0 && interval >= c.vt/2 {
		return nil, invalidOption("AckInterval must be less than half the visibility timeout")
	}
	if interval == 0 {
		interval = DefaultAckInterval
		if c.fifo {
			interval = -1
		}
	}
	c.acks = newAcker(c, threshold, interval)

	if ext, ok := r.(Extender); ok && o.HeartbeatInterval >= 0 {
		c.hb = newHeartbeat(c, ext, o.HeartbeatInterval)
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
		return &postroom.Error{Pkg: "queue", Op: "consumer run", Message: "Run was called twice", Err: postroom.ErrInvalid}
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
