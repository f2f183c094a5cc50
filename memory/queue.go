package memory

import (
	"container/heap"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/queue"
)

// SQS's limits and defaults, which QueueOptions default to.
const (
	defaultVisibilityTimeout = 30 * time.Second
	maxVisibilityTimeout     = 12 * time.Hour
	defaultRetention         = 4 * 24 * time.Hour
	minRetention             = time.Minute
	maxRetention             = 14 * 24 * time.Hour
	maxDelay                 = 15 * time.Minute
	maxWaitTime              = 20 * time.Second
	defaultMaxMessageSize    = 1 << 20 // 1 MiB
	minMaxMessageSize        = 1024
	maxBatch                 = 10
	deduplicationWindow      = 5 * time.Minute
	purgeInterval            = 60 * time.Second
)

// DedupScope is the deduplication scope of a FIFO queue, spelled as SQS's
// DeduplicationScope attribute.
type DedupScope string

// Deduplication scopes of FIFO queues.
const (
	DedupScopeQueue        DedupScope = "queue"
	DedupScopeMessageGroup DedupScope = "messageGroup"
)

// QueueOptions configure a memory queue, with SQS's names and defaults. The
// zero value is a standard queue with SQS's defaults.
type QueueOptions struct {
	// FIFO makes a FIFO queue; its name must end in ".fifo". A name that
	// ends in ".fifo" makes a FIFO queue without it.
	FIFO bool
	// VisibilityTimeout is how long a received message stays invisible:
	// 0 (meaning 30 s) to 12 h.
	VisibilityTimeout time.Duration
	// Delay postpones every new message: 0 to 15 minutes.
	Delay time.Duration
	// Retention is how long a message is kept from its first enqueue:
	// 1 minute to 14 days; 0 means 4 days.
	Retention time.Duration
	// ReceiveWaitTime is the default long-poll wait of Receive: 0 to 20 s.
	ReceiveWaitTime time.Duration
	// MaxMessageSize caps a message (body, attribute names, types and
	// values): 1 KiB to 1 MiB; 0 means 1 MiB. Pin 256 KiB to test what
	// older SQS queues accept.
	MaxMessageSize int
	// MaxBatchSize caps the sum of a Send call's messages; 0 means 1 MiB.
	MaxBatchSize int
	// ContentBasedDeduplication deduplicates FIFO messages without a
	// DeduplicationID by the SHA-256 of their body.
	ContentBasedDeduplication bool
	// DeduplicationScope is DedupScopeQueue (the default) or
	// DedupScopeMessageGroup.
	DeduplicationScope DedupScope
	// RedrivePolicy moves a message to a dead-letter queue once it has
	// been received more than MaxReceiveCount times.
	RedrivePolicy *RedrivePolicy
}

// RedrivePolicy is an SQS redrive policy.
type RedrivePolicy struct {
	// DeadLetterQueue receives the messages; it must be of the same kind
	// (standard or FIFO) as the source queue.
	DeadLetterQueue *Queue
	// DeadLetterQueueARN names the dead-letter queue by ARN instead
	// (SQS's deadLetterTargetArn): a queue of the same world, which must
	// exist when the source queue is made. DeadLetterQueue wins when both
	// are set.
	DeadLetterQueueARN string
	// MaxReceiveCount is 1 to 1,000.
	MaxReceiveCount int
}

// Queue is an in-memory queue with the semantics of Amazon SQS. Create one
// with NewQueue; it is safe for concurrent use.
type Queue struct {
	name  string
	arn   string
	url   string
	world *World
	token string // prefix of receipts, unique to this queue
	fifo  bool

	// opts holds the queue's options, replaced whole by SetOptions: read
	// without q.mu by Send and Receive before they take it.
	opts atomic.Pointer[QueueOptions]

	mu        sync.Mutex // guards everything below
	closed    bool
	msgs      map[uint64]*message // every message not deleted
	ready     ring                // standard: visible messages, in order
	groups    map[string]*group   // FIFO: messages by group
	readyG    groupHeap           // FIFO: unlocked groups with a visible head
	pending   msgHeap             // delayed and in-flight messages, by visibleAt
	inFlight  int
	delayed   int
	dedup     map[string]dedupEntry // FIFO: deduplication key → the message sent with it
	attempts  map[string]*attempt   // FIFO: receives by ReceiveRequestAttemptId
	lastPurge time.Time
	seq       uint64
	waiters   int
	wake      chan struct{} // closed and replaced when messages may be available
}

var queueSerial atomic.Uint64

// NewQueue returns a new queue in a new world of its own (see World). Its
// name follows SQS's rules: 1 to 80 characters from [A-Za-z0-9_-], with
// ".fifo" at the end of a FIFO queue's.
func NewQueue(name string, opts QueueOptions) (*Queue, error) {
	return NewWorld(WorldOptions{}).NewQueue(name, opts)
}

