package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/postroom/postroom/backoff"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus/pattern"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// SubscriptionOptions configure a subscription of a memory topic: the
// options of pubsub.SubscribeOptions (FilterPolicy, FilterPolicyScope,
// RawDelivery; Name is for Topic.Subscribe only and is not used by
// SubscribeQueue, SubscribeQueueARN and SubscribeFunc) and SNS's
// dead-letter queue and retries.
type SubscriptionOptions struct {
	pubsub.SubscribeOptions
	// DeadLetter receives messages that could not be delivered (SNS's
	// subscription redrive policy): a function that kept failing, a raw
	// delivery with more than 10 attributes, a closed or missing queue.
	// Nil drops them.
	DeadLetter queue.Sender
	// Retry is how a function subscription retries a failed invocation.
	// The zero value retries twice, after 1 and 2 minutes, like an
	// asynchronous Lambda invocation.
	Retry FuncRetry
}

// FuncRetry configures the retries of a function subscription.
type FuncRetry struct {
	// Attempts is how many times the function is called at most; 0 means
	// 3 (two retries).
	Attempts int
	// Backoff gives the wait before each retry; nil means 1 minute, then
	// 2 minutes, then 4, without jitter.
	Backoff backoff.Policy
}

// A Func is a function subscribed to a topic, called with each message as
// SNS calls a Lambda function. An error makes the topic retry it.
type Func func(ctx context.Context, n *Notification) error

// Subscription is a subscription of a memory topic that delivers into a
// memory queue (the SNS → SQS fan-out); its queue.Receiver methods receive
// from that queue.
type Subscription struct{ sub subscription }

// FuncSubscription is a subscription of a memory topic that calls a Go
// function, as SNS invokes a Lambda function.
type FuncSubscription struct{ sub subscription }

// subscription is what both kinds of subscription hold.
type subscription struct {
	topic  *Topic
	arn    string
	queue  *Queue // or nil
	qarn   string // the queue's ARN, resolved in the topic's world at each delivery, or ""
	fn     Func   // or nil
	opts   SubscriptionOptions
	owned  bool   // the queue was made by Subscribe and goes with it
	name   string // of a durable subscription made by Subscribe
	filter atomic.Pointer[pattern.Pattern]
	active atomic.Bool
}

var (
	_ pubsub.Subscription = (*Subscription)(nil)
	_ pubsub.Unsubscriber = (*Subscription)(nil)
	_ pubsub.FilterSetter = (*Subscription)(nil)
	_ pubsub.Unsubscriber = (*FuncSubscription)(nil)
	_ pubsub.FilterSetter = (*FuncSubscription)(nil)
)

// SubscribeQueue subscribes q to the topic: the SNS → SQS fan-out. A
// standard topic cannot deliver to a FIFO queue; a FIFO topic delivers to
// FIFO queues in group order and to standard queues too (without the group
// id), as SNS does.
func (t *Topic) SubscribeQueue(q *Queue, opts SubscriptionOptions) (*Subscription, error) {
	if q == nil {
		return nil, snsInvalid("subscribe", "Invalid parameter: Endpoint")
	}
	if q.fifo && !t.fifo {
		return nil, snsInvalid("subscribe", "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")
	}
	s := &Subscription{sub: subscription{queue: q, opts: opts}}
	return s, t.subscribe(&s.sub)
}

// SubscribeQueueARN subscribes the queue of the topic's world that an SQS
// ARN names. As on SNS, the queue is found by its ARN at each delivery: a
// message published while no such queue exists goes to the subscription's
// dead-letter queue, and a queue deleted and made again receives again.
func (t *Topic) SubscribeQueueARN(arn string, opts SubscriptionOptions) (*Subscription, error) {
	if _, ok := nameFromARN(arn, t.world.sqsARN("")); !ok {
		return nil, snsInvalid("subscribe", "Invalid parameter: SQS endpoint ARN")
	}
	if strings.HasSuffix(arn, ".fifo") && !t.fifo {
		return nil, snsInvalid("subscribe", "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")
	}
	s := &Subscription{sub: subscription{qarn: arn, opts: opts}}
	return s, t.subscribe(&s.sub)
}

