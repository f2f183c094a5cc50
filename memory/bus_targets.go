package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// EventBridge's limits on targets.
const (
	maxTargetID     = 64
	maxInputLen     = 8192
	maxInputPathLen = 256
	maxRetryLimit   = 185
	maxEventAge     = 24 * time.Hour
)

// The conditions EventBridge names in a dead-lettered event's
// EXHAUSTED_RETRY_CONDITION attribute.
const (
	exhaustedAttempts = "MaximumRetryAttempts"
	exhaustedAge      = "MaximumEventAgeInSeconds"
)

type targetKind uint8

const (
	queueTarget targetKind = iota
	topicTarget
	funcTarget
	arnTarget
)

// A busTarget is a compiled target of a rule. It is not modified once
// made.
type busTarget struct {
	def        eventbus.Target // a deep copy of what was put
	kind       targetKind
	arn        string
	fifo       bool       // a FIFO queue or topic: send the MessageGroupID
	input      []byte     // def.Input
	path       []pathSeg  // def.InputPath, compiled
	hasPath    bool       // def.InputPath is set ("$" selects everything)
	tmpl       *inputTmpl // def.InputTransformer, compiled
	maxRetries int
	maxAge     time.Duration
}

// compileTarget validates the n-th target of a PutTargets call (1-based)
// as EventBridge does and compiles it.
func (w *World) compileTarget(n int, t eventbus.Target) (*busTarget, error) {
	const op = "puttargets"
	if !validName(t.ID, maxTargetID, false) {
		return nil, nameError(op, fmt.Sprintf("targets.%d.member.id", n), t.ID, maxTargetID)
	}
	ct := &busTarget{def: cloneTarget(t), maxRetries: defaultRetryAttempts, maxAge: defaultMaxEventAge}
	kinds := 0
	if t.Queue != nil {
		kinds++
		ct.kind, ct.arn = queueTarget, w.senderARN(t.Queue)
		if d, ok := t.Queue.(queue.Describer); ok && d.Describe().FIFO {
			ct.fifo = true
		}
	}
	if t.Topic != nil {
		kinds++
		ct.kind, ct.arn = topicTarget, w.publisherARN(t.Topic)
		if tp, ok := t.Topic.(*Topic); ok {
			ct.fifo = tp.fifo
		}
	}
	if t.Func != nil {
		kinds++
		ct.kind, ct.arn = funcTarget, "arn:aws:lambda:"+w.region+":"+w.account+":function:"+t.ID
	}
	if t.ARN != "" {
		kinds++
		ct.kind, ct.arn = arnTarget, t.ARN
		ct.fifo = strings.HasSuffix(t.ARN, ".fifo")
	}
	if kinds != 1 {
		return nil, invalidParam(op, "Target %s must have exactly one of Queue, Topic, Func and ARN.", t.ID)
	}
	if ct.fifo && t.MessageGroupID == "" {
		return nil, invalidParam(op, "Parameter(s) SqsParameters must be specified for FIFO queues.")
	}
	if t.MessageGroupID != "" && !validate.ID(t.MessageGroupID) {
		return nil, invalidParam(op, "1 validation error detected: Value '%s' at 'targets.%d.member.sqsParameters.messageGroupId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\x21-\\x7e]{1,128}", t.MessageGroupID, n)
	}

	set := 0
	for _, s := range []bool{t.Input != "", t.InputPath != "", t.InputTransformer != nil} {
		if s {
			set++
		}
	}
	if set > 1 {
		return nil, invalidParam(op, "Only one of Input, InputPath, or InputTransformer must be provided for target %s.", t.ID)
	}
	switch {
	case t.Input != "":
		if len(t.Input) > maxInputLen {
			return nil, invalidParam(op, "1 validation error detected: Value at 'targets.%d.member.input' failed to satisfy constraint: Member must have length less than or equal to %d", n, maxInputLen)
		}
		if !json.Valid([]byte(t.Input)) {
			return nil, invalidParam(op, "Input for target %s is not valid JSON text.", t.ID)
		}
		ct.input = []byte(t.Input)
	case t.InputPath != "":
		p, ok := parsePath(t.InputPath)
		if !ok || len(t.InputPath) > maxInputPathLen {
			return nil, invalidParam(op, "InputPath for target %s is not a valid JSONPath in dot notation: %s", t.ID, t.InputPath)
		}
		ct.path, ct.hasPath = p, true
	case t.InputTransformer != nil:
		tmpl, err := compileTransformer(t.ID, n, t.InputTransformer)
		if err != nil {
			return nil, err
		}
		ct.tmpl = tmpl
	}

	if a := t.RetryPolicy.MaximumRetryAttempts; a != nil {
		switch {
		case *a < 0:
			return nil, invalidParam(op, "1 validation error detected: Value '%d' at 'targets.%d.member.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value greater than or equal to 0", *a, n)
		case *a > maxRetryLimit:
			return nil, invalidParam(op, "1 validation error detected: Value '%d' at 'targets.%d.member.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to %d", *a, n, maxRetryLimit)
		}
		ct.maxRetries = *a
	}
	if age := t.RetryPolicy.MaximumEventAge; age != 0 {
		secs := int64(age / time.Second)
		switch {
		case age < minMaxEventAge:
			return nil, invalidParam(op, "1 validation error detected: Value '%d' at 'targets.%d.member.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60", secs, n)
		case age > maxEventAge:
			return nil, invalidParam(op, "1 validation error detected: Value '%d' at 'targets.%d.member.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 86400", secs, n)
		}
		ct.maxAge = time.Duration(secs) * time.Second
	}
	if d, ok := t.DeadLetter.(queue.Describer); ok && d.Describe().FIFO {
		return nil, invalidParam(op, "Parameter(s) DeadLetterConfig is not valid for target %s: EventBridge dead-letter queues must be standard queues.", t.ID)
	}
	return ct, nil
}

