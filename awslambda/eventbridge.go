package awslambda

import (
	"context"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/eventbus"
)

// An EventHandler handles one EventBridge event. Returning an error fails
// the invocation, which EventBridge (an asynchronous invoke) retries.
type EventHandler func(ctx context.Context, ev *eventbus.Event) error

// EventBridgeHandler returns the handler of a Lambda function that a rule
// of an EventBridge bus targets: it hands h the event as an
// *eventbus.Event (see [Event]). A panic in h is the function's error, a
// *consumer.PanicError.
func EventBridgeHandler(h EventHandler) func(ctx context.Context, ev events.CloudWatchEvent) error {
	return func(ctx context.Context, ev events.CloudWatchEvent) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = e.Wrap(nil, "handle event "+ev.ID, &consumer.PanicError{Value: v, Stack: debug.Stack()})
			}
		}()
		if err := h(ctx, Event(ev)); err != nil {
			return e.Wrap(nil, "handle event "+ev.ID, err)
		}
		return nil
	}
}
