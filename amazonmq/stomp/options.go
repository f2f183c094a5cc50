package stomp

import (
	"math"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/internal/reconnect"

	"crypto/tls"
	"strings"
	"time"

	"github.com/postroom/postroom/backoff"

	"github.com/postroom/postroom/internal/brokeraddr"
)

// Defaults of [Options].
const (
	DefaultPrefetch    = 100
	DefaultWaitTime    = 20 * time.Second
	DefaultDialTimeout = 10 * time.Second
	DefaultHeartbeat   = 10 * time.Second
)

// Options configure a [Broker]. The zero value works: it connects to the
// one URL given to [Dial] without credentials, prefetches 100 messages per
// subscription, heartbeats every 10 s and reconnects forever with
// a backoff of 100 ms doubling up to 5 s.
type Options struct {
	// Endpoints are more brokers, tried in order after the URL given to
	// Dial, on the first connection and on every reconnection: the
	// standby of an Amazon MQ active/standby pair. Each is a URL
	// (stomp://host:port, stomp+ssl://host:port) or host:port, which
	// takes the scheme of Dial's URL. The URL's failover query parameter
	// adds more.
	Endpoints []string

	// Login and Passcode authenticate (the CONNECT frame's login and
	// passcode headers). When both are empty the URL's user info is
	// used.
	Login, Passcode string

	// Host is the CONNECT frame's host header, the virtual host. Empty
	// sends the endpoint's host name, which ActiveMQ ignores; RabbitMQ
	// wants its virtual host ("/"). The URL's host query parameter sets
	// it too.
	Host string

	// ClientID is the CONNECT frame's client-id. ActiveMQ keys durable
	// topic subscriptions by client id and subscription name, so it is
	// required for SubscribeOptions.Name, and must be the same on every
	// run of the program and unique among the broker's connections.
	ClientID string

	// TLSConfig is used for stomp+ssl endpoints; nil uses the system
	// roots, which is what Amazon MQ needs. It is cloned per connection,
	// and its ServerName defaults to the endpoint's host.
	TLSConfig *tls.Config

	// Heartbeat is the STOMP heart-beat interval asked of the broker, in
	// both directions; 0 means 10 s, negative turns heart-beating off.
	// A connection that stays silent for 1.5 times the negotiated
	// interval is considered lost.
	Heartbeat time.Duration

	// Prefetch is the activemq.prefetchSize of subscriptions: how many
	// unacked messages the broker pushes to one queue receiver or topic
	// subscription ahead of Receive. 0 means 100.
	Prefetch int

	// WaitTime is Receive's default long-poll wait, used when
	// ReceiveOptions.WaitTime is zero; 0 means 20 s.
	WaitTime time.Duration

	// ScheduledDelivery says the broker runs ActiveMQ's scheduler
	// (schedulerSupport="true" on the <broker> element; permitted on
	// Amazon MQ). It enables Message.Delay and Nack with a delay, both
	// sent with the AMQ_SCHEDULED_DELAY header. Without it those return
	// an error matching postroom.ErrUnsupported, because a broker without
	// the scheduler ignores the header and delivers at once.
	ScheduledDelivery bool

	// AckReceipts makes Ack wait for the broker's receipt (one
	// transaction per call, coalesced with other acks and sends), so
	// that a nil error means ActiveMQ has stored the acks. Without it Ack
	// returns once the ACK frames are written to the connection, as AMQP
	// and MQTT acks do: a lost ack only means that the message is
	// delivered again. On ActiveMQ a receipted ack costs a store write
	// before the answer, which here cut consumer throughput from about
	// 15,000 to 2,000 messages a second.
	AckReceipts bool

	// Backoff spaces reconnection attempts (one attempt tries every
	// endpoint); nil means 100 ms doubling up to 5 s, with equal
	// jitter.
	Backoff backoff.Policy

	// MaxReconnectAttempts gives up after that many failed attempts in a
	// row, closing the broker; 0 retries forever.
	MaxReconnectAttempts int

	// DialTimeout bounds the TCP, TLS and STOMP handshakes with one
	// endpoint; 0 means 10 s.
	DialTimeout time.Duration
}

