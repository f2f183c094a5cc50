package eventbus

import "errors"

// ErrInvalidPattern reports an event pattern EventBridge would refuse. The
// error's text is EventBridge's: "Event pattern is not valid. Reason: …".
var ErrInvalidPattern = errors.New("eventbus: invalid event pattern")
