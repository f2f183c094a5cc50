package awsbatch

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"
)

// A Failure is one failed entry of a batch call, as SQS, SNS and
// EventBridge report it.
type Failure struct {
	ID          string // the entry's id: its index, as Retry.Do numbers them
	Code        string
	Message     string
	SenderFault bool
}

// Retry sends the entries of a batch call that failed with a retryable
// code again, alone, after a backoff.
type Retry struct {
	Retries   int           // how many times an entry is sent again
	Backoff   time.Duration // the first pause; doubled each time, with jitter
	Retryable func(code string, senderFault bool) bool
	EntryErr  func(code, msg string) error // the error of a failed entry
	CallErr   func(err error) error        // the error of a failed call
	NoResult  func() error                 // the error of an entry the service did not mention
}

// Do makes a batch call of n entries through call, which gets the indexes
// of the entries to send (to use, as decimal strings, as the entries' ids)
// and returns the ids that succeeded and the failures. When the call
// itself fails, every entry it carried gets its error. Do returns one
// error per entry, nil where it succeeded.
func (r Retry) Do(ctx context.Context, n int, call func(ctx context.Context, idx []int) (ok []string, failed []Failure, err error)) []error {
	errs := make([]error, n)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	for attempt := 0; ; attempt++ {
		ok, failed, err := call(ctx, idx)
		if err != nil {
			werr := r.CallErr(err)
			for _, i := range idx {
				errs[i] = werr
			}
			return errs
		}
		seen := make(map[int]bool, len(idx))
		for _, id := range ok {
			if i, err := strconv.Atoi(id); err == nil && i >= 0 && i < n {
				errs[i] = nil
				seen[i] = true
			}
		}
		var again []int
		for _, f := range failed {
			i, err := strconv.Atoi(f.ID)
			if err != nil || i < 0 || i >= n {
				continue
			}
			seen[i] = true
			errs[i] = r.EntryErr(f.Code, f.Message)
			if attempt < r.Retries && r.Retryable(f.Code, f.SenderFault) {
				again = append(again, i)
			}
		}
		for _, i := range idx {
			if !seen[i] {
				errs[i] = r.NoResult()
			}
		}
		if len(again) == 0 || !sleep(ctx, backoff(r.Backoff, attempt)) {
			return errs
		}
		idx = again
	}
}

// backoff returns the pause before retry attempt+1: base doubled per
// attempt, capped at 5 s, with full jitter over its upper half.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 10)
	d = min(d, 5*time.Second)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Result returns nil when every entry succeeded, the error itself when
// every entry failed with one and the same error (one failed call: nothing
// was done), and otherwise newBatch(errs).
func Result(errs []error, newBatch func([]error) error) error {
	if len(errs) == 0 {
		return nil
	}
	if first := errs[0]; first != nil {
		same := true
		for _, err := range errs[1:] {
			if err != first {
				same = false
				break
			}
		}
		if same {
			return first
		}
	}
	return newBatch(errs)
}