// config is Options with defaults applied and endpoints resolved.
type config struct {
	Options
	endpoints []brokeraddr.Endpoint
	name      string // the path of Dial's URL: a queue or topic name for the URL openers
}

// protocol is what STOMP URLs look like.
var protocol = &brokeraddr.Protocol{
	Scheme: SchemeSTOMP, TLSScheme: SchemeSTOMPSSL,
	Plain:  []string{"tcp"},
	Secure: []string{"stomps", "ssl"},
	Port:   "61613", TLSPort: "61614",
}

// newConfig validates opts and resolves the endpoints of rawURL.
func newConfig(rawURL string, opts Options) (*config, error) {
	const op = "dial"
	c := &config{Options: opts}
	switch {
	case c.Prefetch < 0:
		return nil, ek.Errorf(postroom.ErrInvalid, op, "negative prefetch %d", c.Prefetch)
	case c.Prefetch == 0:
		c.Prefetch = DefaultPrefetch
	}
	if err := driverkit.ApplyDefaults(ek, op,
		driverkit.Default{Name: "wait time", V: &c.WaitTime, Def: DefaultWaitTime},
		driverkit.Default{Name: "dial timeout", V: &c.DialTimeout, Def: DefaultDialTimeout},
	); err != nil {
		return nil, err
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.MaxReconnectAttempts < 0 {
		return nil, ek.Errorf(postroom.ErrInvalid, op, "negative MaxReconnectAttempts %d", c.MaxReconnectAttempts)
	}
	if c.Backoff == nil {
		c.Backoff = reconnect.DefaultBackoff
	}

	u, err := protocol.Parse(rawURL)
	if err != nil {
		return nil, ek.Errorf(postroom.ErrInvalid, op, "%v", err)
	}
	if c.Login == "" && c.Passcode == "" && u.User != nil {
		c.Login = u.User.Username()
		c.Passcode, _ = u.User.Password()
	}
	c.name = strings.TrimPrefix(u.Path, "/")
	if err := driverkit.ApplyParams(ek, op, u.Query(), true,
		driverkit.Known("failover"),
		driverkit.Int("prefetch", &c.Prefetch, opts.Prefetch != 0, 1, math.MaxInt),
		driverkit.Duration("wait_time", &c.WaitTime, opts.WaitTime != 0, time.Nanosecond, 0),
		driverkit.Duration("dial_timeout", &c.DialTimeout, opts.DialTimeout != 0, time.Nanosecond, 0),
		// heartbeat=0 turns heart-beating off
		driverkit.Duration("heartbeat", &c.Heartbeat, opts.Heartbeat != 0, 0, -1),
		driverkit.String("client_id", &c.ClientID),
		driverkit.String("host", &c.Host),
		driverkit.Bool("ack_receipts", &c.AckReceipts),
		driverkit.Bool("scheduled_delivery", &c.ScheduledDelivery),
	); err != nil {
		return nil, err
	}

	if c.endpoints, err = protocol.Endpoints(u, opts.Endpoints); err != nil {
		return nil, ek.Errorf(postroom.ErrInvalid, op, "%v", err)
	}
	return c, nil
}

// QueueOptions configure a queue [Broker.OpenQueue] opens. It has no
// fields yet (ActiveMQ makes queues on first use): every driver's
// OpenQueue takes its own QueueOptions, so that options can come without
// changing the signature.
type QueueOptions struct{}

// TopicOptions configure a topic [Broker.OpenTopic] opens. It has no
// fields yet: every driver's OpenTopic takes its own TopicOptions, so that
// options can come without changing the signature.
type TopicOptions struct{}
