package consumer

import (
	"errors"
	"fmt"
)

// ErrPermanent marks a handler error that retrying cannot fix: a message
// that does not parse, a reference to something that does not exist. A
// [Consumer] moves such a message to its dead-letter sender at once, or
// does what Retry.Permanent says (see [PermanentAction]). Return
// [Permanent](err) from a handler, and match with errors.Is(err,
// ErrPermanent).
var ErrPermanent = errors.New("consumer: permanent failure")

// Permanent wraps err so that it matches [ErrPermanent] while err stays
// reachable with [errors.Is] and [errors.As]. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error and ErrPermanent.
func (e *permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }

// ErrExhausted is the cause a [Consumer] gives (to [Hooks].DeadLettered)
// for a message it moves to its dead-letter sender because the message was
// received more times than Retry.MaxAttempts allows before its
// handler ran (for example when earlier consumers crashed on it).
var ErrExhausted = errors.New("consumer: message exceeded its maximum number of attempts")

// PanicError is the error a [Consumer] records for a handler that
// panicked: the message is nacked like any failed one, and the panic is
// reported to [Hooks].Panic.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the goroutine's stack at the panic
}

func (e *PanicError) Error() string { return fmt.Sprintf("consumer: handler panicked: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
