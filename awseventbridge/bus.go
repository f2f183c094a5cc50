package awseventbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/internal/awsbatch"
)

// EventBridge's fixed limits.
const (
	MaxBatch            = 10      // entries of one PutEvents call
	DefaultMaxEntrySize = 1 << 20 // bytes of a PutEvents call's entries, by EventBridge's formula
	MaxTargets          = 5       // targets of one rule
)

// DefaultBatchWait is how long a Put of one event waits for others to share
// its PutEvents call, unless Options.BatchWait says otherwise.
const DefaultBatchWait = 5 * time.Millisecond

// Options tune a [Bus]. The zero value works.
type Options struct {
	// MaxEntrySize is the most a PutEvents call's entries may add up to
	// (EventBridge's formula: see [EntrySize]). Zero means
	// DefaultMaxEntrySize, EventBridge's limit since 2026; set 256 KiB
	// for a service that keeps the earlier one.
	MaxEntrySize int
	// BatchWait is how long a Put of one event waits for Puts from other
	// goroutines to share one PutEvents call, when others are under way
	// (one made alone goes at once). Zero means
	// DefaultBatchWait; negative puts each event on its own.
	BatchWait time.Duration
	// EntryRetries is how many times an entry that failed with a
	// retryable code is put again. Zero means 3; negative never.
	EntryRetries int
	// RetryBackoff is the first pause before a retry. Zero means 50 ms.
	RetryBackoff time.Duration
}

// A Bus is an EventBridge event bus. It is safe for concurrent use.
type Bus struct {
	api  api
	name string
	arn  string
	opts Options

	puts   *awsbatch.Coalescer[*eventbus.Event]
	closed atomic.Bool
}

var (
	_ eventbus.Bus         = (*Bus)(nil)
	_ eventbus.RuleManager = (*Bus)(nil)
	_ eventbus.Archiver    = (*Bus)(nil)
	_ eventbus.Replayer    = (*Bus)(nil)
)

// New opens the event bus called name ("default" for the account's
// default bus) through client.
func New(ctx context.Context, client *eventbridge.Client, name string, opts Options) (*Bus, error) {
	return open(ctx, client, name, opts)
}

// NewFromConfig is New with a client made from cfg.
func NewFromConfig(ctx context.Context, cfg aws.Config, name string, opts Options) (*Bus, error) {
	return open(ctx, eventbridge.NewFromConfig(cfg), name, opts)
}

func open(ctx context.Context, c api, name string, opts Options) (*Bus, error) {
	if opts.MaxEntrySize <= 0 {
		opts.MaxEntrySize = DefaultMaxEntrySize
	}
	if opts.BatchWait == 0 {
		opts.BatchWait = DefaultBatchWait
	}
	if opts.EntryRetries == 0 {
		opts.EntryRetries = 3
	}
	opts.EntryRetries = max(opts.EntryRetries, 0)
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 50 * time.Millisecond
	}
	out, err := c.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: &name})
	if err != nil {
		return nil, wrapErr("open "+strconv.Quote(name), err)
	}
	b := &Bus{api: c, name: aws.ToString(out.Name), arn: aws.ToString(out.Arn), opts: opts}
	b.puts = awsbatch.NewCoalescer(opts.BatchWait, MaxBatch, opts.MaxEntrySize, EntrySize, b.putBatch)
	return b, nil
}

// Name returns the bus's name.
func (b *Bus) Name() string { return b.name }

// ARN returns the bus's ARN.
func (b *Bus) ARN() string { return b.arn }

// Close makes later calls fail with ErrClosed.
func (b *Bus) Close() error {
	b.closed.Store(true)
	return nil
}