// newQueue makes a queue of w without adding it to w.
func newQueue(w *World, name string, opts QueueOptions) (*Queue, error) {
	fifo := opts.FIFO || strings.HasSuffix(name, ".fifo")
	base := name
	if fifo {
		if !strings.HasSuffix(name, ".fifo") {
			return nil, validate.Invalid("memory", "create", "InvalidParameterValue",
				"The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
		}
		base = strings.TrimSuffix(name, ".fifo")
	}
	if !validate.Name(base, 80-len(name)+len(base)) {
		return nil, validate.Invalid("memory", "create", "InvalidParameterValue",
			"Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if err := checkOptions(&opts, fifo); err != nil {
		return nil, err
	}
	q := &Queue{
		name:  name,
		arn:   w.sqsARN(name),
		url:   w.queueURLBase + "/" + w.account + "/" + name,
		world: w,
		token: fmt.Sprintf("%x", queueSerial.Add(1)),
		fifo:  fifo,
		msgs:  make(map[uint64]*message),
		wake:  make(chan struct{}),
	}
	q.opts.Store(&opts)
	if fifo {
		q.groups = make(map[string]*group)
		q.dedup = make(map[string]dedupEntry)
	}
	return q, nil
}

func checkOptions(o *QueueOptions, fifo bool) error {
	bad := func(attr string, v any) error {
		return &postroom.Error{Pkg: "memory", Op: "create", Code: "InvalidAttributeValue",
			Message: fmt.Sprintf("Invalid value for the parameter %s.", attr), Kind: postroom.ErrInvalid}
	}
	if o.VisibilityTimeout == 0 {
		o.VisibilityTimeout = defaultVisibilityTimeout
	}
	if o.VisibilityTimeout < 0 || o.VisibilityTimeout > maxVisibilityTimeout {
		return bad("VisibilityTimeout", o.VisibilityTimeout)
	}
	if o.Delay < 0 || o.Delay > maxDelay {
		return bad("DelaySeconds", o.Delay)
	}
	if o.Retention == 0 {
		o.Retention = defaultRetention
	}
	if o.Retention < minRetention || o.Retention > maxRetention {
		return bad("MessageRetentionPeriod", o.Retention)
	}
	if o.ReceiveWaitTime < 0 || o.ReceiveWaitTime > maxWaitTime {
		return bad("ReceiveMessageWaitTimeSeconds", o.ReceiveWaitTime)
	}
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = defaultMaxMessageSize
	}
	if o.MaxMessageSize < minMaxMessageSize || o.MaxMessageSize > defaultMaxMessageSize {
		return bad("MaximumMessageSize", o.MaxMessageSize)
	}
	if o.MaxBatchSize == 0 {
		o.MaxBatchSize = defaultMaxMessageSize
	}
	if o.MaxBatchSize < 0 {
		return bad("MaxBatchSize", o.MaxBatchSize)
	}
	if !fifo && (o.ContentBasedDeduplication || o.DeduplicationScope != "") {
		return &postroom.Error{Pkg: "memory", Op: "create", Code: "InvalidAttributeName",
			Message: "You can specify the DeduplicationScope or ContentBasedDeduplication only when FifoQueue is set to true.", Kind: postroom.ErrInvalid}
	}
	switch o.DeduplicationScope {
	case "":
		if fifo {
			o.DeduplicationScope = DedupScopeQueue
		}
	case DedupScopeQueue, DedupScopeMessageGroup:
	default:
		return bad("DeduplicationScope", o.DeduplicationScope)
	}
	if rp := o.RedrivePolicy; rp != nil {
		switch {
		case rp.DeadLetterQueue == nil:
			return &postroom.Error{Pkg: "memory", Op: "create", Code: "InvalidParameterValue",
				Message: "Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.", Kind: postroom.ErrInvalid}
		case rp.MaxReceiveCount < 1 || rp.MaxReceiveCount > 1000:
			return &postroom.Error{Pkg: "memory", Op: "create", Code: "InvalidParameterValue",
				Message: "Value " + fmt.Sprint(rp.MaxReceiveCount) + " for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: " + fmt.Sprint(rp.MaxReceiveCount) + ", valid values are from 1 to 1000 both inclusive.",
				Kind:    postroom.ErrInvalid}
		case rp.DeadLetterQueue.fifo != fifo:
			return &postroom.Error{Pkg: "memory", Op: "create", Code: "InvalidParameterValue",
				Message: "Value for parameter RedrivePolicy is invalid. Reason: Dead-letter target must be of the same type (standard or FIFO) as the source queue.",
				Kind:    postroom.ErrInvalid}
		}
	}
	return nil
}

// options returns the queue's options, which the caller must not change.
func (q *Queue) options() *QueueOptions { return q.opts.Load() }

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// ARN returns the queue's ARN, in its world's account and region.
func (q *Queue) ARN() string { return q.arn }

// URL returns the queue's URL: the one it would have on AWS, in its
// world's account and region, or under the world's QueueURLBase.
func (q *Queue) URL() string { return q.url }

// World returns the world the queue belongs to.
func (q *Queue) World() *World { return q.world }

// Describe reports the queue's kind and limits.
func (q *Queue) Describe() queue.Info {
	return queue.Info{
		Name:              q.name,
		FIFO:              q.fifo,
		VisibilityTimeout: q.options().VisibilityTimeout,
		MaxBatch:          maxBatch,
		MaxVisibility:     maxVisibilityTimeout,
		MaxWaitTime:       maxWaitTime,
	}
}

// Close closes the queue: pending long polls and every later call return an
// error matching postroom.ErrClosed. Its world forgets it: a later
// NewQueue or Open of its name makes a new queue.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.wake)
	}
	return nil
}

