package memory

import (
	"container/heap"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/queue"
)

var _ queue.Queue = (*Queue)(nil)

// Send sends 1 to 10 messages (SendMessage and SendMessageBatch). Messages
// that break a rule are reported in a *postroom.BatchError by index while the
// others are sent; a call with no messages or more than 10, or whose
// messages add up to more than the batch size limit, sends nothing.
func (q *Queue) Send(ctx context.Context, msgs ...*queue.Message) error {
	return q.send(ctx, msgs, nil)
}

// SQSMessage is a message with what SQS's SendMessage carries beside a
// queue.Message, for SendSQS.
type SQSMessage struct {
	queue.Message

	// TraceHeader is the AWSTraceHeader message system attribute (an
	// X-Ray trace header), kept with the message and returned by
	// ReceiveSQS. It does not count toward the size limit.
	TraceHeader string

	// SequenceNumber is set by SendSQS on a FIFO queue: the message's
	// sequence number, or the original's for a deduplicated message.
	SequenceNumber string
}

// SendSQS is Send with SQS's message system attributes, for the local AWS
// endpoint: each message's TraceHeader is stored with it, and on a FIFO
// queue each sent message's SequenceNumber is set.
func (q *Queue) SendSQS(ctx context.Context, msgs ...*SQSMessage) error {
	ms := make([]*queue.Message, len(msgs))
	for i, m := range msgs {
		if m != nil {
			ms[i] = &m.Message
		}
	}
	return q.send(ctx, ms, msgs)
}

// send sends msgs; sqs, when not nil, is index-aligned with msgs and gives
// their trace headers and takes their sequence numbers.
func (q *Queue) send(ctx context.Context, msgs []*queue.Message, sqs []*SQSMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	opts := q.options()
	if err := checkBatch("send", opts, msgs); err != nil {
		return err
	}
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(msgs))
		}
		errs[i] = err
	}
	for i, m := range msgs {
		if err := q.checkMessage(opts, m); err != nil {
			fail(i, err)
		}
	}
	ids := newIDs(len(msgs))
	now := time.Now()

	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errClosed("send")
	}
	q.advance(now)
	visible := false
	for i, m := range msgs {
		if errs != nil && errs[i] != nil {
			continue
		}
		trace := ""
		if sqs != nil {
			trace = sqs[i].TraceHeader
		}
		vis, seq := q.put(m, ids[i*idLen:(i+1)*idLen], now, false, trace)
		if vis {
			visible = true
		}
		if sqs != nil {
			sqs[i].SequenceNumber = seq
		}
	}
	if visible {
		q.broadcast()
	}
	return postroom.NewBatchError("memory", errs)
}

// put enqueues a valid message under id, or drops it as a duplicate of a
// FIFO message sent within the deduplication window, setting m.ID either
// way. It reports whether the message is visible at once, and its FIFO
// sequence number (the original's for a duplicate). With owned, the queue
// keeps m's body and attributes instead of copies: the caller never
// changes them. Callers hold q.mu.
func (q *Queue) put(m *queue.Message, id string, now time.Time, owned bool, trace string) (bool, string) {
	var key string
	if q.fifo {
		key = q.dedupKey(m)
		if orig, dup := q.duplicate(key, now); dup {
			m.ID = orig.id // accepted, not enqueued
			return false, orig.seq
		}
	}
	m.ID = id
	sm := q.store(m, id, now, owned)
	if trace != "" {
		sm.extra().trace = trace
	}
	if q.fifo {
		q.remember(key, dedupEntry{exp: now.Add(deduplicationWindow), id: id, seq: sm.x().seq}, now)
	}
	return q.enqueue(sm, now), sm.x().seq
}

// deliverFromTopic enqueues a message a topic delivers: the queue's size
// limit does not apply (as with SNS deliveries to SQS), FIFO deduplication
// does. The queue keeps m's body and attributes, which the topic shares
// among its subscriptions and never changes.
func (q *Queue) deliverFromTopic(m *queue.Message) error {
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errClosed("send")
	}
	q.advance(now)
	if visible, _ := q.put(m, newIDs(1), now, true, ""); visible {
		q.broadcast()
	}
	return nil
}

