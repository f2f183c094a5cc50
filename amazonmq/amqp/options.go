package amqp

import (
	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/internal/reconnect"

	"crypto/tls"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/postroom/postroom/backoff"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/postroom/postroom/internal/brokeraddr"
)

// Defaults of [Options].
const (
	DefaultPrefetch    = 20
	DefaultWaitTime    = 20 * time.Second
	DefaultDialTimeout = 10 * time.Second
	DefaultHeartbeat   = 10 * time.Second
)

// Queue types of [Options.QueueType].
const (
	QueueTypeClassic = "classic"
	QueueTypeQuorum  = "quorum"
)

// DefaultRetryBuckets returns the delays Nack and Message.Delay round up
// to when Options.RetryBuckets is nil, ascending: each is one retry queue
// with that message TTL. The slice is the caller's to change.
func DefaultRetryBuckets() []time.Duration { return slices.Clone(defaultRetryBuckets) }

var defaultRetryBuckets = []time.Duration{
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 3 * time.Second, 5 * time.Second,
	10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 3 * time.Minute, 5 * time.Minute,
	10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
}

// Options configure a [Broker]. The zero value works: it connects to the
// one URL given to [Dial], prefetches 20 messages per consumer, and
// reconnects forever with a backoff of 100 ms doubling up to 5 s.
type Options struct {
	// Endpoints are more broker URLs (amqp:// or amqps://), tried in
	// order after the URL given to Dial, on the first connection and on
	// every reconnection. Use them for Amazon MQ active/standby pairs or
	// cluster nodes. The URL's failover query parameter adds more.
	Endpoints []string

	// TLSConfig is used for amqps:// endpoints; nil uses the system roots
	// (which is what Amazon MQ needs) or the certfile, keyfile and
	// cacertfile query parameters of the URL. It is cloned per
	// connection, and its ServerName defaults to the endpoint's host.
	TLSConfig *tls.Config

	// Prefetch is how many unacked deliveries the broker pushes to one
	// queue or subscription ahead of Receive (basic.qos); 0 means 20.
	Prefetch int

	// QueueType declares queues ("classic" or "quorum"); empty leaves it
	// to the broker's default. Quorum queues count redeliveries exactly
	// (x-delivery-count); classic queues only flag them.
	QueueType string

	// WaitTime is Receive's default long-poll wait, used when
	// ReceiveOptions.WaitTime is zero; 0 means 20 s.
	WaitTime time.Duration

	// RetryBuckets are the delays, ascending, that Nack and Message.Delay
	// round up to; nil means DefaultRetryBuckets(). A longer delay than the
	// last bucket is rejected with postroom.ErrInvalid.
	RetryBuckets []time.Duration

	// DropUnroutable makes a topic publish that no subscription receives
	// succeed, as SNS does, instead of failing with ErrUnroutable. Sends
	// to queues are always mandatory.
	DropUnroutable bool

	// Backoff spaces reconnection attempts (one attempt tries every
	// endpoint); nil means 100 ms doubling up to 5 s, with equal
	// jitter.
	Backoff backoff.Policy

	// MaxReconnectAttempts gives up after that many failed attempts in a
	// row, closing the broker; 0 retries forever.
	MaxReconnectAttempts int

	// DialTimeout bounds the TCP, TLS and AMQP handshakes with one
	// endpoint; 0 means 10 s.
	DialTimeout time.Duration

	// Heartbeat is the AMQP heartbeat interval asked of the broker; 0
	// means 10 s. A heartbeat query parameter of the URL wins.
	Heartbeat time.Duration

	// ConnectionName is shown in the broker's management UI; empty means
	// "postroom".
	ConnectionName string

	// wrapConn, when set, wraps every TCP connection (tests cut them).
	wrapConn func(net.Conn) net.Conn
}

// config is Options with defaults applied and endpoints resolved.
type config struct {
	Options
	endpoints []endpoint
}

// endpoint is one broker address to try.
type endpoint struct {
	url  string // the URL handed to amqp091, without postroom's parameters
	addr string // host:port, for state changes and errors
}

// postroomParams are the URL query parameters of this driver, removed
// before the URL reaches amqp091.
var postroomParams = []string{"failover", "prefetch", "queue_type", "queue", "topic", "drop_unroutable", "wait_time"}

