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
