// Package errkit builds the errors of package postroom for the drivers of
// this module, so that every error names its package once and carries a
// sentinel.
package errkit

import (
	"fmt"

	"github.com/postroom/postroom"
)

// Pkg is the name of the package that produces errors: "memory", "amqp".
type Pkg string

// New returns an error of kind with a detail message.
func (p Pkg) New(kind error, op, msg string) *postroom.Error {
	return &postroom.Error{Pkg: string(p), Op: op, Kind: kind, Message: msg}
}

// Errorf returns an error of kind with a formatted detail message.
func (p Pkg) Errorf(kind error, op, format string, args ...any) *postroom.Error {
	return &postroom.Error{Pkg: string(p), Op: op, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind caused by cause.
func (p Pkg) Wrap(kind error, op string, cause error) *postroom.Error {
	return &postroom.Error{Pkg: string(p), Op: op, Kind: kind, Err: cause}
}

// Service returns an error of kind with a service's own code and message.
func (p Pkg) Service(kind error, op, code, msg string) *postroom.Error {
	return &postroom.Error{Pkg: string(p), Op: op, Kind: kind, Code: code, Message: msg}
}

// Closed returns the error of an operation on a closed value.
func (p Pkg) Closed(op string) *postroom.Error {
	return &postroom.Error{Pkg: string(p), Op: op, Kind: postroom.ErrClosed}
}

// Unsupported returns the error of an operation the driver cannot do.
func (p Pkg) Unsupported(op, why string) *postroom.Error {
	return &postroom.Error{Pkg: string(p), Op: op, Kind: postroom.ErrUnsupported, Message: why}
}

// Batch returns a *postroom.BatchError for errs, or nil when all are nil.
func (p Pkg) Batch(errs []error) error {
	return postroom.NewBatchError(string(p), errs)
}

// Reason returns an error of op that matches sentinel, with why after it:
// "stomp: send: too many entries: no messages".
func (p Pkg) Reason(op string, sentinel error, why string) error {
	return fmt.Errorf("%s: %s: %w: %s", p, op, sentinel, why)
}

// Context returns the error of an operation whose context ended with err
// (ctx.Err()), naming last, the failure that kept it from completing,
// when there is one.
func (p Pkg) Context(op string, err, last error) error {
	if last != nil {
		return fmt.Errorf("%s: %s: %w (last error: %v)", p, op, err, last)
	}
	return fmt.Errorf("%s: %s: %w", p, op, err)
}
