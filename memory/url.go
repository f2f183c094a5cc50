package memory

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// Scheme is the URL scheme the memory drivers register.
const Scheme = "mem"

func init() {
	queue.Register(Scheme, urlOpener{})
	pubsub.Register(Scheme, urlOpener{})
}

// urlOpener opens mem:// queues and topics.
type urlOpener struct{}

// OpenQueueURL opens a mem:// queue URL in the default world.
func (urlOpener) OpenQueueURL(ctx context.Context, u *url.URL) (queue.Queue, error) {
	return openQueueURL(ctx, u)
}

// OpenTopicURL opens a mem:// topic URL in the default world.
func (urlOpener) OpenTopicURL(ctx context.Context, u *url.URL) (pubsub.Topic, error) {
	t, err := Default().openTopic(u)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// openTopic opens "mem://<name>?<options>" with the query parameters fifo,
// content_based_deduplication, deduplication_scope ("Topic" or
// "MessageGroup") and max_message_size. Every Open of a name in the world
// returns the same topic while it is open.
func (w *World) openTopic(u *url.URL) (*Topic, error) {
	name := u.Host + u.Path
	if u.Opaque != "" {
		name = u.Opaque
	}
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
			o.DeduplicationScope = TopicDedupScope(val)
		case "max_message_size":
			o.MaxMessageSize, err = strconv.Atoi(val)
		default:
			err = fmt.Errorf("unknown query parameter")
		}
		if err != nil {
			return nil, fmt.Errorf("memory: open %q: %w: query parameter %s=%q: %v", u.Redacted(), postroom.ErrInvalid, key, val, err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errWorldClosed("open")
	}
	if t := w.liveTopic(name); t != nil {
		return t, nil
	}
	t, err := newTopic(w, name, o)
	if err != nil {
		return nil, err
	}
	w.topics[name] = t
	return t, nil
}

func (t *Topic) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// openQueueURL opens a mem:// queue URL in the default world.
func openQueueURL(ctx context.Context, u *url.URL) (queue.Queue, error) {
	q, err := Default().openQueue(u)
	if err != nil {
		return nil, err
	}
	return q, nil
}

// openQueue opens "mem://<name>?<options>". The first Open of a name
// creates the queue with the options; later ones return the same queue and
// must not ask for different options.
//
// Query parameters: visibility, delay, retention, wait (durations such as
// "30s"), max_message_size (bytes), content_based_deduplication (bool),
// deduplication_scope ("queue" or "messageGroup"), fifo (bool; also implied
// by a ".fifo" name), dlq (the name or ARN of another queue of the world)
// with max_receive_count.
func (w *World) openQueue(u *url.URL) (*Queue, error) {
	name := u.Host + u.Path
	if u.Opaque != "" {
		name = u.Opaque
	}
	opts, err := parseQueueOptions(u.Query())
	if err != nil {
		return nil, fmt.Errorf("memory: open %q: %w", u.Redacted(), err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errWorldClosed("open")
	}
	if dlq := u.Query().Get("dlq"); dlq != "" {
		d := w.liveQueue(dlq)
		if n, ok := nameFromARN(dlq, w.sqsARN("")); ok && d == nil {
			d = w.liveQueue(n)
		}
		if d == nil {
			return nil, &postroom.Error{Pkg: "memory", Op: "open", Code: "AWS.SimpleQueueService.NonExistentQueue",
				Message: fmt.Sprintf("Dead-letter queue %q does not exist: open it by URL first.", dlq), Kind: postroom.ErrNotFound}
		}
		opts.RedrivePolicy.DeadLetterQueue = d
	}
	if q := w.liveQueue(name); q != nil {
		if len(u.RawQuery) > 0 && !sameOptions(*q.options(), opts, q.fifo) {
			return nil, &postroom.Error{Pkg: "memory", Op: "open", Code: "QueueNameExists",
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

func (q *Queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// sameOptions reports whether two queue options, the first of an existing
// queue, ask for the same queue.
func sameOptions(a, b QueueOptions, fifo bool) bool {
	ra, rb := a.RedrivePolicy, b.RedrivePolicy
	fill := func(o QueueOptions, fifo bool) QueueOptions {
		_ = checkOptions(&o, fifo)
		o.RedrivePolicy = nil
		return o
	}
	if (ra == nil) != (rb == nil) || ra != nil && (ra.DeadLetterQueue != rb.DeadLetterQueue || ra.MaxReceiveCount != rb.MaxReceiveCount) {
		return false
	}
	a, b = fill(a, fifo), fill(b, fifo)
	a.FIFO, b.FIFO = fifo, fifo
	return a == b
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
			o.DeduplicationScope = DedupScope(val)
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
