package memory

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus/pattern"
	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// SNS's limits and defaults, which TopicOptions default to.
const (
	defaultTopicMessageSize = 256 << 10 // 256 KiB
	maxSubjectLen           = 100
)

// TopicDedupScope is the deduplication scope of a FIFO topic, spelled as
// SNS's FifoThroughputScope attribute.
type TopicDedupScope string

// Deduplication scopes of FIFO topics.
const (
	TopicDedupScopeTopic        TopicDedupScope = "Topic"
	TopicDedupScopeMessageGroup TopicDedupScope = "MessageGroup"
)

// TopicOptions configure a memory topic, with SNS's names and defaults. The
// zero value is a standard topic.
type TopicOptions struct {
	// FIFO makes a FIFO topic; its name must end in ".fifo". A name that
	// ends in ".fifo" makes a FIFO topic without it.
	FIFO bool
	// ContentBasedDeduplication deduplicates FIFO messages without a
	// DeduplicationID by the SHA-256 of their body.
	ContentBasedDeduplication bool
	// DeduplicationScope is TopicDedupScopeTopic (the default) or
	// TopicDedupScopeMessageGroup.
	DeduplicationScope TopicDedupScope
	// MaxMessageSize caps a message (body and attributes): 1 KiB to 1 MiB;
	// 0 means 256 KiB.
	MaxMessageSize int
}

// Topic is an in-memory topic with the semantics of Amazon SNS: it fans a
// published message out to every subscription whose filter policy admits
// it, into memory queues (the SNS → SQS fan-out) or Go functions (the way
// SNS invokes a Lambda function). Create one with NewTopic; it is safe for
// concurrent use.
type Topic struct {
	name  string
	arn   string
	world *World
	opts  TopicOptions
	fifo  bool
	raw   bool // every subscription delivers raw (topics of a Broker)

	mu     sync.Mutex // guards everything below
	closed bool
	subs   []*subscription
	named  map[string]*Subscription // durable subscriptions made by Subscribe
	nsubs  int
	seq    uint64
	dedup  map[string]time.Time
	dedupI map[string]string
	admin  topicAdmin // attributes, tags, endpoint subscriptions: topic_admin.go

	funcs sync.WaitGroup // function invocations, HTTP deliveries, and their retries
	stop  chan struct{}  // closed by Close: pending retries give up
}

var (
	_ pubsub.Topic = (*Topic)(nil)
)

// NewTopic returns a new topic in a new world of its own (see World). Its
// name follows SNS's rules: 1 to 256 characters from [A-Za-z0-9_-], with
// ".fifo" at the end of a FIFO topic's.
func NewTopic(name string, opts TopicOptions) (*Topic, error) {
	return NewWorld(WorldOptions{}).NewTopic(name, opts)
}

// newTopic makes a topic of w without adding it to w.
func newTopic(w *World, name string, opts TopicOptions) (*Topic, error) {
	fifo := opts.FIFO || strings.HasSuffix(name, ".fifo")
	base := name
	if fifo {
		if !strings.HasSuffix(name, ".fifo") {
			return nil, snsInvalid("create", "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
		}
		base = strings.TrimSuffix(name, ".fifo")
	}
	if !validate.Name(base, 256-len(name)+len(base)) {
		return nil, snsInvalid("create", "Invalid parameter: Topic Name")
	}
	if !fifo && (opts.ContentBasedDeduplication || opts.DeduplicationScope != "") {
		return nil, snsInvalid("create", "Invalid parameter: Attributes Reason: ContentBasedDeduplication and FifoThroughputScope are only for FIFO topics")
	}
	switch opts.DeduplicationScope {
	case "":
		opts.DeduplicationScope = TopicDedupScopeTopic
	case TopicDedupScopeTopic, TopicDedupScopeMessageGroup:
	default:
		return nil, snsInvalid("create", "Invalid parameter: Attributes Reason: FifoThroughputScope: Invalid value ["+string(opts.DeduplicationScope)+"]. Please use either Topic or MessageGroup")
	}
	if opts.MaxMessageSize == 0 {
		opts.MaxMessageSize = defaultTopicMessageSize
	}
	if opts.MaxMessageSize < minMaxMessageSize || opts.MaxMessageSize > defaultMaxMessageSize {
		return nil, snsInvalid("create", "Invalid parameter: Attributes Reason: MaximumMessageSize must be between 1024 and 1048576")
	}
	t := &Topic{
		name:  name,
		arn:   w.snsARN(name),
		world: w,
		opts:  opts,
		fifo:  fifo,
		named: make(map[string]*Subscription),
		stop:  make(chan struct{}),
	}
	if fifo {
		t.dedup = make(map[string]time.Time)
		t.dedupI = make(map[string]string)
	}
	return t, nil
}

func snsInvalid(op, message string) *postroom.Error {
	return &postroom.Error{Pkg: "memory", Op: op, Code: "InvalidParameter", Message: message, Kind: postroom.ErrInvalid}
}

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// ARN returns the topic's ARN, in its world's account and region.
func (t *Topic) ARN() string { return t.arn }

// World returns the world the topic belongs to.
func (t *Topic) World() *World { return t.world }

// Close closes the topic: later publishes fail with an error matching
// postroom.ErrClosed, pending function and HTTP retries give up (their
// messages go to the subscription's dead-letter queue), requests to HTTP
// endpoints are canceled, and Close waits for function invocations and
// HTTP deliveries in progress. Subscribed queues stay open.
func (t *Topic) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.stop)
	t.mu.Unlock()
	t.funcs.Wait()
	return nil
}

