package eventbus

import (
	"context"
	"encoding/json"
	"github.com/postroom/postroom/internal/registry"
	"net/url"
	"time"

	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// An Event is what a [Bus] puts: the caller's part of an EventBridge event.
type Event struct {
	// ID is set by Put.
	ID string
	// Source names what emitted the event, e.g. "com.example.orders".
	// Required.
	Source string
	// DetailType says what kind of event it is, e.g. "Order Placed".
	// Required.
	DetailType string
	// Detail is a JSON object. Required.
	Detail json.RawMessage
	// Resources are ARNs or other identifiers the event concerns.
	Resources []string
	// Time is the event's time; zero means the time of Put.
	Time time.Time
	// TraceHeader is an X-Ray trace header, carried but not delivered.
	TraceHeader string
}

// A Bus puts events and routes them by its rules.
type Bus interface {
	// Put puts 1 to 10 events, setting each one's ID. When some entries
	// fail it returns a *postroom.BatchError index-aligned with events; the
	// other entries are put.
	Put(ctx context.Context, events ...*Event) error
	Close() error
}

// A RuleManager manages a bus's rules and their targets.
type RuleManager interface {
	// PutRule creates or updates a rule; its targets are left as they
	// are. An invalid pattern returns an error matching
	// ErrInvalidPattern, with EventBridge's message.
	PutRule(ctx context.Context, r Rule) error
	DescribeRule(ctx context.Context, name string) (Rule, error)
	// ListRules lists the rules whose names start with prefix, by name.
	ListRules(ctx context.Context, prefix string) ([]Rule, error)
	// DeleteRule deletes a rule; a rule with targets must have them
	// removed first, as on EventBridge.
	DeleteRule(ctx context.Context, name string) error
	// PutTargets adds or replaces targets of a rule, by ID (at most 5 per
	// rule).
	PutTargets(ctx context.Context, rule string, targets ...Target) error
	RemoveTargets(ctx context.Context, rule string, ids ...string) error
	ListTargets(ctx context.Context, rule string) ([]Target, error)
}

// RuleState says whether a rule routes events.
type RuleState string

const (
	Enabled  RuleState = "ENABLED"
	Disabled RuleState = "DISABLED"
)

// A Rule routes the events its pattern matches to its targets.
type Rule struct {
	// Name is 1–64 characters from [.\-_A-Za-z0-9].
	Name string
	// ARN is set by DescribeRule and ListRules; PutRule ignores it.
	ARN         string
	Description string
	// EventPattern is an EventBridge event pattern (JSON).
	EventPattern string
	// State is Enabled when empty.
	State RuleState
}

// A Target is where a rule sends the events it matches. Exactly one of
// Queue, Topic, Func and ARN is set.
type Target struct {
	// ID is 1–64 characters from [.\-_A-Za-z0-9], unique in its rule.
	ID string

	Queue queue.Sender // a queue (an SQS target)
	Topic pubsub.Publisher
	// Func is called like EventBridge invokes a Lambda function, with the
	// event (or the transformed input) as JSON; an error is retried.
	Func func(ctx context.Context, input []byte) error
	// ARN names the target for drivers of a real service.
	ARN string

	// MessageGroupID is required for a FIFO queue target.
	MessageGroupID string

	// At most one of Input, InputPath and InputTransformer is set.
	// Input replaces the event with constant JSON.
	Input string
	// InputPath sends the part of the event a JSONPath selects, e.g.
	// "$.detail".
	InputPath string
	// InputTransformer builds the input from paths and a template.
	InputTransformer *InputTransformer

	// RetryPolicy bounds redelivery to a failing target.
	RetryPolicy RetryPolicy
	// DeadLetter receives events the target kept refusing, with the
	// failure described in attributes; nil drops them.
	DeadLetter queue.Sender
}

// An InputTransformer builds a target's input from parts of the event.
type InputTransformer struct {
	// InputPathsMap maps variable names to JSONPaths into the event.
	InputPathsMap map[string]string
	// InputTemplate is text with <variable> placeholders, including the
	// predefined aws.events.* variables. Values are inserted as they are,
	// not escaped, as EventBridge does.
	InputTemplate string
}

// RetryPolicy is EventBridge's retry policy. The zero value means the
// defaults: 185 attempts within 24 hours.
type RetryPolicy struct {
	// MaximumRetryAttempts is 0–185; nil means 185.
	MaximumRetryAttempts *int
	// MaximumEventAge is 60 s to 24 h; zero means 24 h.
	MaximumEventAge time.Duration
}

// An Archiver records the events a bus puts, for replay. Drivers of buses
// that can archive implement it; find it with a type assertion.
type Archiver interface {
	// CreateArchive starts archiving the events the bus puts from now on
	// that match opts.EventPattern (all of them when it is empty).
	// Replayed events are never archived. An existing name returns an
	// error matching postroom.ErrExists; an invalid pattern one matching
	// ErrInvalidPattern.
	CreateArchive(ctx context.Context, name string, opts ArchiveOptions) error
	// DescribeArchive reports an archive; an unknown name returns an error
	// matching postroom.ErrNotFound.
	DescribeArchive(ctx context.Context, name string) (Archive, error)
	// DeleteArchive deletes an archive and the events it holds.
	DeleteArchive(ctx context.Context, name string) error
}

// ArchiveOptions configure an archive.
type ArchiveOptions struct {
	Description string
	// EventPattern filters the events archived; empty archives every
	// event.
	EventPattern string
	// Retention is how long events are kept, counted from their
	// ingestion; EventBridge keeps whole days (rounded up). Zero keeps
	// them forever.
	Retention time.Duration
}

// Archive describes an archive.
type Archive struct {
	Name         string
	ARN          string
	Description  string
	EventPattern string
	Retention    time.Duration
	EventCount   int
	SizeBytes    int64
	CreationTime time.Time
}

// A Replayer puts archived events on the bus again. Drivers of buses that
// can replay implement it; find it with a type assertion.
type Replayer interface {
	// StartReplay starts replaying the events of an archive whose time
	// lies in [opts.Start, opts.End). Replayed events carry a
	// "replay-name" field and go to every rule of the bus, or only to
	// opts.Rules. A driver may replay asynchronously: DescribeReplay
	// reports its progress.
	StartReplay(ctx context.Context, opts ReplayOptions) (Replay, error)
	// DescribeReplay reports a replay; an unknown name returns an error
	// matching postroom.ErrNotFound.
	DescribeReplay(ctx context.Context, name string) (Replay, error)
}

// ReplayOptions configure a replay.
type ReplayOptions struct {
	// Name is 1–64 characters from [.\-_A-Za-z0-9], unique on the bus.
	Name        string
	Description string
	// Archive is the name of the archive to replay from.
	Archive string
	// Start and End bound the event times replayed: Start ≤ time < End.
	Start, End time.Time
	// Rules restricts the replay to these rules, by name; empty means
	// every rule of the bus.
	Rules []string
}

// ReplayState is the state of a replay.
type ReplayState string

// The states of a replay, as EventBridge names them.
const (
	ReplayStarting   ReplayState = "STARTING"
	ReplayRunning    ReplayState = "RUNNING"
	ReplayCancelling ReplayState = "CANCELLING"
	ReplayCompleted  ReplayState = "COMPLETED"
	ReplayCancelled  ReplayState = "CANCELLED"
	ReplayFailed     ReplayState = "FAILED"
)

// Replay describes a replay.
type Replay struct {
	Name    string
	ARN     string
	Archive string
	State   ReplayState
	// Start and End are the event-time window replayed.
	Start, End time.Time
	// ReplayStartTime and ReplayEndTime are when the replay ran.
	ReplayStartTime, ReplayEndTime time.Time
	// EventLastReplayedTime is the time of the last event replayed.
	EventLastReplayedTime time.Time
}

var openers = registry.New[Opener]("eventbus")

// An Opener opens buses for the URL schemes it is registered under.
// The method is named for what it opens, so that one driver value can
// be the Opener of several packages.
type Opener interface {
	OpenBusURL(ctx context.Context, u *url.URL) (Bus, error)
}

// Register makes o open bus URLs with scheme. It panics when scheme is
// registered already.
func Register(scheme string, o Opener) { openers.Register(scheme, o) }

// Open opens the bus a URL names, for example "mem://default".
func Open(ctx context.Context, rawURL string) (Bus, error) {
	o, u, err := openers.Lookup(rawURL)
	if err != nil {
		return nil, err
	}
	return o.OpenBusURL(ctx, u)
}

// Schemes returns the schemes eventbus.Open knows, sorted.
func Schemes() []string { return openers.Schemes() }
