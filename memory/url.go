package memory

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// Scheme is the URL scheme the memory drivers register.
const Scheme = "mem"

func init() {
	queue.Register(Scheme, queue.OpenerFunc(openQueueURL))
	pubsub.Register(Scheme, topicOpener{})
}

// urlQueues are the queues opened by URL, by name, so that every Open of
// "mem://orders" in a process reaches the same queue.
var (
	urlMu     sync.Mutex // guards urlQueues and urlTopics
	urlQueues = map[string]*Queue{}
	urlTopics = map[string]*Topic{}
)

type topicOpener struct{}

// OpenTopic opens "mem://<name>?<options>" with the query parameters fifo,
// content_based_deduplication, deduplication_scope ("Topic" or
// "MessageGroup") and max_message_size. Every Open of a name in a process
// returns the same topic while it is open.
func (topicOpener) OpenTopic(ctx context.Context, u *url.URL) (pubsub.Topic, error) {
	name := u.Host + u.Path
	var o TopicOptions
	for key, vals := range u.Query() {
		val := vals[len(vals)-1]
		var err error
		switch key {
		case "fifo":
			o.FIFO, err = strconv.ParseBool(val)
		case "content_based_deduplication":
			o.ContentBasedDeduplication, err = strconv.ParseBool(val)
		case "deduplication_scope":
			o.DeduplicationScope = val
		case "max_message_size":
			o.MaxMessageSize, err = strconv.Atoi(val)
		default:
			err = fmt.Errorf("unknown query parameter")
		}
		if err != nil {
			return nil, fmt.Errorf("memory: open %q: %w: query parameter %s=%q: %v", u.Redacted(), postroom.ErrInvalid, key, val, err)
		}
	}
	urlMu.Lock()
	defer urlMu.Unlock()
	if t, ok := urlTopics[name]; ok && !t.isClosed() {
		return t, nil
	}
	t, err := NewTopic(name, o)
	if err != nil {
		return nil, err
	}
	urlTopics[name] = t
	return t, nil
}

func (t *Topic) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// openQueueURL opens "mem://<name>?<options>". The first Open of a name
// creates the queue with the options; later ones return the same queue and
// must not ask for different options.
//
// Query parameters: visibility, delay, retention, wait (durations such as
// "30s"), max_message_size (bytes), content_based_deduplication (bool),
// deduplication_scope ("queue" or "messageGroup"), fifo (bool; also implied
// by a ".fifo" name), dlq (the name of another mem:// queue) with
// max_receive_count.
func openQueueURL(ctx context.Context, u *url.URL) (queue.Queue, error) {
	name := u.Host + u.Path
	if u.Opaque != "" {
		name = u.Opaque
	}
	opts, err := parseQueueOptions(u.Query())
	if err != nil {
		return nil, fmt.Errorf("memory: open %q: %w", u.Redacted(), err)
	}
	urlMu.Lock()
	defer urlMu.Unlock()
	if q, ok := urlQueues[name]; ok && !q.isClosed() {
		if len(u.RawQuery) > 0 && !sameOptions(q.opts, opts) {
			return nil, &postroom.Error{Pkg: "memory", Op: "open", Code: "QueueAlreadyExists",
				Message: "A queue already exists with the same name and a different value for an attribute", Kind: postroom.ErrExists}
		}
		return q, nil
	}
	if dlq := u.Query().Get("dlq"); dlq != "" {
		d, ok := urlQueues[dlq]
		if !ok {
			return nil, &postroom.Error{Pkg: "memory", Op: "open", Code: "AWS.SimpleQueueService.NonExistentQueue",
				Message: fmt.Sprintf("Dead-letter queue %q does not exist: open it by URL first.", dlq), Kind: postroom.ErrNotFound}
		}
		opts.RedrivePolicy.DeadLetterQueue = d
	}
	q, err := NewQueue(name, opts)
	if err != nil {
		return nil, err
	}
	urlQueues[name] = q
	return q, nil
}

func (q *Queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

func sameOptions(a, b QueueOptions) bool {
	fill := func(o QueueOptions, fifo bool) QueueOptions {
		_ = checkOptions(&o, fifo)
		o.RedrivePolicy = nil
		return o
	}
	return fill(a, a.FIFO) == fill(b, a.FIFO)
}

func parseQueueOptions(v url.Values) (QueueOptions, error) {
	var o QueueOptions
	for key, vals := range v {
		val := vals[len(vals)-1]
		var err error
		switch key {
		case "visibility":
			o.VisibilityTimeout, err = time.ParseDuration(val)
		case "delay":
			o.Delay, err = time.ParseDuration(val)
		case "retention":
			o.Retention, err = time.ParseDuration(val)
		case "wait":
			o.ReceiveWaitTime, err = time.ParseDuration(val)
		case "max_message_size":
			o.MaxMessageSize, err = strconv.Atoi(val)
		case "fifo":
			o.FIFO, err = strconv.ParseBool(val)
		case "content_based_deduplication":
			o.ContentBasedDeduplication, err = strconv.ParseBool(val)
		case "deduplication_scope":
			o.DeduplicationScope = val
		case "dlq":
			if o.RedrivePolicy == nil {
				o.RedrivePolicy = &RedrivePolicy{MaxReceiveCount: 10}
			}
		case "max_receive_count":
			if o.RedrivePolicy == nil {
				o.RedrivePolicy = &RedrivePolicy{}
			}
			o.RedrivePolicy.MaxReceiveCount, err = strconv.Atoi(val)
		default:
			return o, fmt.Errorf("%w: unknown query parameter %q", postroom.ErrInvalid, key)
		}
		if err != nil {
			return o, fmt.Errorf("%w: query parameter %s=%q: %v", postroom.ErrInvalid, key, val, err)
		}
	}
	if o.RedrivePolicy != nil && !v.Has("dlq") {
		return o, fmt.Errorf("%w: max_receive_count needs dlq", postroom.ErrInvalid)
	}
	return o, nil
}
