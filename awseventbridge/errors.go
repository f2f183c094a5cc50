package awseventbridge

import (
	"fmt"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/internal/awsbatch"
)

// pkgName is the name errors of this package start with.
const pkgName = "awseventbridge"

func newBatchError(errs []error) error { return postroom.NewBatchError(pkgName, errs) }

// ErrRetryQuotaExceeded reports that the SDK gave up on a call without
// asking the service, its client-side retry quota being empty. It matches
// postroom.ErrThrottled too.
var ErrRetryQuotaExceeded = fmt.Errorf("client-side retry quota exceeded: %w", postroom.ErrThrottled)

// codes maps EventBridge error codes (of calls and of PutEvents entries)
// to the shared sentinels.
var codes = map[string]error{
	"ResourceNotFoundException":           postroom.ErrNotFound,
	"ResourceAlreadyExistsException":      postroom.ErrExists,
	"ValidationException":                 postroom.ErrInvalid,
	"InvalidEventPatternException":        eventbus.ErrInvalidPattern,
	"InvalidArgument":                     postroom.ErrInvalid,
	"MalformedDetail":                     postroom.ErrInvalid,
	"MalformedDetailException":            postroom.ErrInvalid,
	"InvalidStateException":               postroom.ErrInvalid,
	"IllegalStatusException":              postroom.ErrInvalid,
	"ManagedRuleException":                postroom.ErrInvalid,
	"AccessDeniedException":               postroom.ErrInvalid,
	"NotAuthorizedForSourceException":     postroom.ErrInvalid,
	"LimitExceededException":              eventbus.ErrLimitExceeded,
	"ConcurrentModificationException":     postroom.ErrUnavailable,
	"ThrottlingException":                 postroom.ErrThrottled,
	"Throttling":                          postroom.ErrThrottled,
	"InternalException":                   postroom.ErrUnavailable,
	"InternalFailure":                     postroom.ErrUnavailable,
	"ServiceUnavailable":                  postroom.ErrUnavailable,
	"OperationDisabledException":          postroom.ErrUnsupported,
	"UnsupportedOperationException":       postroom.ErrUnsupported,
	"PolicyLengthExceededException":       postroom.ErrTooLarge,
	"InvalidParameterValueException":      postroom.ErrInvalid,
	"EventBridge.ValidationException":     postroom.ErrInvalid,
	"KmsKeyNotFoundException":             postroom.ErrNotFound,
	"KmsKeyAccessDeniedException":         postroom.ErrInvalid,
	"EntrySizeTooLarge":                   postroom.ErrTooLarge,
	"InvalidEventBusName":                 postroom.ErrInvalid,
	"EventBusNotFound":                    postroom.ErrNotFound,
	"ResourceNotFound":                    postroom.ErrNotFound,
	"ConcurrentModification":              postroom.ErrUnavailable,
	"InternalError":                       postroom.ErrUnavailable,
	"InternalFailureException":            postroom.ErrUnavailable,
	"ThrottlingExceptionForPutEventsCall": postroom.ErrThrottled,
}

func retryable(code string, _ bool) bool {
	switch codes[code] {
	case postroom.ErrThrottled, postroom.ErrUnavailable:
		return true
	}
	return false
}

func entryErr(op, code, msg string) error {
	return &postroom.Error{Pkg: pkgName, Op: op, Code: code, Message: msg, Kind: codes[code]}
}

// wrapErr turns an SDK error into an error of this package.
func wrapErr(op string, err error) error {
	return awsbatch.WrapErr(pkgName, op, err, kindOf, ErrRetryQuotaExceeded)
}

// kindOf returns the sentinel of a service error code, or nil.
func kindOf(code, _ string) error { return codes[code] }

func invalid(op, code, format string, args ...any) error {
	return &postroom.Error{Pkg: pkgName, Op: op, Code: code, Message: fmt.Sprintf(format, args...), Kind: postroom.ErrInvalid}
}

func errClosed(op string) error {
	return &postroom.Error{Pkg: pkgName, Op: op, Kind: postroom.ErrClosed}
}
