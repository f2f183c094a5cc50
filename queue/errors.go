package queue

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Drivers wrap them, so match with [errors.Is].
var (
	// ErrInvalid reports an argument the transport rejects: a bad attribute
	// name, a missing group id on a FIFO queue, a delay out of range.
	ErrInvalid = errors.New("queue: invalid argument")

	// ErrTooLarge reports a message, or a batch, over the size limit.
	ErrTooLarge = errors.New("queue: message too large")

	// ErrTooManyEntries reports a batch with more entries than the
	// transport takes in one call, or none.
	ErrTooManyEntries = errors.New("queue: wrong number of batch entries")

	// ErrNotFound reports a queue that does not exist.
	ErrNotFound = errors.New("queue: not found")

	// ErrExists reports a queue that exists with other attributes.
	ErrExists = errors.New("queue: already exists")

	// ErrReceiptExpired reports a receipt whose visibility timeout has
	// passed, where the transport refuses it (SQS FIFO queues).
	ErrReceiptExpired = errors.New("queue: receipt handle has expired")

	// ErrReceiptInvalid reports a receipt the queue never issued, or one
	// for a message that no longer exists.
	ErrReceiptInvalid = errors.New("queue: receipt handle is invalid")

	// ErrClosed reports a call on a closed queue, or on a connection that
	// went away and will not come back.
	ErrClosed = errors.New("queue: closed")

	// ErrUnsupported reports an operation the transport cannot do.
	ErrUnsupported = errors.New("queue: operation not supported")

	// ErrPurgeInProgress reports a second purge within a minute (SQS).
	ErrPurgeInProgress = errors.New("queue: purge in progress")
)

// Error is a transport error with the service's own code and message (for
// SQS and the memory driver, the AWS error code and text). It unwraps to
// one of the sentinels of this package and, where there is one, to the
// driver's own error.
type Error struct {
	Op      string // the operation: "send", "receive", "ack", …
	Code    string // the service's error code, e.g. "InvalidParameterValue"
	Message string // the service's message, e.g. "The receipt handle has expired."
	Err     error  // a sentinel of this package
	Cause   error  // the driver's own error, or nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("queue: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Code != "" {
		b.WriteString(e.Code)
		b.WriteString(": ")
	}
	switch {
	case e.Message != "":
		b.WriteString(e.Message)
	case e.Cause != nil:
		b.WriteString(e.Cause.Error())
	case e.Err != nil:
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "queue: "))
	}
	return b.String()
}

// Unwrap returns the sentinel and the driver's error.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// BatchError reports a batch call in which some entries failed. Errs is
// index-aligned with the call's input: Errs[i] is nil when entry i
// succeeded.
type BatchError struct {
	Errs []error
}

// NewBatchError returns a *BatchError for errs, or nil when every entry
// of errs is nil.
func NewBatchError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return &BatchError{Errs: errs}
		}
	}
	return nil
}

func (e *BatchError) Error() string {
	failed := e.Failed()
	var b strings.Builder
	fmt.Fprintf(&b, "queue: %d of %d batch entries failed", len(failed), len(e.Errs))
	for n, i := range failed {
		if n == 3 {
			fmt.Fprintf(&b, "; and %d more", len(failed)-n)
			break
		}
		b.WriteString("; [")
		b.WriteString(strconv.Itoa(i))
		b.WriteString("]: ")
		b.WriteString(e.Errs[i].Error())
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
// is nil or the entry succeeded, err itself when err is not a *BatchError
// (the whole call failed).
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
