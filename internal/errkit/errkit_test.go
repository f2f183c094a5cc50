package errkit

import (
	"context"
	"errors"
	"testing"

	"github.com/postroom/postroom"
)

func TestReasonAndContext(t *testing.T) {
	const ek Pkg = "stomp"
	err := ek.Reason("send", postroom.ErrTooManyEntries, "no messages")
	if !errors.Is(err, postroom.ErrTooManyEntries) || err.Error() != "stomp: send: "+postroom.ErrTooManyEntries.Error()+": no messages" {
		t.Errorf("Reason = %v", err)
	}
	err = ek.Context("ack", context.DeadlineExceeded, nil)
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "stomp: ack: context deadline exceeded" {
		t.Errorf("Context = %v", err)
	}
	err = ek.Context("ack", context.Canceled, errors.New("connection refused"))
	if !errors.Is(err, context.Canceled) || err.Error() != "stomp: ack: context canceled (last error: connection refused)" {
		t.Errorf("Context with last = %v", err)
	}
}
