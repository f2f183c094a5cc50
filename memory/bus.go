package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/postroom/postroom/backoff"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/eventbus/pattern"
)

// EventBridge's limits and defaults, which BusOptions default to.
const (
	// defaultMaxEntrySize is the most a Put call's entries may add up to
	// by EventBridge's size formula: 1 MB since January 2026.
	defaultMaxEntrySize = 1 << 20
	// minMaxEntrySize is EventBridge's limit before 2026, 256 KB.
	minMaxEntrySize = 256 << 10
	// maxTargetsPerRule is how many targets a rule takes.
	maxTargetsPerRule = 5
	// defaultRetryAttempts and defaultMaxEventAge are EventBridge's
	// default retry policy: 185 retries within 24 hours.
	defaultRetryAttempts = 185
	defaultMaxEventAge   = 24 * time.Hour
	// minMaxEventAge is the shortest maximum event age a retry policy
	// takes.
	minMaxEventAge = time.Minute

	timeLayout  = "2006-01-02T15:04:05Z"
	defaultBus  = "default"
	maxBusName  = 256
	maxRuleName = 64
)

// BusOptions configure a memory bus. The zero value has EventBridge's
// current limits.
type BusOptions struct {
	// MaxEntrySize caps the size of a Put call's entries, computed with
	// EventBridge's formula (14 bytes for a Time, plus the UTF-8 bytes of
	// Source, DetailType, Detail and each resource): 256 KiB to 1 MiB; 0
	// means 1 MiB. Pin 256 KiB to test what EventBridge took before 2026.
	MaxEntrySize int
	// RetryBackoff gives the wait before each retry of a failed delivery
	// (attempt 1 is the first retry). nil means exponential backoff from
	// 1 s, doubling up to 10 minutes, with equal jitter: with the default
	// retry policy, 185 retries take about 24 hours, the two limits of
	// EventBridge's default policy running out together.
	RetryBackoff backoff.Policy
}

// Bus is an in-memory event bus with the semantics of an Amazon
// EventBridge bus (a "Classic" bus of rules and targets). Create one with
// NewBus; it is safe for concurrent use.
//
// # Putting events
//
// Put takes 1 to 10 entries. An entry without Source, DetailType or
// Detail fails with EventBridge's code InvalidArgument, and one whose
// Detail is not a JSON object in valid UTF-8 with MalformedDetail,
// reported by index in a *postroom.BatchError while the other entries are
// put. Entries whose sizes add up to more than BusOptions.MaxEntrySize fail
// the whole call.
//
// Targets receive the event as EventBridge writes it: the fields version,
// id, detail-type, source, account (the world's), time (UTC, to the
// second), region (the world's), resources and detail, in that order,
// without white space; the detail keeps its key order. A replayed event
// has a replay-name after region.
//
// # Rules and targets
//
// Rules match events with EventBridge patterns (package eventbus/pattern),
// all held in one index, so the cost of routing an event does not grow with
// the number of rules. A rule has at most 5 targets: a memory queue or any
// queue.Sender (an SQS target; a FIFO queue needs Target.MessageGroupID and,
// as on AWS, content-based deduplication, since EventBridge sends no
// deduplication id), a memory topic or any pubsub.Publisher (an SNS
// target), a Go function (a Lambda target), or the ARN of a queue or topic
// of the bus's World ("arn:aws:sqs:us-east-1:000000000000:orders"), looked
// up at each delivery.
// Each target may replace the event with its Input, the part of the event
// its InputPath selects, or the output of its InputTransformer.
//
// # Input transformers
//
// Paths are JSONPaths in dot notation ("$.detail.order.id", with array
// indexes such as "$.detail.lines[0]"); a placeholder that is neither a
// key of InputPathsMap nor a predefined variable (aws.events.rule-name,
// aws.events.rule-arn, aws.events.event.ingestion-time, aws.events.event,
// aws.events.event.json) fails PutTargets. Values are inserted without
// escaping, as EventBridge does. In a template that is a JSON object or
// array, a placeholder outside the template's strings takes the value's
// JSON text, so a string gets its quotes; inside a string, and in any
// other template, a string goes in as its bare characters. A path missing
// from the event gives an empty value (nothing inside a string, "" as a
// JSON value), and an InputPath that selects nothing delivers nothing. The
// output of a JSON template is minified.
//
// # Delivery and retries
//
// Queues and topics are sent to during Put. A function is called in a
// goroutine of the bus, as EventBridge invokes a Lambda function
// asynchronously. A failed delivery is retried as the target's RetryPolicy
// says (185 retries within 24 hours by default) after the delays of
// BusOptions.RetryBackoff; a function is retried whatever its error (on
// AWS, Lambda's own asynchronous retries would handle a function error),
// while a queue or topic that is closed, or that rejects the message as
// invalid or too large, is not retried, like a target that no longer
// exists on AWS. An event that runs out of retries goes to the target's
// DeadLetter, with EventBridge's attributes RULE_ARN, TARGET_ARN,
// ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS and EXHAUSTED_RETRY_CONDITION,
// or is dropped. Retries wait on timers, so a test in a testing/synctest
// bubble sees 24 hours of retries in an instant.
//
// # Archives and replay
//
// CreateArchive records the events put from then on that match its
// pattern; StartReplay puts an archive's events of a time window on the
// bus again, to every rule or to chosen ones, with a replay-name field.
// Unlike EventBridge, which replays in the background and in one-minute
// slices in no order, StartReplay replays synchronously, in event-time
// order, and returns a completed replay (function targets are still
// called asynchronously).
//
// # Errors
//
// Errors are *postroom.Error values with EventBridge's error codes and
// messages (ValidationException, ResourceNotFoundException,
// ResourceAlreadyExistsException, LimitExceededException,
// InvalidEventPatternException, and for entries InvalidArgument and
// MalformedDetail), matching the sentinels of package postroom,
// eventbus.ErrInvalidPattern and eventbus.ErrLimitExceeded.
type Bus struct {
	world   *World
	name    string
	arn     string
	opts    BusOptions
	backoff backoff.Policy
	matcher pattern.Matcher // the patterns of enabled rules, by rule name

	ctx    context.Context    // of deliveries; cancelled by Close
	cancel context.CancelFunc // cancels ctx
	stop   chan struct{}      // closed by Close: pending retries give up
	work   sync.WaitGroup     // function calls and retries in progress

	mu       sync.RWMutex // guards everything below
	closed   bool
	rules    map[string]*busRule
	archives map[string]*archive
	replays  map[string]eventbus.Replay
}

