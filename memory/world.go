package memory

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/postroom/postroom"
)

// The account and region of a world whose options leave them empty.
const (
	defaultAccountID = "000000000000"
	defaultRegion    = "us-east-1"
)

// WorldOptions configure a World. The zero value is account 000000000000
// in us-east-1.
type WorldOptions struct {
	// AccountID is the 12-digit AWS account the world's ARNs and queue
	// URLs name; "" means "000000000000".
	AccountID string
	// Region is the AWS region the world's ARNs and URLs name; "" means
	// "us-east-1".
	Region string
	// QueueURLBase, when set, replaces "https://sqs.<region>.amazonaws.com"
	// in queue URLs: "http://127.0.0.1:4566" gives
	// "http://127.0.0.1:4566/<account>/<name>".
	QueueURLBase string

	// SNS's deliveries to http/https subscriptions (sns_http.go).

	// HTTPClient posts to http/https subscriptions; nil means a client
	// with SNS's 15-second timeout.
	HTTPClient *http.Client
	// SNSURLBase, when set, replaces "https://sns.<region>.amazonaws.com"
	// in the SigningCertURL, SubscribeURL and UnsubscribeURL of messages
	// to http/https subscriptions: the address of a server that serves
	// World.SNSHandler (as the local endpoint does).
	SNSURLBase string
	// SigningKey signs messages to http/https subscriptions; nil makes an
	// RSA 2048 key at the first one. The certificate is made from it.
	SigningKey *rsa.PrivateKey
}

// World holds the memory queues, topics and buses of one AWS account in
// one region, by name and by ARN. Within a world, a redrive policy, an SNS
// subscription or an EventBridge target can name a queue or topic by its
// ARN. Two worlds share nothing: a test that makes its own world sees only
// what it puts there. A World is safe for concurrent use.
//
// The mem:// URL openers of queue.Open, pubsub.Open and eventbus.Open use
// the world that Default returns; the package-level NewQueue, NewTopic and
// NewBus make each resource in a new world of its own.
type World struct {
	account, region string
	queueURLBase    string        // "https://sqs.<region>.amazonaws.com" or WorldOptions.QueueURLBase
	sns             *snsEndpoints // deliveries to http/https, e-mail and SMS: sns_http.go

	mu     sync.Mutex // guards everything below
	closed bool
	queues map[string]*Queue
	topics map[string]*Topic
	buses  map[string]*Bus
}

// NewWorld returns a new, empty world: no queues or topics, and the
// "default" event bus.
func NewWorld(opts WorldOptions) *World {
	w := &World{
		account: opts.AccountID,
		region:  opts.Region,
		queues:  make(map[string]*Queue),
		topics:  make(map[string]*Topic),
		buses:   make(map[string]*Bus),
	}
	if w.account == "" {
		w.account = defaultAccountID
	}
	if w.region == "" {
		w.region = defaultRegion
	}
	w.queueURLBase = strings.TrimSuffix(opts.QueueURLBase, "/")
	if w.queueURLBase == "" {
		w.queueURLBase = "https://sqs." + w.region + ".amazonaws.com"
	}
	w.sns = newSNSEndpoints(w, opts)
	return w
}

var defaultWorld = sync.OnceValue(func() *World { return NewWorld(WorldOptions{}) })

// Default returns the process's default world, in which the mem:// URL
// openers find and make their queues, topics and buses. Tests that must not
// see each other's resources make their own worlds with NewWorld instead.
func Default() *World { return defaultWorld() }

// AccountID returns the world's AWS account id.
func (w *World) AccountID() string { return w.account }

// Region returns the world's AWS region.
func (w *World) Region() string { return w.region }

// Close closes every queue, topic and bus of the world and removes them;
// later calls that make or open a resource fail with an error matching
// postroom.ErrClosed. Closing Default does that to every mem:// URL of the
// process.
func (w *World) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	queues, topics, buses := w.queues, w.topics, w.buses
	w.queues, w.topics, w.buses = map[string]*Queue{}, map[string]*Topic{}, map[string]*Bus{}
	w.mu.Unlock()
	for _, b := range buses {
		_ = b.Close()
	}
	for _, t := range topics {
		_ = t.Close()
		t.closeOwnedQueues()
	}
	for _, q := range queues {
		_ = q.Close()
	}
	return nil
}

