package amqp

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/postroom/postroom/internal/errkit"

	"github.com/postroom/postroom"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Sentinel errors of this driver. Match them with [errors.Is].
var (
	// ErrUnroutable reports a mandatory publish the broker returned
	// (basic.return): no queue is bound to take the message, for example
	// a Send to a queue that was deleted, or a Publish to a topic with no
	// subscription. It matches postroom.ErrNotFound too.
	ErrUnroutable = fmt.Errorf("amqp: message is unroutable: %w", postroom.ErrNotFound)

	// ErrNacked reports a message the broker refused to take
	// responsibility for (a basic.nack publisher confirm), for example
	// because a queue's length limit rejects new publishes.
	ErrNacked = errors.New("amqp: the broker nacked the message")

	// ErrQueueLost reports, in the broker.StateChange of a reconnection
	// (see Broker.NotifyState), a durable queue this Broker had declared
	// that was gone when the connection came back: someone deleted it, or
	// the broker lost it in a crash (RabbitMQ 3.10 can lose a queue
	// declared shortly before it is killed, see "Broker crashes" in the
	// package documentation). The driver declares it again, empty: the
	// messages it held, confirmed or not, are lost. It matches
	// postroom.ErrNotFound too.
	ErrQueueLost = fmt.Errorf("amqp: durable queue lost: %w", postroom.ErrNotFound)
)

// errLost marks a publish whose confirm will never come because its
// connection went away; Send publishes it again on the next connection.
var errLost = errors.New("amqp: connection lost before the publish was confirmed")

// replyCodes maps AMQP 0-9-1 reply codes to their names and to the sentinel
// of package queue (or of this package) a caller matches. It is the one
// table translating the broker's errors.
var replyCodes = map[int]struct {
	name     string
	sentinel error
}{
	amqp091.ContentTooLarge:    {"CONTENT_TOO_LARGE", postroom.ErrTooLarge},
	amqp091.NoRoute:            {"NO_ROUTE", ErrUnroutable},
	amqp091.NoConsumers:        {"NO_CONSUMERS", nil},
	amqp091.ConnectionForced:   {"CONNECTION_FORCED", nil},
	amqp091.InvalidPath:        {"INVALID_PATH", postroom.ErrInvalid},
	amqp091.AccessRefused:      {"ACCESS_REFUSED", nil},
	amqp091.NotFound:           {"NOT_FOUND", postroom.ErrNotFound},
	amqp091.ResourceLocked:     {"RESOURCE_LOCKED", postroom.ErrExists},
	amqp091.PreconditionFailed: {"PRECONDITION_FAILED", postroom.ErrExists},
	amqp091.FrameError:         {"FRAME_ERROR", nil},
	amqp091.SyntaxError:        {"SYNTAX_ERROR", postroom.ErrInvalid},
	amqp091.CommandInvalid:     {"COMMAND_INVALID", postroom.ErrInvalid},
	amqp091.ChannelError:       {"CHANNEL_ERROR", nil},
	amqp091.UnexpectedFrame:    {"UNEXPECTED_FRAME", nil},
	amqp091.ResourceError:      {"RESOURCE_ERROR", nil},
	amqp091.NotAllowed:         {"NOT_ALLOWED", postroom.ErrInvalid},
	amqp091.NotImplemented:     {"NOT_IMPLEMENTED", postroom.ErrUnsupported},
	amqp091.InternalError:      {"INTERNAL_ERROR", nil},
}

// wrapErr turns an amqp091 error into a *postroom.Error carrying the reply
// code's name and the sentinel it maps to; the *amqp091.Error stays
// reachable with errors.As. Other errors are wrapped with op.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *amqp091.Error
	if !errors.As(err, &ae) {
		return fmt.Errorf("amqp: %s: %w", op, err)
	}
	e := &postroom.Error{Pkg: "amqp", Op: op, Message: ae.Reason, Err: err}
	if rc, ok := replyCodes[ae.Code]; ok {
		e.Code, e.Kind = rc.name, rc.sentinel
	} else {
		e.Code = strconv.Itoa(ae.Code)
	}
	return e
}

// softChannelError reports whether err closed only a channel (a soft
// error such as 404 or 406), leaving its connection open.
func softChannelError(err *amqp091.Error) bool {
	return err != nil && err.Server && err.Recover
}

// ek builds this package's errors: ek.Closed(op), ek.Unsupported(op, why),
// ek.Errorf(postroom.ErrInvalid, op, …). Each one starts with "amqp: ".
const ek errkit.Pkg = "amqp"