// checkBatch applies SQS's limits on a batch as a whole.
func checkBatch(op string, opts *QueueOptions, msgs []*queue.Message) error {
	switch {
	case len(msgs) == 0:
		return &postroom.Error{Pkg: "memory", Op: op, Code: "AWS.SimpleQueueService.EmptyBatchRequest",
			Message: "There should be at least one SendMessageBatchRequestEntry in the request.", Kind: postroom.ErrTooManyEntries}
	case len(msgs) > maxBatch:
		return &postroom.Error{Pkg: "memory", Op: op, Code: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
			Message: fmt.Sprintf("Maximum number of entries per request are %d. You have sent %d.", maxBatch, len(msgs)),
			Kind:    postroom.ErrTooManyEntries}
	}
	if len(msgs) == 1 {
		return nil // SendMessage: the message's own limit applies
	}
	total := 0
	for _, m := range msgs {
		if m != nil {
			total += messageSize(m)
		}
	}
	if total > opts.MaxBatchSize {
		return &postroom.Error{Pkg: "memory", Op: op, Code: "AWS.SimpleQueueService.BatchRequestTooLong",
			Message: fmt.Sprintf("Batch requests cannot be longer than %d bytes. You have sent %d bytes.", opts.MaxBatchSize, total),
			Kind:    postroom.ErrTooLarge}
	}
	return nil
}

func messageSize(m *queue.Message) int { return len(m.Body) + m.Attributes.Size() }

