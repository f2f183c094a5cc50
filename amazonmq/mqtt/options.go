package mqtt

import (
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
	DefaultKeepAlive   = 30 * time.Second
	DefaultWaitTime    = 20 * time.Second
	DefaultDialTimeout = 10 * time.Second
)

// Options configure a [Broker]. The zero value works: it connects to the
// one URL given to [Dial] without credentials under a random client id,
// keeps the connection alive every 30 s and reconnects forever with
// a backoff of 100 ms doubling up to 5 s.
type Options struct {
	// Endpoints are more brokers, tried in order after the URL given to
	// Dial, on the first connection and on every reconnection: the
	// standby of an Amazon MQ active/standby pair. Each is a URL
	// (mqtt://, mqtts://, mqtt+ssl://, tcp://, ssl://) or host:port, which
	// takes the scheme of Dial's URL. The URL's failover query parameter
	// adds more.
	Endpoints []string

	// Username and Password authenticate. When both are empty the URL's
	// user info is used.
	Username, Password string

	// ClientID is the MQTT client id of the broker's own connection, the
	// one that publishes and holds the subscriptions without a name (a
	// clean session). Empty means "postroom-" and random hex. A durable
	// subscription has a connection of its own whose client id is its
	// name.
	ClientID string

	// TLSConfig is used for mqtts endpoints; nil uses the system roots,
	// which is what Amazon MQ needs. It is cloned per connection, and its
	// ServerName defaults to the endpoint's host.
	TLSConfig *tls.Config

	// KeepAlive is the MQTT keep-alive interval; 0 means 30 s. A
	// connection whose PINGREQ gets no answer is lost.
	KeepAlive time.Duration

	// WaitTime is Receive's default long-poll wait, used when
	// ReceiveOptions.WaitTime is zero; 0 means 20 s.
	WaitTime time.Duration

	// RawPayload publishes bodies as they are, without the envelope that
	// carries the id, the attributes and the subject, for subscribers
	// that are not postroom. A message with attributes or a subject is
	// then refused with postroom.ErrUnsupported. Receiving recognises
	// envelopes either way.
	RawPayload bool

	// Backoff spaces reconnection attempts (one attempt tries every
	// endpoint); nil means 100 ms doubling up to 5 s, with equal
	// jitter.
	Backoff backoff.Policy

	// MaxReconnectAttempts gives up after that many failed attempts in a
	// row, closing the broker; 0 retries forever.
	MaxReconnectAttempts int

	// DialTimeout bounds the TCP, TLS and MQTT handshakes with one
	// endpoint, and each write; 0 means 10 s.
	DialTimeout time.Duration
}

// config is Options with defaults applied and endpoints resolved.
type config struct {
	Options
	endpoints []brokeraddr.Endpoint
	name      string // the path of Dial's URL: a topic for pubsub.Open
}

// protocol is what MQTT URLs look like. paho's names (tcp, ssl, tls,
// tcps) are taken too.
var protocol = &brokeraddr.Protocol{
	Scheme: SchemeMQTT, TLSScheme: SchemeMQTTS,
	Plain:  []string{"tcp"},
	Secure: []string{SchemeMQTTSSL, "ssl", "tls", "tcps"},
	Port:   "1883", TLSPort: "8883",
}

// pahoURL is the address of ep in paho's terms.
func pahoURL(ep brokeraddr.Endpoint) string {
	if ep.TLS {
		return "ssl://" + ep.Addr
	}
	return "tcp://" + ep.Addr
}

// newConfig validates opts and resolves the endpoints of rawURL.
func newConfig(rawURL string, opts Options) (*config, error) {
	const op = "dial"
	c := &config{Options: opts}
	if err := driverkit.ApplyDefaults(ek, op,
		driverkit.Default{Name: "keep-alive", V: &c.KeepAlive, Def: DefaultKeepAlive},
		driverkit.Default{Name: "wait time", V: &c.WaitTime, Def: DefaultWaitTime},
		driverkit.Default{Name: "dial timeout", V: &c.DialTimeout, Def: DefaultDialTimeout},
	); err != nil {
		return nil, err
	}
	if c.KeepAlive < time.Second {
		return nil, ek.Errorf(postroom.ErrInvalid, op, "keep-alive %v under 1s", c.KeepAlive)
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
	if c.Username == "" && c.Password == "" && u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	c.name = strings.TrimPrefix(u.Path, "/")
	if err := driverkit.ApplyParams(ek, op, u.Query(), true,
		driverkit.Known("failover"),
		driverkit.Duration("keep_alive", &c.KeepAlive, opts.KeepAlive != 0, time.Second, 0),
		driverkit.Duration("wait_time", &c.WaitTime, opts.WaitTime != 0, time.Nanosecond, 0),
		driverkit.Duration("dial_timeout", &c.DialTimeout, opts.DialTimeout != 0, time.Nanosecond, 0),
		driverkit.String("client_id", &c.ClientID),
		driverkit.Bool("raw_payload", &c.RawPayload),
	); err != nil {
		return nil, err
	}
	if c.endpoints, err = protocol.Endpoints(u, opts.Endpoints); err != nil {
		return nil, ek.Errorf(postroom.ErrInvalid, op, "%v", err)
	}
	return c, nil
}

// TopicOptions configure a topic [Broker.OpenTopic] opens. It has no
// fields yet: every driver's OpenTopic takes its own TopicOptions, so that
// options can come without changing the signature.
type TopicOptions struct{}