// SubscribeFunc subscribes a function, called for every admitted message in
// a goroutine of the topic's, and retried as opts.Retry says. FIFO topics
// deliver only to queues, as on SNS.
func (t *Topic) SubscribeFunc(f Func, opts SubscriptionOptions) (*FuncSubscription, error) {
	if f == nil {
		return nil, snsInvalid("subscribe", "Invalid parameter: Endpoint")
	}
	if t.fifo {
		return nil, snsInvalid("subscribe", "Invalid parameter: Invalid protocol type: lambda. FIFO topics only support SQS subscriptions")
	}
	if opts.Retry.Attempts < 0 {
		return nil, snsInvalid("subscribe", "Invalid parameter: Retry attempts must not be negative")
	}
	s := &FuncSubscription{sub: subscription{fn: f, opts: opts}}
	return s, t.subscribe(&s.sub)
}

// Subscribe makes a subscription into a new memory queue and returns it
// (a *Subscription), ready to receive from. With a Name, the subscription
// is durable: a later Subscribe with that name returns it again, with the
// messages it kept.
func (t *Topic) Subscribe(ctx context.Context, o pubsub.SubscribeOptions) (pubsub.Subscription, error) {
	t.mu.Lock()
	if s, ok := t.named[o.Name]; ok && o.Name != "" {
		t.mu.Unlock()
		if err := s.SetFilterPolicy(ctx, o.FilterPolicy, o.FilterPolicyScope); err != nil {
			return nil, err
		}
		return s, nil
	}
	t.nsubs++
	n := t.nsubs
	t.mu.Unlock()
	name := o.Name
	if name == "" {
		name = fmt.Sprintf("%s-sub-%d", trimFIFO(t.name), n)
	}
	if t.fifo {
		name = trimFIFO(name) + ".fifo"
	}
	q, err := newQueue(t.world, name, QueueOptions{})
	if err != nil {
		return nil, err
	}
	so := o
	so.RawDelivery = o.RawDelivery || t.raw
	s := &Subscription{sub: subscription{queue: q, owned: true, name: o.Name, opts: SubscriptionOptions{SubscribeOptions: so}}}
	if err := t.subscribe(&s.sub); err != nil {
		return nil, err
	}
	if o.Name != "" {
		t.mu.Lock()
		t.named[o.Name] = s
		t.mu.Unlock()
	}
	return s, nil
}

// closeOwnedQueues closes the queues Subscribe made, ending their
// subscriptions' receives.
func (t *Topic) closeOwnedQueues() {
	t.mu.Lock()
	subs := t.subs
	t.mu.Unlock()
	for _, s := range subs {
		if s.owned {
			_ = s.queue.Close()
		}
	}
}

func trimFIFO(name string) string {
	if len(name) > 5 && name[len(name)-5:] == ".fifo" {
		return name[:len(name)-5]
	}
	return name
}

func (t *Topic) subscribe(s *subscription) error {
	s.topic = t
	if err := s.setFilter(s.opts.FilterPolicy, s.opts.FilterPolicyScope); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return &postroom.Error{Pkg: "memory", Op: "subscribe", Kind: postroom.ErrClosed}
	}
	t.nsubs++
	s.arn = fmt.Sprintf("%s:%08x-0000-4000-8000-%012x", t.ARN(), t.nsubs, t.nsubs)
	s.active.Store(true)
	t.subs = append(t.subs[:len(t.subs):len(t.subs)], s) // copy on write
	return nil
}

// ARN returns the subscription's ARN.
func (s *Subscription) ARN() string { return s.sub.arn }

// ARN returns the subscription's ARN.
func (s *FuncSubscription) ARN() string { return s.sub.arn }

// Endpoint returns the ARN of the queue the subscription delivers into.
func (s *Subscription) Endpoint() string {
	if s.sub.qarn != "" {
		return s.sub.qarn
	}
	return s.sub.queue.ARN()
}

// Queue returns the queue the subscription delivers into. A subscription
// made by SubscribeQueueARN returns the queue of its world the ARN names
// now, or nil.
func (s *Subscription) Queue() *Queue { return s.sub.target() }

// target returns the queue a queue subscription delivers into now, or nil.
func (s *subscription) target() *Queue {
	if s.qarn != "" {
		q, _ := s.topic.world.QueueByARN(s.qarn)
		return q
	}
	return s.queue
}