// cloneTarget copies t deeply enough that later changes by the caller to
// what t points to do not reach the bus, and the other way round.
func cloneTarget(t eventbus.Target) eventbus.Target {
	if t.InputTransformer != nil {
		it := *t.InputTransformer
		it.InputPathsMap = maps.Clone(it.InputPathsMap)
		t.InputTransformer = &it
	}
	if a := t.RetryPolicy.MaximumRetryAttempts; a != nil {
		v := *a
		t.RetryPolicy.MaximumRetryAttempts = &v
	}
	return t
}

// senderARN names a queue target: its ARN when it has one.
func (w *World) senderARN(s queue.Sender) string {
	if a, ok := s.(interface{ ARN() string }); ok {
		return a.ARN()
	}
	return w.sqsARN(fmt.Sprintf("%T", s))
}

// publisherARN names a topic target: its ARN when it has one.
func (w *World) publisherARN(p pubsub.Publisher) string {
	if a, ok := p.(interface{ ARN() string }); ok {
		return a.ARN()
	}
	return w.snsARN(fmt.Sprintf("%T", p))
}

// A job is the delivery of one event to one target.
type job struct {
	rule    string // the rule's name and ARN when the event was routed
	ruleARN string
	t       *busTarget
	env     []byte    // the event, as EventBridge writes it
	at      time.Time // when the event entered the bus: its age counts from then
}

// start counts the function jobs as work in progress, before Put or
// StartReplay releases b.mu, so that Close waits for them. Callers hold
// b.mu (at least for reading) and have checked that the bus is open.
func (b *Bus) start(jobs []job) {
	n := 0
	for i := range jobs {
		if jobs[i].t.kind == funcTarget {
			n++
		}
	}
	b.work.Add(n)
}

// deliverAll delivers the jobs that start counted and the others.
func (b *Bus) deliverAll(jobs []job) {
	for i := range jobs {
		b.deliver(&jobs[i])
	}
}

// deliver delivers one job: a queue or topic at once, retrying a failure in
// a goroutine; a function in a goroutine (counted by start).
func (b *Bus) deliver(j *job) {
	in, ok := j.t.render(j)
	if !ok { // an InputPath that selects nothing: there is nothing to send
		if j.t.kind == funcTarget {
			b.work.Done()
		}
		return
	}
	if j.t.kind == funcTarget {
		go b.retry(j, in, 0, nil)
		return
	}
	err := b.send(j, in)
	switch {
	case err == nil:
	case permanent(err):
		b.deadLetter(j, err, "", 0)
	default:
		b.mu.RLock()
		closed := b.closed
		if !closed {
			b.work.Add(1)
		}
		b.mu.RUnlock()
		if closed {
			b.deadLetter(j, err, "", 0)
			return
		}
		go b.retry(j, in, 1, err)
	}
}

// retry delivers a job in a goroutine of the bus, once attempts (made so
// far) allows, retrying failures as the target's retry policy says.
func (b *Bus) retry(j *job, in []byte, attempts int, lastErr error) {
	defer b.work.Done()
	for {
		if attempts > 0 {
			if attempts > j.t.maxRetries {
				b.deadLetter(j, lastErr, exhaustedAttempts, attempts-1)
				return
			}
			delay := max(b.backoff.Delay(attempts), 0)
			if time.Since(j.at)+delay > j.t.maxAge {
				b.deadLetter(j, lastErr, exhaustedAge, attempts-1)
				return
			}
			if !wait(delay, b.stop) {
				b.deadLetter(j, fmt.Errorf("memory: bus closed before retry %d: %w", attempts, lastErr), "", attempts-1)
				return
			}
		}
		err := b.send(j, in)
		attempts++
		if err == nil {
			return
		}
		lastErr = err
		if j.t.kind != funcTarget && permanent(err) {
			b.deadLetter(j, err, "", attempts-1)
			return
		}
	}
}

