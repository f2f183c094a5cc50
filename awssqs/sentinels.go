package awssqs

import (
	"errors"
	"fmt"
)

// Until the shared vocabulary has them: the kinds of retryable failures.
var (
	errThrottled   = errors.New("throttled")
	errUnavailable = errors.New("service unavailable")
)

// ErrRetryQuotaExceeded reports that the SDK gave up on a call without
// asking the service, because its client-side retry quota (a token bucket
// drained by earlier failed attempts) is empty. It is no service error:
// the call's Code is empty. It matches the throttling sentinel too.
var ErrRetryQuotaExceeded = fmt.Errorf("client-side retry quota exceeded: %w", errThrottled)