// newConfig validates opts and resolves the endpoints of rawURL.
func newConfig(rawURL string, opts Options) (*config, error) {
	const op = "dial"
	c := &config{Options: opts}
	switch {
	case c.Prefetch < 0:
		return nil, ek.Errorf(postroom.ErrInvalid, op, "negative prefetch %d", c.Prefetch)
	case c.Prefetch == 0:
		c.Prefetch = DefaultPrefetch
	case c.Prefetch > 65535:
		return nil, ek.Errorf(postroom.ErrInvalid, op, "prefetch %d over 65535", c.Prefetch)
	}
	if err := checkQueueType(op, c.QueueType); err != nil {
		return nil, err
	}
	if err := driverkit.ApplyDefaults(ek, op,
		driverkit.Default{Name: "wait time", V: &c.WaitTime, Def: DefaultWaitTime},
		driverkit.Default{Name: "dial timeout", V: &c.DialTimeout, Def: DefaultDialTimeout},
		driverkit.Default{Name: "heartbeat", V: &c.Heartbeat, Def: DefaultHeartbeat},
	); err != nil {
		return nil, err
	}
	if c.MaxReconnectAttempts < 0 {
		return nil, ek.Errorf(postroom.ErrInvalid, op, "negative MaxReconnectAttempts %d", c.MaxReconnectAttempts)
	}
	if c.RetryBuckets == nil {
		c.RetryBuckets = defaultRetryBuckets
	}
	if len(c.RetryBuckets) == 0 {
		return nil, ek.Errorf(postroom.ErrInvalid, op, "empty RetryBuckets")
	}
	for i, d := range c.RetryBuckets {
		if d < time.Millisecond || i > 0 && d <= c.RetryBuckets[i-1] {
			return nil, ek.Errorf(postroom.ErrInvalid, op, "RetryBuckets must ascend from 1ms: %v", c.RetryBuckets)
		}
	}
	c.RetryBuckets = slices.Clone(c.RetryBuckets)
	if c.Backoff == nil {
		c.Backoff = reconnect.DefaultBackoff
	}
	if c.ConnectionName == "" {
		c.ConnectionName = "postroom"
	}

	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	// Parameters not named here are amqp091's (heartbeat, channel_max,
	// certfile, …), checked below by amqp091.ParseURI.
	if err := driverkit.ApplyParams(ek, op, q, false,
		driverkit.Int("prefetch", &c.Prefetch, opts.Prefetch != 0, 1, 65535),
		driverkit.OneOf("queue_type", &c.QueueType, QueueTypeClassic, QueueTypeQuorum),
		driverkit.Duration("wait_time", &c.WaitTime, opts.WaitTime != 0, 0, 0),
		driverkit.Bool("drop_unroutable", &c.DropUnroutable),
	); err != nil {
		return nil, err
	}

	c.endpoints = append(c.endpoints, newEndpoint(u))
	for _, h := range brokeraddr.Failover(q) {
		fu := *u
		fu.Host = h
		if _, _, err := net.SplitHostPort(h); err != nil {
			return nil, ek.Errorf(postroom.ErrInvalid, op, "failover host %q: want host:port", h)
		}
		if _, err := url.Parse(fu.String()); err != nil { // a port that is no number
			return nil, ek.Errorf(postroom.ErrInvalid, op, "failover host %q: %v", h, err)
		}
		c.endpoints = append(c.endpoints, newEndpoint(&fu))
	}
	for _, raw := range opts.Endpoints {
		eu, err := parseURL(raw)
		if err != nil {
			return nil, err
		}
		c.endpoints = append(c.endpoints, newEndpoint(eu))
	}
	// amqp091's own parameters (heartbeat, channel_max, …) are checked
	// now, not at the first dial.
	for _, e := range c.endpoints {
		if _, err := amqp091.ParseURI(e.url); err != nil {
			return nil, ek.Errorf(postroom.ErrInvalid, op, "%s: %v", e.addr, err)
		}
	}
	return c, nil
}

// protocol is what AMQP URLs look like. An endpoint of this driver is
// the whole URL, virtual host and parameters included (see newEndpoint),
// so only its parsing is taken from package brokeraddr.
var protocol = &brokeraddr.Protocol{Scheme: "amqp", TLSScheme: "amqps"}

// parseURL parses an amqp:// or amqps:// URL.
func parseURL(raw string) (*url.URL, error) {
	u, err := protocol.Parse(raw)
	if err != nil {
		return nil, ek.Errorf(postroom.ErrInvalid, "dial", "%v", err)
	}
	return u, nil
}

// newEndpoint strips postroom's parameters from u.
func newEndpoint(u *url.URL) endpoint {
	c := *u
	q := c.Query()
	for _, p := range postroomParams {
		q.Del(p)
	}
	c.RawQuery = q.Encode()
	addr := c.Host
	if c.Port() == "" {
		port := "5672"
		if c.Scheme == "amqps" {
			port = "5671"
		}
		addr = net.JoinHostPort(c.Hostname(), port)
	}
	return endpoint{url: c.String(), addr: addr}
}

// bucket returns the retry bucket a delay rounds up to, or false when the
// delay is longer than the last bucket.
func (c *config) bucket(d time.Duration) (time.Duration, bool) {
	i, _ := slices.BinarySearch(c.RetryBuckets, d)
	if i == len(c.RetryBuckets) {
		return 0, false
	}
	return c.RetryBuckets[i], true
}

func checkQueueType(op, t string) error {
	switch t {
	case "", QueueTypeClassic, QueueTypeQuorum:
		return nil
	}
	return ek.Errorf(postroom.ErrInvalid, op, "queue type %q (want %q or %q)", t, QueueTypeClassic, QueueTypeQuorum)
}

// QueueOptions configure a queue [Broker.OpenQueue] declares. The zero
// value declares a queue of Options.QueueType.
type QueueOptions struct {
	// Type is the queue's type ("classic" or "quorum"); empty means
	// Options.QueueType.
	Type string
}

// TopicOptions configure a topic [Broker.OpenTopic] declares. It has no
// fields yet: every driver's OpenTopic takes its own TopicOptions, so that
// options can come without changing the signature.
type TopicOptions struct{}