// Publish publishes 1 to 10 messages (Publish and PublishBatch), setting
// each one's ID. Messages that break a rule are reported in a
// *postroom.BatchError by index while the others are published; a call with
// no messages or more than 10, or whose messages add up to more than the
// size limit, publishes nothing.
func (t *Topic) Publish(ctx context.Context, msgs ...*pubsub.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := t.checkBatch(msgs); err != nil {
		return err
	}
	var errs []error
	for i, m := range msgs {
		if err := t.checkMessage(m); err != nil {
			if errs == nil {
				errs = make([]error, len(msgs))
			}
			errs[i] = err
		}
	}
	ids := newIDs(len(msgs))
	now := time.Now()

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return &postroom.Error{Pkg: "memory", Op: "publish", Kind: postroom.ErrClosed}
	}
	subs := t.subs // copy on write: never modified in place
	eps := t.endpointTargets()
	// Until the deliveries below have started their goroutines, Close
	// waits: no goroutine starts after Close returned.
	t.funcs.Add(1)
	defer t.funcs.Done()
	var out []*notification
	for i, m := range msgs {
		if errs != nil && errs[i] != nil {
			continue
		}
		id := ids[i*idLen : (i+1)*idLen]
		n := &notification{id: id, topic: t, time: now, subject: m.Subject, groupID: m.GroupID,
			body: append([]byte(nil), m.Body...), attrs: m.Attributes.Clone()}
		if t.fifo {
			key := t.dedupKey(m)
			if exp, dup := t.dedup[key]; dup && now.Before(exp) {
				m.ID = t.dedupI[key] // accepted, not delivered
				continue
			}
			t.remember(key, id, now)
			t.seq++
			n.seq = fmt.Sprintf("%020d", t.seq)
			n.dedupID = m.DeduplicationID
			if n.dedupID == "" {
				n.dedupID = contentID(m.Body)
			}
		}
		m.ID = id
		out = append(out, n)
	}
	t.mu.Unlock()

	for _, n := range out {
		for _, s := range subs {
			s.deliver(n)
		}
		for _, et := range eps {
			t.deliverEndpoint(et, n)
		}
	}
	return postroom.NewBatchError("memory", errs)
}

func (t *Topic) checkBatch(msgs []*pubsub.Message) error {
	switch {
	case len(msgs) == 0:
		return &postroom.Error{Pkg: "memory", Op: "publish", Code: "EmptyBatchRequest",
			Message: "The batch request doesn't contain any entries", Kind: postroom.ErrTooManyEntries}
	case len(msgs) > maxBatch:
		return &postroom.Error{Pkg: "memory", Op: "publish", Code: "TooManyEntriesInBatchRequest",
			Message: "The batch request contains more entries than permissible.", Kind: postroom.ErrTooManyEntries}
	case len(msgs) == 1:
		return nil
	}
	total := 0
	for _, m := range msgs {
		if m != nil {
			total += len(m.Body) + m.Attributes.Size()
		}
	}
	if total > t.opts.MaxMessageSize {
		return &postroom.Error{Pkg: "memory", Op: "publish", Code: "BatchRequestTooLong",
			Message: "The length of all the messages put together is more than the limit.", Kind: postroom.ErrTooLarge}
	}
	return nil
}

