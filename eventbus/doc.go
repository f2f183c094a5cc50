// Package eventbus defines the event-bus abstraction, shaped like an Amazon
// EventBridge bus: a [Bus] puts [Event] values, and [Rule] values with event
// patterns route them to [Target] values (queues, topics, functions), each
// with an optional input transformation.
//
// Patterns are EventBridge event patterns; package eventbus/pattern compiles
// and matches them, and is useful on its own to unit-test the patterns an
// application deploys.
//
// # The envelope
//
// A target receives the event as EventBridge writes it, with its fields in
// this order: version, id, detail-type, source, account, time, region,
// resources, detail, unless the target has an Input, an InputPath or an
// InputTransformer. A replayed event also has a replay-name, after region.
//
// # Errors
//
// Put reports entries that failed (a missing source, detail-type or detail;
// a detail that is not a JSON object; an oversize entry) in a
// *postroom.BatchError index-aligned with its input, while the valid entries go
// through. The sentinels of package queue apply; [ErrInvalidPattern] is
// returned for an invalid event pattern and [ErrLimitExceeded] for a rule
// with too many targets.
//
// # Archives and replay
//
// A bus that can archive and replay events implements [Archiver] and
// [Replayer], found with a type assertion.
package eventbus
