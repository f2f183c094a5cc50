// Package postroom holds the error vocabulary shared by every abstraction
// (queue, pubsub, eventbus, broker) and every driver: the sentinels matched
// with errors.Is, the service error that keeps a service's own code and
// message, and the index-aligned batch error.
//
// An error names the package that produced it, once: a memory queue says
// "memory: receive: ReceiptHandleIsInvalid: …", the AMQP driver
// "amqp: send: …", whatever abstraction the call went through. The sentinels
// say what kind of failure it was, so one check serves every driver:
//
//	if errors.Is(err, postroom.ErrNotFound) { … }
//
// The driver's own error (an SDK error, a network error) stays reachable
// with errors.As through [Error.Err].
package postroom

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Drivers wrap them, so match with errors.Is. Like the
// sentinels of io/fs, their text has no package prefix: the package that
// wraps one names itself ("amqp: ack: receipt handle has expired").
var (
	// ErrInvalid reports a bad argument or option: a malformed attribute
	// name, a delay out of range, an unknown URL parameter.
	ErrInvalid = errors.New("invalid argument")
	// ErrTooLarge reports a message or batch over the transport's size
	// limit. Nothing of it was sent.
	ErrTooLarge = errors.New("message too large")
	// ErrTooManyEntries reports a batch with too many (or no) entries.
	ErrTooManyEntries = errors.New("wrong number of batch entries")
	// ErrNotFound reports a queue, topic, bus, rule or other resource that
	// does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists reports a resource that already exists with other settings.
	ErrExists = errors.New("already exists")
	// ErrReceiptExpired reports a receipt whose message was received again
	// or is no longer in flight: the ack or visibility change came too late.
	ErrReceiptExpired = errors.New("receipt handle has expired")
	// ErrReceiptInvalid reports a receipt that the receiver never issued.
	ErrReceiptInvalid = errors.New("receipt handle is invalid")
	// ErrClosed reports a call on a closed queue, topic, bus or broker.
	ErrClosed = errors.New("closed")
	// ErrUnsupported reports an operation that the driver or its transport
	// cannot do. Drivers return it rather than do nothing.
	ErrUnsupported = errors.New("operation not supported")
	// ErrPurgeInProgress reports a purge within 60 seconds of the last one.
	ErrPurgeInProgress = errors.New("purge in progress")
	// ErrThrottled reports that the service refused the call for its rate
	// (SQS OverLimit with a request rate, throttling, KMS throttling). It is
	// worth retrying after a pause.
	ErrThrottled = errors.New("throttled")
	// ErrUnavailable reports that the service or broker could not be
	// reached or failed on its side. It is worth retrying.
	ErrUnavailable = errors.New("service unavailable")
)

// kindText returns a sentinel's text.
func kindText(pkg string, err error) string {
	// A driver's own sentinel ("amqp: durable queue lost: not found")
	// would name the package a second time.
	return strings.TrimPrefix(err.Error(), pkg+": ")
}

// Error is an error with the name of the package that produced it, the
// operation, and, for a service error, the service's own code and message
// (for SQS, "QueueDoesNotExist" and "The specified queue does not exist.").
//
// Its text is "Pkg: Op: Code: Message", leaving out empty parts; without a
// Code the kind stands in its place ("memory: open \"x\": invalid argument:
// unknown parameter"), and without a Message the cause's text is used.
type Error struct {
	Pkg     string // the package that produced the error: "memory", "amqp"
	Op      string // the operation: "send", `describe rule "nope"`
	Code    string // the service's error code, or ""
	Message string // the service's message, or a detail, or ""
	Kind    error  // one of this package's sentinels, matched by errors.Is
	Err     error  // the driver's or SDK's own error, or nil
}

func (e *Error) Error() string { return e.text(true) }

// text formats e, with or without its package prefix.
func (e *Error) text(withPkg bool) string {
	var b strings.Builder
	sep := func() {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
	}
	if withPkg && e.Pkg != "" {
		b.WriteString(e.Pkg)
	}
	if e.Op != "" {
		sep()
		b.WriteString(e.Op)
	}
	switch {
	case e.Code != "":
		sep()
		b.WriteString(e.Code)
	case e.Kind != nil && (e.Message != "" || e.Err == nil):
		sep()
		b.WriteString(kindText(e.Pkg, e.Kind))
	}
	switch {
	case e.Message != "":
		sep()
		b.WriteString(e.Message)
	case e.Err != nil:
		sep()
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the kind and the cause.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// BatchError reports a batch call in which some entries failed. Errs is
// index-aligned with the call's input: Errs[i] is nil when entry i
// succeeded. The entries that succeeded were done exactly once; retry
// exactly the failed ones.
type BatchError struct {
	Pkg  string  // the package that produced the error
	Errs []error // one per input entry; nil where the entry succeeded
}

// NewBatchError returns a *BatchError of package pkg for errs, or nil when
// every entry of errs is nil.
func NewBatchError(pkg string, errs []error) error {
	for _, err := range errs {
		if err != nil {
			return &BatchError{Pkg: pkg, Errs: errs}
		}
	}
	return nil
}

func (e *BatchError) Error() string {
	failed := e.Failed()
	var b strings.Builder
	if e.Pkg != "" {
		b.WriteString(e.Pkg)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%d of %d batch entries failed", len(failed), len(e.Errs))
	for n, i := range failed {
		if n == 3 {
			fmt.Fprintf(&b, "; and %d more", len(failed)-n)
			break
		}
		b.WriteString("; [")
		b.WriteString(strconv.Itoa(i))
		b.WriteString("]: ")
		var pe *Error
		if errors.As(e.Errs[i], &pe) && pe == e.Errs[i] && pe.Pkg == e.Pkg {
			b.WriteString(pe.text(false))
		} else {
			b.WriteString(e.Errs[i].Error())
		}
	}
	return b.String()
}

// Failed returns the indexes of the entries that failed, in order.
func (e *BatchError) Failed() []int {
	var idx []int
	for i, err := range e.Errs {
		if err != nil {
			idx = append(idx, i)
		}
	}
	return idx
}

// Unwrap returns the entries' errors, so that errors.Is matches when any
// entry matches.
func (e *BatchError) Unwrap() []error {
	var errs []error
	for _, err := range e.Errs {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// EntryErr returns the error of entry i of a batch call's err: nil when err
// is nil or is a *BatchError whose entry i succeeded, err itself when it is
// not a *BatchError (the whole call failed).
func EntryErr(err error, i int) error {
	if err == nil {
		return nil
	}
	var be *BatchError
	if errors.As(err, &be) {
		if i < 0 || i >= len(be.Errs) {
			return nil
		}
		return be.Errs[i]
	}
	return err
}