func (t *Topic) checkMessage(m *pubsub.Message) error {
	switch {
	case m == nil || len(m.Body) == 0:
		return snsInvalid("publish", "Invalid parameter: Empty message")
	case len(m.Body)+m.Attributes.Size() > t.opts.MaxMessageSize:
		return &postroom.Error{Pkg: "memory", Op: "publish", Code: "InvalidParameter",
			Message: "Invalid parameter: Message too long", Kind: postroom.ErrTooLarge}
	case !utf8.Valid(m.Body):
		return snsInvalid("publish", "Invalid parameter: Message")
	case !validSubject(m.Subject):
		return snsInvalid("publish", "Invalid parameter: Subject")
	}
	if len(m.Attributes) > 0 {
		if err := validate.Attributes("memory", "publish", m.Attributes, validate.SNS); err != nil {
			return err
		}
		for name, a := range m.Attributes {
			if a.BaseType() == queue.TypeStringArray && !stringArray(a.Value) {
				return snsInvalid("publish", fmt.Sprintf("Invalid parameter: MessageAttributes Reason: Message attribute '%s' with type 'String.Array' must be a JSON array of strings, numbers, booleans or null.", name))
			}
		}
	}
	if !t.fifo {
		if m.DeduplicationID != "" {
			return snsInvalid("publish", "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
		}
		if m.GroupID != "" && !validate.ID(m.GroupID) {
			return snsInvalid("publish", "Invalid parameter: MessageGroupId")
		}
		return nil
	}
	switch {
	case m.GroupID == "":
		return snsInvalid("publish", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
	case !validate.ID(m.GroupID):
		return snsInvalid("publish", "Invalid parameter: MessageGroupId")
	case m.DeduplicationID != "" && !validate.ID(m.DeduplicationID):
		return snsInvalid("publish", "Invalid parameter: MessageDeduplicationId")
	case m.DeduplicationID == "" && !t.opts.ContentBasedDeduplication:
		return snsInvalid("publish", "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	}
	return nil
}

// validSubject: under 100 characters, no line breaks or control characters.
func validSubject(s string) bool {
	if utf8.RuneCountInString(s) >= maxSubjectLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func (t *Topic) dedupKey(m *pubsub.Message) string {
	id := m.DeduplicationID
	if id == "" {
		id = contentID(m.Body)
	}
	if t.opts.DeduplicationScope == TopicDedupScopeMessageGroup {
		return m.GroupID + "\x00" + id
	}
	return id
}

// remember records a deduplication key, forgetting expired ones now and
// then. Callers hold t.mu.
func (t *Topic) remember(key, id string, now time.Time) {
	if len(t.dedup) > 1024 && len(t.dedup)%1024 == 0 {
		for k, exp := range t.dedup {
			if !now.Before(exp) {
				delete(t.dedup, k)
				delete(t.dedupI, k)
			}
		}
	}
	t.dedup[key] = now.Add(deduplicationWindow)
	t.dedupI[key] = id
}

// A notification is one published message on its way to subscriptions.
// It holds copies of what it needs of the message: the caller may reuse
// the message once Publish returns, while function subscriptions still
// read the notification.
type notification struct {
	subject string
	groupID string
	id      string
	seq     string // FIFO sequence number
	dedupID string // FIFO deduplication id (explicit or content-based)
	topic   *Topic
	time    time.Time

	body  []byte           // a copy of msg.Body, shared by every delivery
	attrs queue.Attributes // a copy of msg.Attributes, shared likewise

	once   sync.Once
	pattrs map[string]pattern.Attribute // for attribute filter policies, built once
}

func (n *notification) patternAttributes() map[string]pattern.Attribute {
	n.once.Do(func() {
		n.pattrs = make(map[string]pattern.Attribute, len(n.attrs))
		for k, a := range n.attrs {
			n.pattrs[k] = pattern.Attribute{Type: a.Type, Value: a.Value}
		}
	})
	return n.pattrs
}
