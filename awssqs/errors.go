package awssqs

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/postroom/postroom/queue"
)

// codes maps SQS error codes, in both the JSON protocol's spelling and the
// Query protocol's ("AWS.SimpleQueueService.…"), to the shared sentinels.
// A code missing here keeps its code and message with no sentinel.
var codes = map[string]error{
	"QueueDoesNotExist":                                   queue.ErrNotFound,
	"AWS.SimpleQueueService.NonExistentQueue":             queue.ErrNotFound,
	"QueueDeletedRecently":                                queue.ErrExists,
	"AWS.SimpleQueueService.QueueDeletedRecently":         queue.ErrExists,
	"QueueNameExists":                                     queue.ErrExists,
	"QueueAlreadyExists":                                  queue.ErrExists,
	"ReceiptHandleIsInvalid":                              queue.ErrReceiptInvalid,
	"MessageNotInflight":                                  queue.ErrReceiptInvalid,
	"AWS.SimpleQueueService.MessageNotInflight":           queue.ErrReceiptInvalid,
	"InvalidParameterValue":                               queue.ErrInvalid,
	"InvalidParameterCombination":                         queue.ErrInvalid,
	"InvalidAttributeName":                                queue.ErrInvalid,
	"InvalidAttributeValue":                               queue.ErrInvalid,
	"InvalidMessageContents":                              queue.ErrInvalid,
	"InvalidBatchEntryId":                                 queue.ErrInvalid,
	"AWS.SimpleQueueService.InvalidBatchEntryId":          queue.ErrInvalid,
	"BatchEntryIdsNotDistinct":                            queue.ErrInvalid,
	"AWS.SimpleQueueService.BatchEntryIdsNotDistinct":     queue.ErrInvalid,
	"InvalidIdFormat":                                     queue.ErrInvalid,
	"InvalidAddress":                                      queue.ErrInvalid,
	"InvalidSecurity":                                     queue.ErrInvalid,
	"MissingParameter":                                    queue.ErrInvalid,
	"ValidationError":                                     queue.ErrInvalid,
	"UnsupportedOperation":                                queue.ErrUnsupported,
	"AWS.SimpleQueueService.UnsupportedOperation":         queue.ErrUnsupported,
	"EmptyBatchRequest":                                   queue.ErrTooManyEntries,
	"AWS.SimpleQueueService.EmptyBatchRequest":            queue.ErrTooManyEntries,
	"TooManyEntriesInBatchRequest":                        queue.ErrTooManyEntries,
	"AWS.SimpleQueueService.TooManyEntriesInBatchRequest": queue.ErrTooManyEntries,
	"BatchRequestTooLong":                                 queue.ErrTooLarge,
	"AWS.SimpleQueueService.BatchRequestTooLong":          queue.ErrTooLarge,
	"PurgeQueueInProgress":                                queue.ErrPurgeInProgress,
	"AWS.SimpleQueueService.PurgeQueueInProgress":         queue.ErrPurgeInProgress,
	"OverLimit":                                           errThrottled,
	"RequestThrottled":                                    errThrottled,
	"ThrottlingException":                                 errThrottled,
	"Throttling":                                          errThrottled,
	"KmsThrottled":                                        errThrottled,
	"KMS.ThrottlingException":                             errThrottled,
	"KmsNotFound":                                         queue.ErrNotFound,
	"KMS.NotFoundException":                               queue.ErrNotFound,
	"KmsAccessDenied":                                     queue.ErrInvalid,
	"KMS.AccessDeniedException":                           queue.ErrInvalid,
	"KmsDisabled":                                         queue.ErrInvalid,
	"KMS.DisabledException":                               queue.ErrInvalid,
	"KmsInvalidKeyUsage":                                  queue.ErrInvalid,
	"KMS.InvalidKeyUsageException":                        queue.ErrInvalid,
	"KmsInvalidState":                                     queue.ErrInvalid,
	"KMS.KMSInvalidStateException":                        queue.ErrInvalid,
	"KmsOptInRequired":                                    queue.ErrInvalid,
	"KMS.OptInRequired":                                   queue.ErrInvalid,
	"InternalError":                                       errUnavailable,
	"InternalFailure":                                     errUnavailable,
	"AWS.SimpleQueueService.InternalError":                errUnavailable,
	"ServiceUnavailable":                                  errUnavailable,
}

// retryable reports whether a batch entry that failed with code is worth
// sending again: throttling and the service's own failures. Every other
// code is the caller's to handle.
func retryable(code string, senderFault bool) bool {
	switch codes[code] {
	case errThrottled, errUnavailable:
		return true
	}
	return !senderFault && code == "" // a server fault without a code
}

// kindOf returns the sentinel of a service error code and message.
func kindOf(code, msg string) error {
	kind := codes[code]
	if kind == queue.ErrInvalid && strings.Contains(strings.ToLower(msg), "receipt handle has expired") {
		return queue.ErrReceiptExpired
	}
	if kind == queue.ErrInvalid && strings.Contains(msg, "Message does not exist or is not available for visibility timeout change") {
		return queue.ErrReceiptInvalid
	}
	return kind
}

// entryErr returns the error of one failed batch entry.
func entryErr(op string, code, msg string) error {
	return &queue.Error{Op: op, Code: code, Message: msg, Err: kindOf(code, msg)}
}

// wrapErr turns an SDK error into an error of this package: a service
// error keeps its code and message and matches its sentinel, the SDK's
// client-side retry quota tells itself apart (its code is empty and it
// matches ErrRetryQuotaExceeded as well as ErrThrottled), and a canceled
// call matches the context's error.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var qe ratelimit.QuotaExceededError
	if errors.As(err, &qe) {
		return &queue.Error{Op: op, Message: "the SDK's client-side retry quota is exhausted: " + err.Error(),
			Err: ErrRetryQuotaExceeded, Cause: err}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg := ae.ErrorCode(), ae.ErrorMessage()
		return &queue.Error{Op: op, Code: code, Message: msg, Err: kindOf(code, msg), Cause: err}
	}
	var me *retry.MaxAttemptsError
	var rce *aws.RequestCanceledError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.As(err, &rce):
		return &queue.Error{Op: op, Err: ctxErr(err), Cause: err}
	case errors.As(err, &me):
		return &queue.Error{Op: op, Err: errUnavailable, Cause: err}
	}
	return &queue.Error{Op: op, Err: errUnavailable, Cause: err}
}

func ctxErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

func strconvQuote(s string) string { return strconv.Quote(s) }