// Stats returns the numbers of visible, in-flight and delayed messages.
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return queue.Stats{}, errClosed("stats")
	}
	now := time.Now()
	q.advance(now)
	q.expire(now)
	st := queue.Stats{
		Visible:  len(q.msgs) - q.inFlight - q.delayed,
		InFlight: q.inFlight,
		Delayed:  q.delayed,
	}
	var oldest time.Time
	for _, m := range q.msgs {
		if oldest.IsZero() || m.enqueuedAt.Before(oldest) {
			oldest = m.enqueuedAt
		}
	}
	if !oldest.IsZero() {
		st.OldestAge = now.Sub(oldest)
	}
	return st, nil
}

// Purge deletes every message, in flight or not. A second purge within 60
// seconds fails with an error matching postroom.ErrPurgeInProgress, as on SQS.
func (q *Queue) Purge(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errClosed("purge")
	}
	now := time.Now()
	if !q.lastPurge.IsZero() && now.Sub(q.lastPurge) < purgeInterval {
		return &postroom.Error{Pkg: "memory", Op: "purge", Code: "AWS.SimpleQueueService.PurgeQueueInProgress",
			Message: "Only one PurgeQueue operation on " + q.name + " is allowed every 60 seconds.",
			Kind:    postroom.ErrPurgeInProgress}
	}
	q.lastPurge = now
	clear(q.msgs)
	q.ready = ring{}
	q.pending = nil
	q.readyG = nil
	q.attempts = nil
	if q.fifo {
		clear(q.groups)
	}
	q.inFlight, q.delayed = 0, 0
	return nil
}

func errClosed(op string) error {
	return &postroom.Error{Pkg: "memory", Op: op, Kind: postroom.ErrClosed}
}

// broadcast wakes every waiting Receive. Callers hold q.mu.
func (q *Queue) broadcast() {
	if q.waiters > 0 && !q.closed {
		close(q.wake)
		q.wake = make(chan struct{})
	}
}

// advance makes visible every pending message whose time has come. Callers
// hold q.mu.
func (q *Queue) advance(now time.Time) {
	for len(q.pending) > 0 && !q.pending[0].visibleAt.After(now) {
		m := heap.Pop(&q.pending).(*message)
		q.makeVisible(m)
	}
}

// makeVisible moves a message that left q.pending to where receives find
// it. Callers hold q.mu.
func (q *Queue) makeVisible(m *message) {
	q.leavePending(m)
	if q.fifo {
		q.maybeReady(m.group)
	} else {
		q.ready.push(m)
	}
}

// leavePending updates the counts for a message that left q.pending.
// Callers hold q.mu.
func (q *Queue) leavePending(m *message) {
	if !m.inFlight {
		q.delayed--
		return
	}
	m.inFlight = false
	q.inFlight--
	if m.group != nil {
		m.group.inFlight--
	}
}

// expire deletes messages past their retention period. Callers hold q.mu.
func (q *Queue) expire(now time.Time) {
	for _, m := range q.msgs {
		if q.expired(m, now) {
			q.remove(m)
		}
	}
}

func (q *Queue) expired(m *message, now time.Time) bool {
	return now.Sub(m.enqueuedAt) >= q.options().Retention
}

// remove deletes a message from every structure. Callers hold q.mu.
func (q *Queue) remove(m *message) {
	if m.deleted {
		return
	}
	m.deleted = true
	delete(q.msgs, m.serial)
	if m.index >= 0 {
		heap.Remove(&q.pending, m.index)
		q.leavePending(m)
	}
	if m.group != nil {
		g := m.group
		g.remove(m)
		if len(g.msgs) == 0 && g.inFlight == 0 {
			if g.index >= 0 {
				heap.Remove(&q.readyG, g.index)
			}
			delete(q.groups, g.id)
		} else {
			q.maybeReady(g)
		}
	}
	// Standard queues drop deleted messages from q.ready lazily.
}

// maybeReady puts g in q.readyG when it is unlocked and its first message
// is visible. Callers hold q.mu.
func (q *Queue) maybeReady(g *group) {
	if g.inFlight > 0 || len(g.msgs) == 0 || g.msgs[0].index >= 0 { // locked, empty or delayed
		if g.index >= 0 {
			heap.Remove(&q.readyG, g.index)
		}
		return
	}
	if g.index >= 0 {
		heap.Fix(&q.readyG, g.index)
		return
	}
	heap.Push(&q.readyG, g)
}
