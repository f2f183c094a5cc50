package broker

import (
	"context"
	"fmt"
	"github.com/postroom/postroom/internal/registry"
	"net/url"

	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// A Broker is a connection to a message broker.
type Broker interface {
	// Queue returns a point-to-point queue of the broker, declaring it
	// when the protocol declares queues.
	Queue(ctx context.Context, name string) (queue.Queue, error)
	// Topic returns a publish/subscribe topic of the broker.
	Topic(ctx context.Context, name string) (pubsub.Topic, error)
	// Capabilities says what the driver can do.
	Capabilities() Capabilities
	// State returns the connection's current state.
	State() State
	// NotifyState calls f on each change of state, from one goroutine,
	// in order, until stop is called. f must not block for long.
	NotifyState(f func(StateChange)) (stop func())
	// Close closes the connection and everything vended by it.
	Close() error
}

// Capabilities are what a broker driver can do.
type Capabilities struct {
	Queues      bool // Queue works
	Topics      bool // Topic works
	Durable     bool // named subscriptions keep messages while detached
	Headers     bool // attributes travel as protocol headers (else in an envelope)
	Nack        bool // a nack redelivers (rather than dead-letters or is absent)
	DelayedNack bool // Nack with a positive delay is supported
	Wildcards   bool // topic names may hold wildcards when subscribing
}

// State is the state of a broker connection.
type State int

const (
	Connecting   State = iota // the first connection is being made
	Connected                 // connected
	Reconnecting              // the connection was lost; retrying
	Closed                    // closed by Close, or given up
)

func (s State) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Reconnecting:
		return "reconnecting"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// A StateChange is one transition of a broker's state.
type StateChange struct {
	From, To State
	// Err is why the connection was lost or could not be made, if known.
	Err error
	// Endpoint is the address connected to, or being tried.
	Endpoint string
}

var openers = registry.New[Opener]("broker")

// An Opener connects to brokers for the URL schemes it is registered
// under.
type Opener interface {
	OpenBrokerURL(ctx context.Context, u *url.URL) (Broker, error)
}

// Register makes o open broker URLs with scheme. It panics when scheme is
// registered already.
func Register(scheme string, o Opener) { openers.Register(scheme, o) }

// Open connects to the broker a URL names, for example
// "amqps://user:pass@b-1234.mq.us-east-1.amazonaws.com:5671" or "mem://".
// Drivers document their query parameters (failover endpoints, TLS,
// prefetch, …).
func Open(ctx context.Context, rawURL string) (Broker, error) {
	o, u, err := openers.Lookup(rawURL)
	if err != nil {
		return nil, err
	}
	return o.OpenBrokerURL(ctx, u)
}

// Schemes returns the schemes broker.Open knows, sorted.
func Schemes() []string { return openers.Schemes() }
