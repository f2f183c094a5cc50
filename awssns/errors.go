package awssns

import (
	"fmt"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/awsbatch"
)

// pkgName is the name errors of this package start with.
const pkgName = "awssns"

func newBatchError(errs []error) error { return postroom.NewBatchError(pkgName, errs) }

// ErrRetryQuotaExceeded reports that the SDK gave up on a call without
// asking the service, its client-side retry quota being empty. It matches
// the throttling sentinel too.
var ErrRetryQuotaExceeded = fmt.Errorf("client-side retry quota exceeded: %w", postroom.ErrThrottled)

// codes maps SNS error codes to the shared sentinels.
var codes = map[string]error{
	"NotFound":                                postroom.ErrNotFound,
	"NotFoundException":                       postroom.ErrNotFound,
	"ResourceNotFound":                        postroom.ErrNotFound,
	"ResourceNotFoundException":               postroom.ErrNotFound,
	"QueueDoesNotExist":                       postroom.ErrNotFound,
	"AWS.SimpleQueueService.NonExistentQueue": postroom.ErrNotFound,
	"InvalidParameter":                        postroom.ErrInvalid,
	"InvalidParameterException":               postroom.ErrInvalid,
	"InvalidParameterValue":                   postroom.ErrInvalid,
	"ParameterValueInvalid":                   postroom.ErrInvalid,
	"InvalidParameterValueException":          postroom.ErrInvalid,
	"ValidationException":                     postroom.ErrInvalid,
	"InvalidBatchEntryId":                     postroom.ErrInvalid,
	"InvalidBatchEntryIdException":            postroom.ErrInvalid,
	"BatchEntryIdsNotDistinct":                postroom.ErrInvalid,
	"BatchEntryIdsNotDistinctException":       postroom.ErrInvalid,
	"AuthorizationError":                      postroom.ErrInvalid,
	"EmptyBatchRequest":                       postroom.ErrTooManyEntries,
	"EmptyBatchRequestException":              postroom.ErrTooManyEntries,
	"TooManyEntriesInBatchRequest":            postroom.ErrTooManyEntries,
	"TooManyEntriesInBatchRequestException":   postroom.ErrTooManyEntries,
	"BatchRequestTooLong":                     postroom.ErrTooLarge,
	"BatchRequestTooLongException":            postroom.ErrTooLarge,
	"Throttled":                               postroom.ErrThrottled,
	"ThrottledException":                      postroom.ErrThrottled,
	"Throttling":                              postroom.ErrThrottled,
	"ThrottlingException":                     postroom.ErrThrottled,
	"KMSThrottling":                           postroom.ErrThrottled,
	"KMSThrottlingException":                  postroom.ErrThrottled,
	"KMSNotFound":                             postroom.ErrNotFound,
	"KMSNotFoundException":                    postroom.ErrNotFound,
	"KMSDisabled":                             postroom.ErrInvalid,
	"KMSAccessDenied":                         postroom.ErrInvalid,
	"KMSInvalidState":                         postroom.ErrInvalid,
	"KMSOptInRequired":                        postroom.ErrInvalid,
	"InternalError":                           postroom.ErrUnavailable,
	"InternalErrorException":                  postroom.ErrUnavailable,
	"InternalFailure":                         postroom.ErrUnavailable,
	"ServiceUnavailable":                      postroom.ErrUnavailable,
}

func retryable(code string, senderFault bool) bool {
	switch codes[code] {
	case postroom.ErrThrottled, postroom.ErrUnavailable:
		return true
	}
	return !senderFault && code == ""
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

func errClosed(op string) error {
	return &postroom.Error{Pkg: pkgName, Op: op, Kind: postroom.ErrClosed}
}