func (w *World) sqsARN(name string) string {
	return "arn:aws:sqs:" + w.region + ":" + w.account + ":" + name
}
func (w *World) snsARN(name string) string {
	return "arn:aws:sns:" + w.region + ":" + w.account + ":" + name
}
func (w *World) busARN(name string) string {
	return "arn:aws:events:" + w.region + ":" + w.account + ":event-bus/" + name
}

// nameFromARN returns the resource name of an ARN of the world with the
// given prefix ("arn:aws:sqs:<region>:<account>:").
func nameFromARN(arn, prefix string) (string, bool) {
	name, ok := strings.CutPrefix(arn, prefix)
	return name, ok && name != ""
}

func errWorldClosed(op string) error {
	return &postroom.Error{Pkg: "memory", Op: op, Message: "world closed", Kind: postroom.ErrClosed}
}

// ---- queues

// NewQueue makes a queue in the world. As SQS's CreateQueue, it returns
// the existing queue of that name when its options are the same, and fails
// with QueueNameExists (matching postroom.ErrExists) when they differ. A
// redrive policy may name its dead-letter queue by ARN; it must exist in
// the world.
func (w *World) NewQueue(name string, opts QueueOptions) (*Queue, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errWorldClosed("create")
	}
	if err := w.resolveRedrive(&opts); err != nil {
		return nil, err
	}
	if q := w.liveQueue(name); q != nil {
		if !sameOptions(*q.options(), opts, q.fifo) {
			return nil, &postroom.Error{Pkg: "memory", Op: "create", Code: "QueueNameExists",
				Message: "A queue already exists with the same name and a different value for attribute(s)", Kind: postroom.ErrExists}
		}
		return q, nil
	}
	q, err := newQueue(w, name, opts)
	if err != nil {
		return nil, err
	}
	w.queues[name] = q
	return q, nil
}

// resolveRedrive sets the dead-letter queue of a redrive policy that names
// it by ARN. Callers hold w.mu.
func (w *World) resolveRedrive(opts *QueueOptions) error {
	rp := opts.RedrivePolicy
	if rp == nil || rp.DeadLetterQueue != nil || rp.DeadLetterQueueARN == "" {
		return nil
	}
	var dlq *Queue
	if name, ok := nameFromARN(rp.DeadLetterQueueARN, w.sqsARN("")); ok {
		dlq = w.liveQueue(name)
	}
	if dlq == nil {
		return &postroom.Error{Pkg: "memory", Op: "create", Code: "InvalidParameterValue",
			Message: fmt.Sprintf("Value {\"deadLetterTargetArn\":%q} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.", rp.DeadLetterQueueARN),
			Kind:    postroom.ErrInvalid}
	}
	cp := *rp
	cp.DeadLetterQueue = dlq
	opts.RedrivePolicy = &cp
	return nil
}

// liveQueue returns the open queue of that name, forgetting a closed one.
// Callers hold w.mu.
func (w *World) liveQueue(name string) *Queue {
	q := w.queues[name]
	if q != nil && q.isClosed() {
		delete(w.queues, name)
		return nil
	}
	return q
}

// Queue returns the queue of that name, or an error matching
// postroom.ErrNotFound (QueueDoesNotExist).
func (w *World) Queue(name string) (*Queue, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q := w.liveQueue(name); q != nil {
		return q, nil
	}
	return nil, errNoQueue("queue", name)
}

// QueueByARN returns the queue an SQS ARN of the world names, or an error
// matching postroom.ErrNotFound.
func (w *World) QueueByARN(arn string) (*Queue, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if name, ok := nameFromARN(arn, w.sqsARN("")); ok {
		if q := w.liveQueue(name); q != nil {
			return q, nil
		}
	}
	return nil, errNoQueue("queue", arn)
}

func errNoQueue(op, name string) error {
	return &postroom.Error{Pkg: "memory", Op: op, Code: "QueueDoesNotExist",
		Message: "The specified queue " + name + " does not exist.", Kind: postroom.ErrNotFound}
}