var (
	_ eventbus.Bus         = (*Bus)(nil)
	_ eventbus.RuleManager = (*Bus)(nil)
	_ eventbus.Archiver    = (*Bus)(nil)
	_ eventbus.Replayer    = (*Bus)(nil)
)

// NewBus returns a new bus in a new world of its own (see World). Its name
// follows EventBridge's rules: 1 to 256 characters from [/.\-_A-Za-z0-9];
// "default" names the account's default bus, whose rule ARNs do not include
// the bus name: NewBus("default", opts) returns the new world's default bus
// made with opts.
func NewBus(name string, opts BusOptions) (*Bus, error) {
	w := NewWorld(WorldOptions{})
	if name == defaultBus {
		b, err := newBus(w, name, opts)
		if err != nil {
			return nil, err
		}
		w.buses[name] = b
		return b, nil
	}
	return w.NewBus(name, opts)
}

// newBus makes a bus of w without adding it to w.
func newBus(w *World, name string, opts BusOptions) (*Bus, error) {
	if !validName(name, maxBusName, true) {
		return nil, invalidParam("create", "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+", name)
	}
	if opts.MaxEntrySize == 0 {
		opts.MaxEntrySize = defaultMaxEntrySize
	}
	if opts.MaxEntrySize < minMaxEntrySize || opts.MaxEntrySize > defaultMaxEntrySize {
		return nil, invalidParam("create", "MaxEntrySize must be between %d and %d bytes", minMaxEntrySize, defaultMaxEntrySize)
	}
	retry := opts.RetryBackoff
	if retry == nil {
		retry = backoff.Exponential{Initial: time.Second, Max: 10 * time.Minute, Jitter: backoff.EqualJitter}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Bus{
		world:    w,
		name:     name,
		arn:      w.busARN(name),
		opts:     opts,
		backoff:  retry,
		ctx:      ctx,
		cancel:   cancel,
		stop:     make(chan struct{}),
		rules:    make(map[string]*busRule),
		archives: make(map[string]*archive),
		replays:  make(map[string]eventbus.Replay),
	}, nil
}

// Name returns the bus's name.
func (b *Bus) Name() string { return b.name }

// ARN returns the bus's ARN, in its world's account and region.
func (b *Bus) ARN() string { return b.arn }

// World returns the world the bus belongs to.
func (b *Bus) World() *World { return b.world }

// Close closes the bus: later calls fail with an error matching
// postroom.ErrClosed, the context of running function targets is cancelled,
// pending retries give up (their events go to the targets' dead-letter
// queues), and Close waits for the function calls in progress. Targets
// stay open.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.stop)
	b.cancel()
	b.mu.Unlock()
	b.work.Wait()
	return nil
}