// EntrySize is EventBridge's size of a PutEvents entry: 14 bytes for a
// Time, plus the UTF-8 bytes of Source, DetailType, Detail and each
// resource.
func EntrySize(e *eventbus.Event) int {
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

// Put puts 1 to 10 events with PutEvents. An entry the driver can tell
// EventBridge would refuse (no Source or DetailType, a Detail that is not
// a JSON object) is reported in an index-aligned *postroom.BatchError with
// EventBridge's code, and the others are put; entries that fail with a
// retryable code are put again, alone. A call whose entries add up to more
// than Options.MaxEntrySize puts nothing and fails with ErrTooLarge.
//
// A Put of one event made while other Puts are under way waits up to
// Options.BatchWait to share a PutEvents call with them; made alone, it is
// put at once.
func (b *Bus) Put(ctx context.Context, events ...*eventbus.Event) error {
	if b.closed.Load() {
		return errClosed("put")
	}
	switch {
	case len(events) == 0:
		return &postroom.Error{Pkg: pkgName, Op: "put", Code: "ValidationException",
			Message: "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
			Kind:    postroom.ErrTooManyEntries}
	case len(events) > MaxBatch:
		return &postroom.Error{Pkg: pkgName, Op: "put", Code: "ValidationException",
			Message: fmt.Sprintf("1 validation error detected: Value '[PutEventsRequestEntry(…) × %d]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to %d", len(events), MaxBatch),
			Kind:    postroom.ErrTooManyEntries}
	}
	total := 0
	for _, e := range events {
		total += EntrySize(e)
	}
	if total > b.opts.MaxEntrySize {
		return &postroom.Error{Pkg: pkgName, Op: "put", Code: "ValidationException",
			Message: "Total size of the entries in the request is over the limit.", Kind: postroom.ErrTooLarge}
	}
	errs := make([]error, len(events))
	var valid []*eventbus.Event
	var at []int
	for i, e := range events {
		if errs[i] = checkEntry(e); errs[i] == nil {
			valid, at = append(valid, e), append(at, i)
		}
	}
	if len(events) == 1 {
		if errs[0] != nil {
			return errs[0]
		}
		return b.puts.One(ctx, events[0])
	}
	if len(valid) > 0 {
		for k, err := range b.putBatch(ctx, valid) {
			errs[at[k]] = err
		}
	}
	return awsbatch.Result(errs, newBatchError)
}

// checkEntry applies EventBridge's rules to one entry.
func checkEntry(e *eventbus.Event) error {
	switch {
	case e == nil || e.Source == "":
		return entryErr("put", "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")
	case e.DetailType == "":
		return entryErr("put", "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument.")
	case len(e.Detail) == 0:
		return entryErr("put", "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")
	case !jsonObject(e.Detail):
		return entryErr("put", "MalformedDetail", "Detail is malformed.")
	case !utf8.ValidString(e.Source) || !utf8.ValidString(e.DetailType):
		return entryErr("put", "InvalidArgument", "Parameter Source or DetailType is not valid UTF-8.")
	}
	return nil
}

func jsonObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}

func (b *Bus) putBatch(ctx context.Context, events []*eventbus.Event) []error {
	r := awsbatch.Retry{
		Retries:   b.opts.EntryRetries,
		Backoff:   b.opts.RetryBackoff,
		Retryable: retryable,
		EntryErr:  func(code, msg string) error { return entryErr("put", code, msg) },
		CallErr:   func(err error) error { return wrapErr("put", err) },
		NoResult: func() error {
			return &postroom.Error{Pkg: pkgName, Op: "put", Message: "the service returned no result for this entry", Kind: postroom.ErrUnavailable}
		},
	}
	return r.Do(ctx, len(events), func(ctx context.Context, idx []int) ([]string, []awsbatch.Failure, error) {
		in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(idx))}
		for k, i := range idx {
			e := events[i]
			en := types.PutEventsRequestEntry{
				EventBusName: &b.name,
				Source:       aws.String(e.Source),
				DetailType:   aws.String(e.DetailType),
				Detail:       aws.String(string(e.Detail)),
				Resources:    e.Resources,
			}
			if !e.Time.IsZero() {
				en.Time = aws.Time(e.Time)
			}
			if e.TraceHeader != "" {
				en.TraceHeader = aws.String(e.TraceHeader)
			}
			in.Entries[k] = en
		}
		out, err := b.api.PutEvents(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		// Results are positional: entry k of the output is entry k of the
		// input.
		var ok []string
		var failed []awsbatch.Failure
		for k, res := range out.Entries {
			if k >= len(idx) {
				break
			}
			id := strconv.Itoa(idx[k])
			if res.ErrorCode != nil {
				failed = append(failed, awsbatch.Failure{ID: id, Code: aws.ToString(res.ErrorCode), Message: aws.ToString(res.ErrorMessage)})
				continue
			}
			events[idx[k]].ID = aws.ToString(res.EventId)
			ok = append(ok, id)
		}
		return ok, failed, nil
	})
}
