package awssqs

import (
	"fmt"

	"github.com/postroom/postroom"
)

// pkgName is the name errors of this package start with.
const pkgName = "awssqs"

func newBatchError(errs []error) error { return postroom.NewBatchError(pkgName, errs) }

// ErrRetryQuotaExceeded reports that the SDK gave up on a call without
// asking the service, because its client-side retry quota (a token bucket
// drained by earlier failed attempts) is empty. It is no service error:
// the call's Code is empty. It matches the throttling sentinel too.
var ErrRetryQuotaExceeded = fmt.Errorf("client-side retry quota exceeded: %w", postroom.ErrThrottled)
