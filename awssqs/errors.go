package awssqs

import (
	"strings"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/awsbatch"
)

// codes maps SQS error codes, in both the JSON protocol's spelling and the
// Query protocol's ("AWS.SimpleQueueService.…"), to the shared sentinels.
// A code missing here keeps its code and message with no sentinel.
var codes = map[string]error{
	"QueueDoesNotExist":                                   postroom.ErrNotFound,
	"AWS.SimpleQueueService.NonExistentQueue":             postroom.ErrNotFound,
	"QueueDeletedRecently":                                postroom.ErrExists,
	"AWS.SimpleQueueService.QueueDeletedRecently":         postroom.ErrExists,
	"QueueNameExists":                                     postroom.ErrExists,
	"QueueAlreadyExists":                                  postroom.ErrExists,
	"ReceiptHandleIsInvalid":                              postroom.ErrReceiptInvalid,
	"MessageNotInflight":                                  postroom.ErrReceiptInvalid,
	"AWS.SimpleQueueService.MessageNotInflight":           postroom.ErrReceiptInvalid,
	"InvalidParameterValue":                               postroom.ErrInvalid,
	"InvalidParameterCombination":                         postroom.ErrInvalid,
	"InvalidAttributeName":                                postroom.ErrInvalid,
	"InvalidAttributeValue":                               postroom.ErrInvalid,
	"InvalidMessageContents":                              postroom.ErrInvalid,
	"InvalidBatchEntryId":                                 postroom.ErrInvalid,
	"AWS.SimpleQueueService.InvalidBatchEntryId":          postroom.ErrInvalid,
	"BatchEntryIdsNotDistinct":                            postroom.ErrInvalid,
	"AWS.SimpleQueueService.BatchEntryIdsNotDistinct":     postroom.ErrInvalid,
	"InvalidIdFormat":                                     postroom.ErrInvalid,
	"InvalidAddress":                                      postroom.ErrInvalid,
	"InvalidSecurity":                                     postroom.ErrInvalid,
	"MissingParameter":                                    postroom.ErrInvalid,
	"ValidationError":                                     postroom.ErrInvalid,
	"UnsupportedOperation":                                postroom.ErrUnsupported,
	"AWS.SimpleQueueService.UnsupportedOperation":         postroom.ErrUnsupported,
	"EmptyBatchRequest":                                   postroom.ErrTooManyEntries,
	"AWS.SimpleQueueService.EmptyBatchRequest":            postroom.ErrTooManyEntries,
	"TooManyEntriesInBatchRequest":                        postroom.ErrTooManyEntries,
	"AWS.SimpleQueueService.TooManyEntriesInBatchRequest": postroom.ErrTooManyEntries,
	"BatchRequestTooLong":                                 postroom.ErrTooLarge,
	"AWS.SimpleQueueService.BatchRequestTooLong":          postroom.ErrTooLarge,
	"PurgeQueueInProgress":                                postroom.ErrPurgeInProgress,
	"AWS.SimpleQueueService.PurgeQueueInProgress":         postroom.ErrPurgeInProgress,
	"OverLimit":                                           postroom.ErrThrottled,
	"RequestThrottled":                                    postroom.ErrThrottled,
	"ThrottlingException":                                 postroom.ErrThrottled,
	"Throttling":                                          postroom.ErrThrottled,
	"KmsThrottled":                                        postroom.ErrThrottled,
	"KMS.ThrottlingException":                             postroom.ErrThrottled,
	"KmsNotFound":                                         postroom.ErrNotFound,
	"KMS.NotFoundException":                               postroom.ErrNotFound,
	"KmsAccessDenied":                                     postroom.ErrInvalid,
	"KMS.AccessDeniedException":                           postroom.ErrInvalid,
	"KmsDisabled":                                         postroom.ErrInvalid,
	"KMS.DisabledException":                               postroom.ErrInvalid,
	"KmsInvalidKeyUsage":                                  postroom.ErrInvalid,
	"KMS.InvalidKeyUsageException":                        postroom.ErrInvalid,
	"KmsInvalidState":                                     postroom.ErrInvalid,
	"KMS.KMSInvalidStateException":                        postroom.ErrInvalid,
	"KmsOptInRequired":                                    postroom.ErrInvalid,
	"KMS.OptInRequired":                                   postroom.ErrInvalid,
	"InternalError":                                       postroom.ErrUnavailable,
	"InternalFailure":                                     postroom.ErrUnavailable,
	"AWS.SimpleQueueService.InternalError":                postroom.ErrUnavailable,
	"ServiceUnavailable":                                  postroom.ErrUnavailable,
}

// retryable reports whether a batch entry that failed with code is worth
// sending again: throttling and the service's own failures. Every other
// code is the caller's to handle.
func retryable(code string, senderFault bool) bool {
	switch codes[code] {
	case postroom.ErrThrottled, postroom.ErrUnavailable:
		return true
	}
	return !senderFault && code == "" // a server fault without a code
}

// kindOf returns the sentinel of a service error code and message.
func kindOf(code, msg string) error {
	kind := codes[code]
	if kind == postroom.ErrInvalid && strings.Contains(strings.ToLower(msg), "receipt handle has expired") {
		return postroom.ErrReceiptExpired
	}
	if kind == postroom.ErrInvalid && strings.Contains(msg, "Message does not exist or is not available for visibility timeout change") {
		return postroom.ErrReceiptInvalid
	}
	return kind
}

// entryErr returns the error of one failed batch entry.
func entryErr(op string, code, msg string) error {
	return &postroom.Error{Pkg: pkgName, Op: op, Code: code, Message: msg, Kind: kindOf(code, msg)}
}

// wrapErr turns an SDK error into an error of this package: a service
// error keeps its code and message and matches its sentinel, the SDK's
// client-side retry quota tells itself apart (its code is empty and it
// matches ErrRetryQuotaExceeded as well as ErrThrottled), and a canceled
// call matches the context's error.
func wrapErr(op string, err error) error {
	return awsbatch.WrapErr(pkgName, op, err, kindOf, ErrRetryQuotaExceeded)
}