// send makes one delivery attempt.
func (b *Bus) send(j *job, in []byte) error {
	t := j.t
	switch t.kind {
	case funcTarget:
		return b.call(t.def.Func, in)
	case queueTarget:
		return sendQueue(b.ctx, t.def.Queue, t, in)
	case topicTarget:
		return publishTopic(b.ctx, t.def.Topic, t, in)
	}
	s, p := b.resolveARN(t.def.ARN)
	switch {
	case s != nil:
		return sendQueue(b.ctx, s, t, in)
	case p != nil:
		return publishTopic(b.ctx, p, t, in)
	}
	return &postroom.Error{Pkg: "memory", Op: "deliver", Code: "NO_RESOURCE",
		Message: "target " + t.def.ARN + " is not a queue or topic of the bus's world", Kind: postroom.ErrNotFound}
}

func sendQueue(ctx context.Context, s queue.Sender, t *busTarget, in []byte) error {
	m := &queue.Message{Body: in}
	if t.fifo {
		m.GroupID = t.def.MessageGroupID
	}
	return entryError(s.Send(ctx, m))
}

func publishTopic(ctx context.Context, p pubsub.Publisher, t *busTarget, in []byte) error {
	m := &pubsub.Message{Body: in}
	if t.fifo {
		m.GroupID = t.def.MessageGroupID
	}
	return entryError(p.Publish(ctx, m))
}

// entryError returns the error of the only entry of a one-entry batch.
func entryError(err error) error {
	if e := postroom.EntryErr(err, 0); e != nil {
		return e
	}
	return nil
}

// call calls a function target once with a copy of in, turning a panic into
// an error.
func (b *Bus) call(f func(context.Context, []byte) error, in []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("memory: function target panicked: %v", r)
		}
	}()
	return f(b.ctx, append([]byte(nil), in...))
}

// resolveARN finds the queue or topic of the bus's world that an SQS or
// SNS ARN names.
func (b *Bus) resolveARN(arn string) (queue.Sender, pubsub.Publisher) {
	if strings.HasPrefix(arn, "arn:aws:sqs:") {
		if q, err := b.world.QueueByARN(arn); err == nil {
			return q, nil
		}
	} else if t, err := b.world.TopicByARN(arn); err == nil {
		return nil, t
	}
	return nil, nil
}

// permanent reports whether a queue or topic delivery failed for a reason
// a retry cannot fix: EventBridge does not retry a target that is gone or
// refuses the request.
func permanent(err error) bool {
	for _, s := range []error{postroom.ErrInvalid, postroom.ErrTooLarge, postroom.ErrClosed, postroom.ErrNotFound, postroom.ErrUnsupported, postroom.ErrTooManyEntries} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// errorCode is the ERROR_CODE EventBridge gives a failed delivery.
func errorCode(t *busTarget, err error) string {
	switch {
	case errors.Is(err, postroom.ErrClosed), errors.Is(err, postroom.ErrNotFound):
		return "NO_RESOURCE"
	case errors.Is(err, postroom.ErrInvalid), errors.Is(err, postroom.ErrTooLarge), errors.Is(err, postroom.ErrTooManyEntries):
		return "INVALID_PARAMETER"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "TIMEOUT"
	case t.kind == funcTarget:
		return "ERROR_FROM_TARGET"
	}
	return "SDK_CLIENT_ERROR"
}

// deadLetter sends an event that could not be delivered to the target's
// dead-letter queue, as EventBridge does: the event as the bus wrote it,
// with attributes saying which rule and target failed and why. Without a
// dead-letter queue the event is dropped.
func (b *Bus) deadLetter(j *job, err error, exhausted string, retries int) {
	dlq := j.t.def.DeadLetter
	if dlq == nil {
		return
	}
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if !validate.ValidChars(msg) {
		msg = strconv.QuoteToASCII(msg)
	}
	attrs := queue.Attributes{
		"RULE_ARN":       queue.String(j.ruleARN),
		"TARGET_ARN":     queue.String(j.t.arn),
		"ERROR_CODE":     queue.String(errorCode(j.t, err)),
		"ERROR_MESSAGE":  queue.String(msg),
		"RETRY_ATTEMPTS": queue.Int(int64(retries)),
	}
	if exhausted != "" {
		attrs["EXHAUSTED_RETRY_CONDITION"] = queue.String(exhausted)
	}
	_ = dlq.Send(context.Background(), &queue.Message{Body: j.env, Attributes: attrs}) // nowhere left to report to
}