// Queues returns the world's queues whose names start with prefix, sorted
// by name.
func (w *World) Queues(prefix string) []*Queue {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*Queue
	for name := range w.queues {
		if strings.HasPrefix(name, prefix) {
			if q := w.liveQueue(name); q != nil {
				out = append(out, q)
			}
		}
	}
	slices.SortFunc(out, func(a, b *Queue) int { return strings.Compare(a.name, b.name) })
	return out
}

// DeleteQueue closes the queue of that name and removes it from the
// world, or fails with an error matching postroom.ErrNotFound.
func (w *World) DeleteQueue(name string) error {
	w.mu.Lock()
	q := w.liveQueue(name)
	delete(w.queues, name)
	w.mu.Unlock()
	if q == nil {
		return errNoQueue("delete", name)
	}
	return q.Close()
}

// OpenQueue opens a mem:// queue URL in the world; see the package
// documentation for its query parameters. The first open of a name makes
// the queue; later ones return it, and fail with an error matching
// postroom.ErrExists when they ask for different options.
func (w *World) OpenQueue(ctx context.Context, rawURL string) (*Queue, error) {
	u, err := parseMemURL(rawURL)
	if err != nil {
		return nil, err
	}
	return w.openQueue(u)
}

// parseMemURL parses a mem:// URL.
func parseMemURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &postroom.Error{Pkg: "memory", Op: "open", Message: err.Error(), Kind: postroom.ErrInvalid, Err: err}
	}
	if u.Scheme != Scheme {
		return nil, &postroom.Error{Pkg: "memory", Op: fmt.Sprintf("open %q", u.Redacted()),
			Message: "the scheme must be " + Scheme, Kind: postroom.ErrInvalid}
	}
	return u, nil
}

// ---- topics

// NewTopic makes a topic in the world. As SNS's CreateTopic, it returns the
// existing topic of that name when its options are the same, and fails
// with an error matching postroom.ErrExists when they differ.
func (w *World) NewTopic(name string, opts TopicOptions) (*Topic, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errWorldClosed("create")
	}
	t, err := newTopic(w, name, opts)
	if err != nil {
		return nil, err
	}
	if old := w.liveTopic(name); old != nil {
		if old.opts != t.opts {
			return nil, &postroom.Error{Pkg: "memory", Op: "create", Code: "InvalidParameter",
				Message: "Invalid parameter: Attributes Reason: Topic already exists with different attributes", Kind: postroom.ErrExists}
		}
		return old, nil
	}
	w.topics[name] = t
	return t, nil
}

// liveTopic returns the open topic of that name, forgetting a closed one.
// Callers hold w.mu.
func (w *World) liveTopic(name string) *Topic {
	t := w.topics[name]
	if t != nil && t.isClosed() {
		delete(w.topics, name)
		return nil
	}
	return t
}

// Topic returns the topic of that name, or an error matching
// postroom.ErrNotFound.
func (w *World) Topic(name string) (*Topic, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t := w.liveTopic(name); t != nil {
		return t, nil
	}
	return nil, errNoTopic("topic", name)
}

// TopicByARN returns the topic an SNS ARN of the world names, or an error
// matching postroom.ErrNotFound.
func (w *World) TopicByARN(arn string) (*Topic, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if name, ok := nameFromARN(arn, w.snsARN("")); ok {
		if t := w.liveTopic(name); t != nil {
			return t, nil
		}
	}
	return nil, errNoTopic("topic", arn)
}

func errNoTopic(op, name string) error {
	return &postroom.Error{Pkg: "memory", Op: op, Code: "NotFound",
		Message: "Topic does not exist: " + name, Kind: postroom.ErrNotFound}
}

