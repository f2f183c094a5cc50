package eventbus

import (
	"errors"

	"github.com/postroom/postroom/eventbus/pattern"
)

// ErrInvalidPattern reports an event pattern EventBridge would refuse. It is
// pattern.ErrInvalid, so that a compile error of package pattern matches it
// too. The error's text is EventBridge's: "Event pattern is not valid.
// Reason: …".
var ErrInvalidPattern = pattern.ErrInvalid

// ErrLimitExceeded reports a resource limit of the bus: more targets on a
// rule than it takes (5 on EventBridge, LimitExceededException).
var ErrLimitExceeded = errors.New("eventbus: limit exceeded")