// checkMessage applies SQS's rules to one message.
func (q *Queue) checkMessage(opts *QueueOptions, m *queue.Message) error {
	switch {
	case m == nil:
		return validate.Invalid("memory", "send", "MissingParameter", "The request must contain the parameter MessageBody.")
	case len(m.Body) == 0:
		return validate.Invalid("memory", "send", "MissingParameter", "The request must contain the parameter MessageBody.")
	case messageSize(m) > opts.MaxMessageSize:
		return &postroom.Error{Pkg: "memory", Op: "send", Code: "InvalidParameterValue",
			Message: fmt.Sprintf("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", opts.MaxMessageSize),
			Kind:    postroom.ErrTooLarge}
	case !validate.ValidBytes(m.Body):
		return validate.Invalid("memory", "send", "InvalidMessageContents",
			"Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
	}
	if len(m.Attributes) > 0 {
		if err := validate.Attributes("memory", "send", m.Attributes, validate.SQS); err != nil {
			return err
		}
	}
	if m.Delay != 0 {
		if q.fifo {
			return validate.Invalid("memory", "send", "InvalidParameterValue",
				"Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", int(m.Delay/time.Second))
		}
		if m.Delay < 0 || m.Delay > maxDelay {
			return validate.Invalid("memory", "send", "InvalidParameterValue",
				"Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", int(m.Delay/time.Second))
		}
	}
	if m.GroupID != "" && !validate.ID(m.GroupID) {
		return validate.Invalid("memory", "send", "InvalidParameterValue",
			"Value %s for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.", m.GroupID)
	}
	if !q.fifo {
		if m.DeduplicationID != "" {
			return validate.Invalid("memory", "send", "InvalidParameterValue",
				"Value %s for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type.", m.DeduplicationID)
		}
		return nil
	}
	switch {
	case m.GroupID == "":
		return validate.Invalid("memory", "send", "MissingParameter", "The request must contain the parameter MessageGroupId.")
	case m.DeduplicationID != "" && !validate.ID(m.DeduplicationID):
		return validate.Invalid("memory", "send", "InvalidParameterValue",
			"Value %s for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.", m.DeduplicationID)
	case m.DeduplicationID == "" && !opts.ContentBasedDeduplication:
		return validate.Invalid("memory", "send", "InvalidParameterValue",
			"The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	}
	return nil
}

// store makes the stored copy of m. Callers hold q.mu.
func (q *Queue) store(m *queue.Message, id string, now time.Time, owned bool) *message {
	q.seq++
	sm := &message{
		serial:     q.seq,
		id:         id,
		body:       m.Body,
		groupID:    m.GroupID,
		sentAt:     now,
		enqueuedAt: now,
		index:      -1,
	}
	if !owned {
		sm.body = append([]byte(nil), m.Body...)
		if len(m.Attributes) > 0 {
			sm.attrs = m.Attributes.Clone()
		}
	} else {
		sm.attrs = m.Attributes
	}
	delay := q.options().Delay
	if m.Delay > 0 {
		delay = m.Delay
	}
	sm.visibleAt = now.Add(delay)
	if q.fifo {
		x := sm.extra()
		x.seq = fmt.Sprintf("%020d", q.seq)
		x.dedupID = m.DeduplicationID
		if x.dedupID == "" {
			x.dedupID = contentID(sm.body)
		}
	}
	return sm
}

// enqueue adds a stored message and reports whether it is visible at
// once. Callers hold q.mu.
func (q *Queue) enqueue(m *message, now time.Time) bool {
	q.msgs[m.serial] = m
	if q.fifo {
		g := q.groups[m.groupID]
		if g == nil {
			g = &group{id: m.groupID, index: -1}
			q.groups[m.groupID] = g
		}
		g.msgs = append(g.msgs, m)
		m.group = g
	}
	if m.visibleAt.After(now) {
		q.delayed++
		heap.Push(&q.pending, m)
		return false
	}
	if q.fifo {
		q.maybeReady(m.group)
	} else {
		q.ready.push(m)
	}
	return true
}

// dedupKey is the deduplication key of a FIFO message.
func (q *Queue) dedupKey(m *queue.Message) string {
	id := m.DeduplicationID
	if id == "" {
		id = contentID(m.Body)
	}
	if q.options().DeduplicationScope == DedupScopeMessageGroup {
		return m.GroupID + "\x00" + id
	}
	return id
}

// A dedupEntry is what a FIFO queue remembers of a message for the
// deduplication window.
type dedupEntry struct {
	exp     time.Time
	id, seq string
}

// duplicate reports whether key was seen within the deduplication window,
// and what was sent with it. Callers hold q.mu.
func (q *Queue) duplicate(key string, now time.Time) (dedupEntry, bool) {
	e, ok := q.dedup[key]
	if !ok || !now.Before(e.exp) {
		return dedupEntry{}, false
	}
	return e, true
}

// remember records key for the deduplication window, forgetting keys whose
// window has passed. Callers hold q.mu.
func (q *Queue) remember(key string, e dedupEntry, now time.Time) {
	if len(q.dedup) > 1024 && len(q.dedup)%1024 == 0 {
		for k, old := range q.dedup {
			if !now.Before(old.exp) {
				delete(q.dedup, k)
			}
		}
	}
	q.dedup[key] = e
}

// contentID is the content-based deduplication id: the SHA-256 of the body.
func contentID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Message ids look like the UUIDs SQS uses: a random 64-bit prefix fixed per
// process and a counter, so ids are unique without a system call each.
const idLen = 36

var (
	idPrefix  [8]byte
	idCounter atomic.Uint64
)

func init() { _, _ = rand.Read(idPrefix[:]) }

// newIDs returns n message ids concatenated, idLen bytes each, in one
// allocation.
func newIDs(n int) string {
	buf := make([]byte, n*idLen)
	var raw [16]byte
	copy(raw[:8], idPrefix[:])
	for i := range n {
		binary.BigEndian.PutUint64(raw[8:], idCounter.Add(1))
		raw[6] = raw[6]&0x0f | 0x40 // version 4
		raw[8] = raw[8]&0x3f | 0x80 // variant
		b := buf[i*idLen:]
		hex.Encode(b[0:8], raw[0:4])
		b[8] = '-'
		hex.Encode(b[9:13], raw[4:6])
		b[13] = '-'
		hex.Encode(b[14:18], raw[6:8])
		b[18] = '-'
		hex.Encode(b[19:23], raw[8:10])
		b[23] = '-'
		hex.Encode(b[24:36], raw[10:16])
	}
	return unsafe.String(unsafe.SliceData(buf), len(buf)) // buf is not written again
}