// Put puts 1 to 10 events (PutEvents), setting each one's ID, and routes
// them to the targets of the rules that match them. Entries that break a
// rule are reported in a *postroom.BatchError by index while the others are
// put; a call with no entries or more than 10, or whose entries add up to
// more than the size limit, puts nothing.
func (b *Bus) Put(ctx context.Context, events ...*eventbus.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.checkEntries(events); err != nil {
		return err
	}
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(events))
		}
		errs[i] = err
	}
	now := time.Now()
	ids := newIDs(len(events))
	envs := make([][]byte, len(events))
	for i, e := range events {
		if err := checkEntry(e); err != nil {
			fail(i, err)
			continue
		}
		env, ok := b.appendEnvelope(nil, ids[i*idLen:(i+1)*idLen], e, eventTime(e, now), "")
		if !ok {
			fail(i, errMalformedDetail())
			continue
		}
		envs[i] = env
	}

	var jobs []job
	var names []string
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return errClosed("put")
	}
	for i, e := range events {
		if envs[i] == nil {
			continue
		}
		e.ID = ids[i*idLen : (i+1)*idLen]
		jobs, names = b.route(jobs, names, envs[i], now, nil)
		for _, a := range b.archives {
			a.record(envs[i], eventTime(e, now), now, entrySize(e))
		}
	}
	b.start(jobs)
	b.mu.RUnlock()

	b.deliverAll(jobs)
	return postroom.NewBatchError("memory", errs)
}

// checkEntries applies EventBridge's limits on a PutEvents call as a
// whole.
func (b *Bus) checkEntries(events []*eventbus.Event) error {
	switch {
	case len(events) == 0:
		return &postroom.Error{Pkg: "memory", Op: "put", Code: "ValidationException",
			Message: "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
			Kind:    postroom.ErrTooManyEntries}
	case len(events) > maxBatch:
		return &postroom.Error{Pkg: "memory", Op: "put", Code: "ValidationException",
			Message: fmt.Sprintf("1 validation error detected: Value '[PutEventsRequestEntry(…) × %d]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to %d", len(events), maxBatch),
			Kind:    postroom.ErrTooManyEntries}
	}
	total := 0
	for _, e := range events {
		total += entrySize(e)
	}
	if total > b.opts.MaxEntrySize {
		return &postroom.Error{Pkg: "memory", Op: "put", Code: "ValidationException",
			Message: "Total size of the entries in the request is over the limit.", Kind: postroom.ErrTooLarge}
	}
	return nil
}

