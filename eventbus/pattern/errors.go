package pattern

import (
	"errors"
	"strings"
)

// ErrInvalid is wrapped by every error [Compile] and [CompileFilterPolicy]
// return. Match it with errors.Is; the error's text is the one AWS would
// return, see [Error].
var ErrInvalid = errors.New("pattern: invalid pattern")

// ErrInvalidEvent is wrapped by the error [Pattern.Match] and [Matcher.Match]
// return when the event is not a well-formed JSON object.
var ErrInvalidEvent = errors.New("pattern: invalid event")

// Dialect says which service's rules a [Pattern] was compiled with.
type Dialect int

const (
	// EventBridge is the event-pattern language of Amazon EventBridge rules.
	EventBridge Dialect = iota
	// SNS is the filter-policy language of Amazon SNS subscriptions.
	SNS
)

// String returns "EventBridge" or "SNS".
func (d Dialect) String() string {
	if d == SNS {
		return "SNS"
	}
	return "EventBridge"
}

// Error is a compile error. Its Error method returns the exact text AWS
// returns for the same pattern:
//
//   - EventBridge: "Event pattern is not valid. Reason: <Reason>"
//   - SNS: "Invalid parameter: FilterPolicy: <Reason>", or
//     "Invalid parameter: <Reason>" for the few SNS errors that AWS does not
//     attribute to the FilterPolicy parameter (see [Error.Param]).
//
// Error wraps [ErrInvalid].
type Error struct {
	// Dialect is the language the pattern was compiled as.
	Dialect Dialect
	// Reason is AWS's reason text, e.g. "Empty arrays are not allowed".
	Reason string
	// Param is the SNS parameter name that prefixes the reason
	// ("FilterPolicy"), or "" when AWS reports the reason without one.
	// It is always "" for EventBridge.
	Param string
}

// Error returns the message AWS returns for this pattern.
func (e *Error) Error() string {
	if e.Dialect == SNS {
		if e.Param == "" {
			return "Invalid parameter: " + e.Reason
		}
		return "Invalid parameter: " + e.Param + ": " + e.Reason
	}
	return "Event pattern is not valid. Reason: " + e.Reason
}

// SubscribeMessage returns the message SNS returns when the policy arrives in
// the Attributes of a Subscribe call rather than through
// SetSubscriptionAttributes: "Invalid parameter: Attributes Reason:
// FilterPolicy: <Reason>". For EventBridge it returns Error().
func (e *Error) SubscribeMessage() string {
	if e.Dialect == SNS && e.Param != "" {
		return "Invalid parameter: Attributes Reason: " + e.Param + ": " + e.Reason
	}
	return e.Error()
}

// Unwrap returns [ErrInvalid].
func (e *Error) Unwrap() error { return ErrInvalid }

// Is reports whether target is [ErrInvalid].
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// eventError is a malformed-event error; it wraps ErrInvalidEvent.
type eventError struct {
	msg string
	off int
}

func (e *eventError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalidEvent.Error())
	b.WriteString(": ")
	b.WriteString(e.msg)
	if e.off >= 0 {
		b.WriteString(" at offset ")
		b.WriteString(itoa(e.off))
	}
	return b.String()
}

func (e *eventError) Unwrap() error { return ErrInvalidEvent }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
