package pubsub

import (
	"context"
	"github.com/postroom/postroom/internal/registry"
	"net/url"

	"github.com/postroom/postroom/queue"
)

// A Message is what a [Topic] publishes.
type Message struct {
	// ID is set by Publish.
	ID string
	// Body is the payload. Drivers copy it on Publish.
	Body []byte
	// Subject is the SNS subject (under 100 characters, no line breaks).
	// SNS puts it in the JSON envelope (and drops it with raw delivery);
	// broker drivers, which have no such field, deliver it as the String
	// attribute "Subject" unless the message has an attribute of that name.
	Subject string
	// Attributes are typed attributes; SNS filter policies match them.
	Attributes queue.Attributes
	// GroupID orders messages on FIFO topics; required there.
	GroupID string
	// DeduplicationID suppresses duplicates within the deduplication
	// window on FIFO topics; empty uses content-based deduplication where
	// the topic enables it.
	DeduplicationID string
}

// SubjectAttribute is the String attribute broker drivers, whose
// protocols have no subject field, deliver [Message.Subject] as, unless
// the message has an attribute of that name itself.
const SubjectAttribute = "Subject"

// A Publisher publishes messages.
type Publisher interface {
	// Publish publishes msgs, setting each one's ID. When some were
	// published and others were not, it returns a *postroom.BatchError
	// index-aligned with msgs.
	Publish(ctx context.Context, msgs ...*Message) error
}

// A Topic publishes to its subscriptions and attaches new ones.
type Topic interface {
	Publisher
	// Subscribe attaches a subscription. With a Name, a durable
	// subscription of that name is attached again if it exists, keeping
	// the messages published while nobody received them.
	Subscribe(ctx context.Context, opts SubscribeOptions) (Subscription, error)
	// Close releases the topic's resources; subscriptions stay usable
	// until closed themselves.
	Close() error
}

// A Subscription receives a topic's messages like a queue.
type Subscription interface {
	queue.Receiver
	// Close detaches from the subscription. A durable subscription keeps
	// collecting messages; see Unsubscriber to delete it.
	Close() error
}

// An Unsubscriber deletes a durable subscription and its pending messages.
type Unsubscriber interface {
	Unsubscribe(ctx context.Context) error
}

// A FilterSetter changes a subscription's filter policy after the fact.
type FilterSetter interface {
	SetFilterPolicy(ctx context.Context, policy string, scope Scope) error
}

// Scope says what an SNS filter policy is applied to.
type Scope int

const (
	// ScopeMessageAttributes applies the policy to message attributes
	// (the SNS default).
	ScopeMessageAttributes Scope = iota
	// ScopeMessageBody applies the policy to the body, which must be a
	// JSON object.
	ScopeMessageBody
)

// String returns the scope's SNS name.
func (s Scope) String() string {
	if s == ScopeMessageBody {
		return "MessageBody"
	}
	return "MessageAttributes"
}

// SubscribeOptions configure a subscription. The zero value is a
// non-durable, unfiltered, enveloped subscription.
type SubscribeOptions struct {
	// Name names a durable subscription (STOMP durable subscriber, MQTT
	// client id with a persistent session, AMQP durable queue, SQS queue).
	// Empty makes a subscription that lives as long as it is open.
	Name string
	// FilterPolicy is an SNS filter policy (JSON); empty admits every
	// message.
	FilterPolicy string
	// FilterPolicyScope is what the policy applies to.
	FilterPolicyScope Scope
	// RawDelivery delivers the published body as is, with the message
	// attributes as queue attributes, instead of the SNS JSON envelope.
	RawDelivery bool
}

var openers = registry.New[Opener]("pubsub")

// An Opener opens topics for the URL schemes it is registered under.
// The method is named for what it opens, so that one driver value can
// be the Opener of several packages.
type Opener interface {
	OpenTopicURL(ctx context.Context, u *url.URL) (Topic, error)
}

// Register makes o open topic URLs with scheme. It panics when scheme is
// registered already.
func Register(scheme string, o Opener) { openers.Register(scheme, o) }

// Open opens the topic a URL names, with the driver registered for the
// URL's scheme, for example "mem://orders".
func Open(ctx context.Context, rawURL string) (Topic, error) {
	o, u, err := openers.Lookup(rawURL)
	if err != nil {
		return nil, err
	}
	return o.OpenTopicURL(ctx, u)
}

// Schemes returns the schemes pubsub.Open knows, sorted.
func Schemes() []string { return openers.Schemes() }