// entrySize is EventBridge's PutEvents entry size: 14 bytes for a Time,
// plus the UTF-8 bytes of Source, DetailType, Detail and each resource.
func entrySize(e *eventbus.Event) int {
	if e == nil {
		return 0
	}
	n := len(e.Source) + len(e.DetailType) + len(e.Detail)
	if !e.Time.IsZero() {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// checkEntry applies EventBridge's rules to one entry.
func checkEntry(e *eventbus.Event) error {
	switch {
	case e == nil || e.Source == "":
		return entryErr("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")
	case e.DetailType == "":
		return entryErr("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument.")
	case len(e.Detail) == 0:
		return entryErr("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")
	case !jsonObject(e.Detail) || !utf8.Valid(e.Detail):
		return errMalformedDetail()
	case !utf8.ValidString(e.Source) || !utf8.ValidString(e.DetailType):
		return entryErr("InvalidArgument", "Parameter Source or DetailType is not valid UTF-8.")
	}
	for _, r := range e.Resources {
		if !utf8.ValidString(r) {
			return entryErr("InvalidArgument", "Parameter Resources is not valid. Reason: Resources must be valid UTF-8.")
		}
	}
	return nil
}

func errMalformedDetail() error { return entryErr("MalformedDetail", "Detail is malformed.") }

// eventTime is the time of an event: its own, or the time of Put.
func eventTime(e *eventbus.Event, now time.Time) time.Time {
	if e.Time.IsZero() {
		return now
	}
	return e.Time
}

func entryErr(code, message string) error {
	return &postroom.Error{Pkg: "memory", Op: "put", Code: code, Message: message, Kind: postroom.ErrInvalid}
}

// jsonObject reports whether b starts like a JSON object; appendEnvelope
// checks the rest.
func jsonObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// appendEnvelope appends the event as EventBridge delivers it, minified, in
// EventBridge's field order, with a replay-name when replay is not empty.
// It reports false when e.Detail is not valid JSON.
func (b *Bus) appendEnvelope(dst []byte, id string, e *eventbus.Event, at time.Time, replay string) ([]byte, bool) {
	w := b.world
	buf := bytes.NewBuffer(dst)
	buf.Grow(192 + len(e.Source) + len(e.DetailType) + len(e.Detail) + len(replay))
	buf.WriteString(`{"version":"0","id":"`)
	buf.WriteString(id)
	buf.WriteString(`","detail-type":`)
	writeJSONString(buf, e.DetailType)
	buf.WriteString(`,"source":`)
	writeJSONString(buf, e.Source)
	buf.WriteString(`,"account":"`)
	buf.WriteString(w.account)
	buf.WriteString(`","time":"`)
	buf.Write(at.UTC().AppendFormat(buf.AvailableBuffer(), timeLayout))
	buf.WriteString(`","region":"`)
	buf.WriteString(w.region)
	buf.WriteByte('"')
	if replay != "" {
		buf.WriteString(`,"replay-name":`)
		writeJSONString(buf, replay)
	}
	buf.WriteString(`,"resources":[`)
	for i, r := range e.Resources {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeJSONString(buf, r)
	}
	buf.WriteString(`],"detail":`)
	if err := json.Compact(buf, e.Detail); err != nil {
		return nil, false
	}
	buf.WriteByte('}')
	return buf.Bytes(), true
}

// writeJSONString writes s as a JSON string, escaping what JSON requires
// and nothing more (no HTML escaping), as EventBridge does.
func writeJSONString(buf *bytes.Buffer, s string) {
	buf.Write(appendJSONString(buf.AvailableBuffer(), s))
}

// appendJSONString appends s as a JSON string to dst.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// route appends a job for every target of every enabled rule matching env
// (restricted to only, when it is not nil). Callers hold b.mu.
func (b *Bus) route(jobs []job, names []string, env []byte, now time.Time, only map[string]bool) ([]job, []string) {
	names, err := b.matcher.MatchAppend(names[:0], env)
	if err != nil {
		return jobs, names // cannot happen: env is well-formed
	}
	for _, name := range names {
		r := b.rules[name]
		if r == nil || (only != nil && !only[name]) {
			continue
		}
		for _, t := range r.targets {
			jobs = append(jobs, job{rule: r.def.Name, ruleARN: r.def.ARN, t: t, env: env, at: now})
		}
	}
	return jobs, names
}

// ebError returns a *postroom.Error with an EventBridge error code.
func ebError(op, code, message string, sentinel error) *postroom.Error {
	return &postroom.Error{Pkg: "memory", Op: op, Code: code, Message: message, Kind: sentinel}
}

// invalidParam returns a ValidationException.
func invalidParam(op, format string, args ...any) *postroom.Error {
	return ebError(op, "ValidationException", fmt.Sprintf(format, args...), postroom.ErrInvalid)
}

// validName reports whether s is 1 to max characters from [.\-_A-Za-z0-9],
// and '/' when slash is set: EventBridge's rule for rule, target, archive,
// replay and (with '/') bus names.
func validName(s string, max int, slash bool) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		case c == '/' && slash:
		default:
			return false
		}
	}
	return true
}

// nameError returns EventBridge's ValidationException for an invalid name
// of field (a name, targets.N.member.id, …).
func nameError(op, field, value string, max int) error {
	if len(value) > max {
		return invalidParam(op, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", value, field, max)
	}
	if value == "" {
		return invalidParam(op, "1 validation error detected: Value '' at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", field)
	}
	return invalidParam(op, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", value, field)
}