// SetFilterPolicy replaces the subscription's filter policy; an empty
// policy admits every message. The change applies to the next publish (SNS
// takes up to 15 minutes).
func (s *Subscription) SetFilterPolicy(ctx context.Context, policy string, scope pubsub.Scope) error {
	return s.sub.setFilter(policy, scope)
}

// SetFilterPolicy replaces the subscription's filter policy, as
// Subscription.SetFilterPolicy does.
func (s *FuncSubscription) SetFilterPolicy(ctx context.Context, policy string, scope pubsub.Scope) error {
	return s.sub.setFilter(policy, scope)
}

func (s *subscription) setFilter(policy string, scope pubsub.Scope) error {
	if policy == "" {
		s.filter.Store(nil)
		return nil
	}
	var ps pattern.Scope
	switch scope {
	case pubsub.ScopeMessageAttributes:
		ps = pattern.ScopeMessageAttributes
	case pubsub.ScopeMessageBody:
		ps = pattern.ScopeMessageBody
	default:
		return snsInvalid("subscribe", fmt.Sprintf("Invalid parameter: FilterPolicyScope: Invalid value [%d]. Please use either MessageBody or MessageAttributes", int(scope)))
	}
	p, err := pattern.CompileFilterPolicy([]byte(policy), ps)
	if err != nil {
		return &postroom.Error{Pkg: "memory", Op: "subscribe", Code: "InvalidParameter", Message: err.Error(), Kind: postroom.ErrInvalid, Err: err}
	}
	s.filter.Store(p)
	return nil
}

// Unsubscribe removes the subscription from its topic. A queue made by
// Subscribe is closed with it.
func (s *Subscription) Unsubscribe(ctx context.Context) error { return s.sub.unsubscribe() }

// Unsubscribe removes the subscription from its topic; invocations in
// progress and their retries go on.
func (s *FuncSubscription) Unsubscribe(ctx context.Context) error { return s.sub.unsubscribe() }

func (s *subscription) unsubscribe() error {
	t := s.topic
	t.mu.Lock()
	s.active.Store(false)
	subs := make([]*subscription, 0, len(t.subs))
	for _, o := range t.subs {
		if o.arn != s.arn { // SetSubscriptionAttribute may have replaced s
			subs = append(subs, o)
		} else {
			o.active.Store(false)
		}
	}
	t.subs = subs
	if s.name != "" && t.named[s.name] != nil && &t.named[s.name].sub == s {
		delete(t.named, s.name)
	}
	t.mu.Unlock()
	if s.owned {
		return s.queue.Close()
	}
	return nil
}

// Close ends a subscription made by Subscribe without a name. A durable
// (named) one keeps collecting messages: Subscribe with its name attaches
// to it again, and Unsubscribe removes it. For subscriptions made by
// SubscribeQueue or SubscribeQueueARN, Close is Unsubscribe.
func (s *Subscription) Close() error {
	if s.sub.name != "" {
		return nil
	}
	return s.sub.unsubscribe()
}

// Close is Unsubscribe.
func (s *FuncSubscription) Close() error { return s.sub.unsubscribe() }

// receiver returns the queue to receive from, or an error matching
// postroom.ErrNotFound for a subscription by ARN whose queue is gone.
func (s *Subscription) receiver(op string) (*Queue, error) {
	if q := s.sub.target(); q != nil {
		return q, nil
	}
	return nil, errNoQueue(op, s.sub.qarn)
}

// Receive receives from the subscription's queue.
func (s *Subscription) Receive(ctx context.Context, opts queue.ReceiveOptions) ([]*queue.Delivery, error) {
	q, err := s.receiver("receive")
	if err != nil {
		return nil, err
	}
	return q.Receive(ctx, opts)
}

// Ack deletes deliveries from the subscription's queue.
func (s *Subscription) Ack(ctx context.Context, ds ...*queue.Delivery) error {
	q, err := s.receiver("ack")
	if err != nil {
		return err
	}
	return q.Ack(ctx, ds...)
}

// Nack makes deliveries visible again in the subscription's queue after
// delay.
func (s *Subscription) Nack(ctx context.Context, delay time.Duration, ds ...*queue.Delivery) error {
	q, err := s.receiver("nack")
	if err != nil {
		return err
	}
	return q.Nack(ctx, delay, ds...)
}

