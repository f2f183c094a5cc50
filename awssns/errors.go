package awssns

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/smithy-go"

	"github.com/postroom/postroom/queue"
)

// Until the shared vocabulary has them: the kinds of retryable failures.
var (
	errThrottled   = errors.New("throttled")
	errUnavailable = errors.New("service unavailable")
)

// ErrRetryQuotaExceeded reports that the SDK gave up on a call without
// asking the service, its client-side retry quota being empty. It matches
// the throttling sentinel too.
var ErrRetryQuotaExceeded = fmt.Errorf("client-side retry quota exceeded: %w", errThrottled)

// codes maps SNS error codes to the shared sentinels.
var codes = map[string]error{
	"NotFound":                                queue.ErrNotFound,
	"NotFoundException":                       queue.ErrNotFound,
	"ResourceNotFound":                        queue.ErrNotFound,
	"ResourceNotFoundException":               queue.ErrNotFound,
	"QueueDoesNotExist":                       queue.ErrNotFound,
	"AWS.SimpleQueueService.NonExistentQueue": queue.ErrNotFound,
	"InvalidParameter":                        queue.ErrInvalid,
	"InvalidParameterException":               queue.ErrInvalid,
	"InvalidParameterValue":                   queue.ErrInvalid,
	"ParameterValueInvalid":                   queue.ErrInvalid,
	"InvalidParameterValueException":          queue.ErrInvalid,
	"ValidationException":                     queue.ErrInvalid,
	"InvalidBatchEntryId":                     queue.ErrInvalid,
	"InvalidBatchEntryIdException":            queue.ErrInvalid,
	"BatchEntryIdsNotDistinct":                queue.ErrInvalid,
	"BatchEntryIdsNotDistinctException":       queue.ErrInvalid,
	"AuthorizationError":                      queue.ErrInvalid,
	"EmptyBatchRequest":                       queue.ErrTooManyEntries,
	"EmptyBatchRequestException":              queue.ErrTooManyEntries,
	"TooManyEntriesInBatchRequest":            queue.ErrTooManyEntries,
	"TooManyEntriesInBatchRequestException":   queue.ErrTooManyEntries,
	"BatchRequestTooLong":                     queue.ErrTooLarge,
	"BatchRequestTooLongException":            queue.ErrTooLarge,
	"Throttled":                               errThrottled,
	"ThrottledException":                      errThrottled,
	"Throttling":                              errThrottled,
	"ThrottlingException":                     errThrottled,
	"KMSThrottling":                           errThrottled,
	"KMSThrottlingException":                  errThrottled,
	"KMSNotFound":                             queue.ErrNotFound,
	"KMSNotFoundException":                    queue.ErrNotFound,
	"KMSDisabled":                             queue.ErrInvalid,
	"KMSAccessDenied":                         queue.ErrInvalid,
	"KMSInvalidState":                         queue.ErrInvalid,
	"KMSOptInRequired":                        queue.ErrInvalid,
	"InternalError":                           errUnavailable,
	"InternalErrorException":                  errUnavailable,
	"InternalFailure":                         errUnavailable,
	"ServiceUnavailable":                      errUnavailable,
}

func retryable(code string, senderFault bool) bool {
	switch codes[code] {
	case errThrottled, errUnavailable:
		return true
	}
	return !senderFault && code == ""
}

func entryErr(op, code, msg string) error {
	return &queue.Error{Op: op, Code: code, Message: msg, Err: codes[code]}
}

// wrapErr turns an SDK error into an error of this package.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var qe ratelimit.QuotaExceededError
	if errors.As(err, &qe) {
		return &queue.Error{Op: op, Message: "the SDK's client-side retry quota is exhausted: " + err.Error(), Err: ErrRetryQuotaExceeded, Cause: err}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &queue.Error{Op: op, Code: ae.ErrorCode(), Message: ae.ErrorMessage(), Err: codes[ae.ErrorCode()], Cause: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		kind := context.Canceled
		if errors.Is(err, context.DeadlineExceeded) {
			kind = context.DeadlineExceeded
		}
		return &queue.Error{Op: op, Err: kind, Cause: err}
	}
	return &queue.Error{Op: op, Err: errUnavailable, Cause: err}
}

func errClosed(op string) error { return &queue.Error{Op: op, Err: queue.ErrClosed} }