// Topics returns the world's topics whose names start with prefix, sorted
// by name.
func (w *World) Topics(prefix string) []*Topic {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*Topic
	for name := range w.topics {
		if strings.HasPrefix(name, prefix) {
			if t := w.liveTopic(name); t != nil {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b *Topic) int { return strings.Compare(a.name, b.name) })
	return out
}

// DeleteTopic closes the topic of that name and removes it from the world,
// or fails with an error matching postroom.ErrNotFound.
func (w *World) DeleteTopic(name string) error {
	w.mu.Lock()
	t := w.liveTopic(name)
	delete(w.topics, name)
	w.mu.Unlock()
	if t == nil {
		return errNoTopic("delete", name)
	}
	return t.Close()
}

// OpenTopic opens a mem:// topic URL in the world; see the package
// documentation for its query parameters. Every open of a name returns the
// same topic while it is open.
func (w *World) OpenTopic(ctx context.Context, rawURL string) (*Topic, error) {
	u, err := parseMemURL(rawURL)
	if err != nil {
		return nil, err
	}
	return w.openTopic(u)
}

// ---- buses

// NewBus makes an event bus in the world. As EventBridge's CreateEventBus,
// it fails with ResourceAlreadyExistsException (matching
// postroom.ErrExists) when the name is taken; the "default" bus always is.
func (w *World) NewBus(name string, opts BusOptions) (*Bus, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errWorldClosed("create")
	}
	if w.liveBus(name) != nil {
		return nil, errBusExists(name)
	}
	b, err := newBus(w, name, opts)
	if err != nil {
		return nil, err
	}
	w.buses[name] = b
	return b, nil
}

func errBusExists(name string) error {
	return &postroom.Error{Pkg: "memory", Op: "create", Code: "ResourceAlreadyExistsException",
		Message: "Event bus " + name + " already exists.", Kind: postroom.ErrExists}
}

// liveBus returns the open bus of that name, forgetting a closed one and
// making the default bus when it is asked for the first time. Callers hold
// w.mu.
func (w *World) liveBus(name string) *Bus {
	b := w.buses[name]
	if b != nil && b.isClosed() {
		delete(w.buses, name)
		b = nil
	}
	if b == nil && name == defaultBus && !w.closed {
		b, _ = newBus(w, defaultBus, BusOptions{}) // a valid name and options
		w.buses[name] = b
	}
	return b
}

// Bus returns the bus of that name ("default" always exists), or an error
// matching postroom.ErrNotFound.
func (w *World) Bus(name string) (*Bus, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if b := w.liveBus(name); b != nil {
		return b, nil
	}
	return nil, errNoBus("bus", name)
}

// BusByARN returns the bus an EventBridge bus ARN of the world names, or an
// error matching postroom.ErrNotFound.
func (w *World) BusByARN(arn string) (*Bus, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if name, ok := nameFromARN(arn, w.busARN("")); ok {
		if b := w.liveBus(name); b != nil {
			return b, nil
		}
	}
	return nil, errNoBus("bus", arn)
}

func errNoBus(op, name string) error {
	return &postroom.Error{Pkg: "memory", Op: op, Code: "ResourceNotFoundException",
		Message: "Event bus " + name + " does not exist.", Kind: postroom.ErrNotFound}
}

// Buses returns the world's buses whose names start with prefix, sorted by
// name; the "default" bus among them.
func (w *World) Buses(prefix string) []*Bus {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.liveBus(defaultBus)
	var out []*Bus
	for name := range w.buses {
		if strings.HasPrefix(name, prefix) {
			if b := w.liveBus(name); b != nil {
				out = append(out, b)
			}
		}
	}
	slices.SortFunc(out, func(a, b *Bus) int { return strings.Compare(a.name, b.name) })
	return out
}

// DeleteBus closes the bus of that name and removes it from the world. The
// default bus cannot be deleted (ValidationException, matching
// postroom.ErrInvalid); a missing bus fails with an error matching
// postroom.ErrNotFound.
func (w *World) DeleteBus(name string) error {
	if name == defaultBus {
		return invalidParam("delete", "Cannot delete event bus default.")
	}
	w.mu.Lock()
	b := w.liveBus(name)
	delete(w.buses, name)
	w.mu.Unlock()
	if b == nil {
		return errNoBus("delete", name)
	}
	return b.Close()
}

// OpenBus opens a mem:// bus URL in the world; see the package
// documentation for its query parameter. Every open of a name returns the
// same bus while it is open.
func (w *World) OpenBus(ctx context.Context, rawURL string) (*Bus, error) {
	u, err := parseMemURL(rawURL)
	if err != nil {
		return nil, err
	}
	return w.openBus(u)
}

// wait waits d, or until stop is closed (false).
func wait(d time.Duration, stop <-chan struct{}) bool {
	if d <= 0 {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-stop:
		return false
	}
}