// Extend extends the visibility of deliveries of the subscription's queue.
func (s *Subscription) Extend(ctx context.Context, timeout time.Duration, ds ...*queue.Delivery) error {
	q, err := s.receiver("extend")
	if err != nil {
		return err
	}
	return q.Extend(ctx, timeout, ds...)
}

// Describe describes the subscription's queue.
func (s *Subscription) Describe() queue.Info {
	if q := s.sub.target(); q != nil {
		return q.Describe()
	}
	return queue.Info{}
}

// admits reports whether the filter policy admits n.
func (s *subscription) admits(n *notification) bool {
	return n.admittedBy(s.filter.Load(), s.opts.FilterPolicyScope)
}

// admittedBy reports whether filter, applied to scope, admits n; a nil
// filter admits every message.
func (n *notification) admittedBy(filter *pattern.Pattern, scope pubsub.Scope) bool {
	if filter == nil {
		return true
	}
	if scope == pubsub.ScopeMessageBody {
		ok, err := filter.Match(n.body)
		return err == nil && ok
	}
	return filter.MatchAttributes(n.patternAttributes())
}

// deliver hands n to the subscription if its filter admits it.
func (s *subscription) deliver(n *notification) {
	if !s.active.Load() || !s.admits(n) {
		return
	}
	if s.fn != nil {
		s.invoke(n)
		return
	}
	q := s.queue
	if s.qarn != "" {
		var err error
		if q, err = s.topic.world.QueueByARN(s.qarn); err != nil {
			s.deadLetter(n, err.Error())
			return
		}
	}
	m := &queue.Message{}
	if s.opts.RawDelivery {
		if len(n.attrs) > 10 {
			s.deadLetter(n, "raw delivery of more than 10 message attributes to SQS")
			return
		}
		m.Body = n.body
		m.Attributes = n.attrs
	} else {
		m.Body = n.envelope(s.arn)
	}
	if q.fifo {
		m.GroupID = n.groupID
		m.DeduplicationID = n.dedupID
	}
	if err := q.deliverFromTopic(m); err != nil {
		s.deadLetter(n, err.Error())
	}
}

// invoke calls a function subscription in a goroutine, retrying failures.
func (s *subscription) invoke(n *notification) {
	t := s.topic
	attempts := s.opts.Retry.Attempts
	if attempts == 0 {
		attempts = 3
	}
	retry := s.opts.Retry.Backoff
	if retry == nil {
		retry = backoff.Exponential{Initial: time.Minute, Max: 15 * time.Minute, Jitter: backoff.NoJitter}
	}
	t.funcs.Add(1)
	go func() {
		defer t.funcs.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var err error
		for attempt := 1; attempt <= attempts; attempt++ {
			if attempt > 1 && !wait(retry.Delay(attempt-1), t.stop) {
				s.deadLetter(n, "topic closed before a retry: "+err.Error())
				return
			}
			if err = s.call(ctx, n); err == nil {
				return
			}
		}
		s.deadLetter(n, fmt.Sprintf("function failed %d times: %v", attempts, err))
	}()
}

// call runs the function once, turning a panic into an error.
func (s *subscription) call(ctx context.Context, n *notification) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("memory: subscribed function panicked: %v", r)
		}
	}()
	return s.fn(ctx, n.public(s.arn))
}

// deadLetter sends an undeliverable message to the subscription's
// dead-letter queue, as SNS does: the body as published, with the message
// attributes, plus why in the attribute "ErrorMessage" when there is room.
func (s *subscription) deadLetter(n *notification, why string) {
	if s.opts.DeadLetter == nil {
		return
	}
	fifo := s.queue != nil && s.queue.fifo || strings.HasSuffix(s.qarn, ".fifo")
	deadLetterTo(s.opts.DeadLetter, n, s.arn, why, fifo)
}

// stringArray reports whether v is a JSON array of strings, numbers,
// booleans or nulls, what SNS takes as a String.Array value.
func stringArray(v string) bool {
	var elems []any
	if err := json.Unmarshal([]byte(v), &elems); err != nil {
		return false
	}
	for _, e := range elems {
		switch e.(type) {
		case string, float64, bool, nil:
		default:
			return false
		}
	}
	return true
}
