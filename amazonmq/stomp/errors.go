package stomp

import (
	"errors"
	"strings"

	"github.com/postroom/postroom/internal/errkit"

	gostomp "github.com/go-stomp/stomp/v3"
	"github.com/go-stomp/stomp/v3/frame"
	"github.com/postroom/postroom"
)

// errLost marks an operation whose receipt will never come because its
// connection went away: Send and Publish send it again on the next
// connection.
var errLost = errors.New("stomp: connection lost")

// lostError is why a connection went away. broker says the broker sent an
// ERROR frame that answered no receipt (rather than the network failing),
// so an operation in flight may be what it refused: it is retried alone.
type lostError struct {
	cause  error
	broker bool
}

func (e *lostError) Error() string { return "stomp: connection lost: " + e.cause.Error() }

func (e *lostError) Unwrap() []error { return []error{errLost, e.cause} }

// errorMessages maps the text of ActiveMQ ERROR frames to the sentinels of
// package queue. It is the one table translating the broker's errors.
var errorMessages = []struct {
	contains string
	sentinel error
}{
	{"Unexpected ACK received", postroom.ErrReceiptInvalid},
	{"Unexpected NACK received", postroom.ErrReceiptInvalid},
	{"InvalidClientIDException", postroom.ErrExists},
	{"already connected", postroom.ErrExists},
	{"Durable consumer is in use", postroom.ErrExists},
	{"exceeds the maximum", postroom.ErrTooLarge},
	{"Frame size", postroom.ErrTooLarge},
	{"frame size", postroom.ErrTooLarge},
	{"InvalidDestinationException", postroom.ErrInvalid},
	{"Invalid destination", postroom.ErrInvalid},
	{"No subscription matched", postroom.ErrNotFound},
}

// frameError turns an ERROR frame into a *postroom.Error whose Code is the
// Java exception's class (when the body names one) and whose Cause is the
// go-stomp Error holding the frame.
func frameError(op string, f *frame.Frame) error {
	msg := f.Header.Get(frame.Message)
	body := string(f.Body)
	code := ""
	if line, _, _ := strings.Cut(body, "\n"); line != "" {
		if cls, _, ok := strings.Cut(line, ":"); ok && strings.Contains(cls, ".") && !strings.ContainsAny(cls, " \t") {
			code = cls[strings.LastIndexByte(cls, '.')+1:]
		}
	}
	var sentinel error
	for _, m := range errorMessages {
		if strings.Contains(msg, m.contains) || strings.Contains(body, m.contains) {
			sentinel = m.sentinel
			break
		}
	}
	if msg == "" {
		msg = "the broker sent an ERROR frame"
	}
	return &postroom.Error{Pkg: "stomp", Op: op, Code: code, Message: msg, Kind: sentinel, Err: gostomp.Error{Message: msg, Frame: f}}
}

// ek builds this package's errors: ek.Closed(op), ek.Unsupported(op, why),
// ek.Errorf(postroom.ErrInvalid, op, …). Each one starts with "stomp: ".
const ek errkit.Pkg = "stomp"
