package mqtt

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/brokerstate"
	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// MaxBatch is the most messages one Publish, Receive or Ack call takes.
const MaxBatch = 100

var _ broker.Broker = (*Broker)(nil)

// Broker is an MQTT 3.1.1 connection to an ActiveMQ broker (an Amazon MQ
// for ActiveMQ broker) or any MQTT 3.1.1 server, such as Mosquitto. It
// vends topics (MQTT has no queues) and reconnects on its own. Create one
// with [Dial]; it is safe for concurrent use.
type Broker struct {
	cfg      *config
	ids      driverkit.IDs // message ids
	genSeq   atomic.Uint64 // numbers links, for receipts
	notify   *brokerstate.Notifier
	clientID string // of the broker's own connection; subscriptions without a name add a suffix
	subSeq   atomic.Uint64
	main     *session // the broker's own connection, which publishes

	closeOnce sync.Once
	kids      driverkit.Children // queues, topics and subscriptions; owners by URL
	mu        sync.Mutex         // guards everything below
	closed    bool
	down      map[*session]struct{} // sessions reconnecting
}

// A child is a topic or subscription the broker closes with itself.
type child interface{ shutdown() }

// Dial connects to the broker at rawURL (mqtt:// or mqtts://, see the
// package documentation for the query parameters), trying the failover
// endpoints in order when the first refuses, and keeps the connection up
// until Close. It fails when no endpoint accepts a connection before ctx
// ends or the dial timeout passes.
func Dial(ctx context.Context, rawURL string, opts Options) (*Broker, error) {
	cfg, err := newConfig(rawURL, opts)
	if err != nil {
		return nil, err
	}
	b := &Broker{
		cfg:    cfg,
		notify: brokerstate.New(),
		down:   make(map[*session]struct{}),
	}
	seed := b.ids.Init()
	b.clientID = cfg.ClientID
	if b.clientID == "" {
		b.clientID = "postroom-" + seed
	}
	b.main = newSession(b, b.clientID, true, nil)
	if err := b.main.start(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Capabilities reports what the driver does: topics, durable
// subscriptions (persistent sessions) and wildcards. MQTT 3.1.1 has no
// queues, no headers (attributes travel in an envelope) and no nack.
func (b *Broker) Capabilities() broker.Capabilities {
	return broker.Capabilities{Topics: true, Durable: true, Wildcards: true}
}

// State returns the state of the broker's connections: the broker's own
// (which publishes) and one per subscription. It is Reconnecting while
// any of them is, and Connected when all are.
func (b *Broker) State() broker.State { return b.notify.Get() }

// NotifyState calls f on each change of state, from one goroutine, in
// order, until stop is called or the broker is closed (the move to Closed
// is the last call). f must not block for long. The state is that of all
// the broker's connections together; a change carries the endpoint and
// error of the connection that caused it.
func (b *Broker) NotifyState(f func(broker.StateChange)) (stop func()) { return b.notify.Add(f) }

// sessionUp, sessionDown and sessionGone track the sessions'
// connections; the broker is Connected when none is down.
func (b *Broker) sessionUp(s *session, endpoint string) {
	b.mu.Lock()
	delete(b.down, s)
	up := len(b.down) == 0 && !b.closed
	b.mu.Unlock()
	if up {
		b.notify.Set(broker.Connected, nil, endpoint)
	}
}

func (b *Broker) sessionDown(s *session, err error, endpoint string) {
	b.mu.Lock()
	b.down[s] = struct{}{}
	closed := b.closed
	b.mu.Unlock()
	if !closed {
		b.notify.Set(broker.Reconnecting, err, endpoint)
	}
}

func (b *Broker) sessionGone(s *session) {
	b.mu.Lock()
	_, wasDown := b.down[s]
	delete(b.down, s)
	up := wasDown && len(b.down) == 0 && !b.closed
	b.mu.Unlock()
	if up {
		b.notify.Set(broker.Connected, nil, "")
	}
}

// Queue returns an error matching postroom.ErrUnsupported: MQTT has topics
// only. (A persistent session is the nearest thing: a durable
// subscription.)
func (b *Broker) Queue(ctx context.Context, name string) (queue.Queue, error) {
	if b.isClosed() {
		return nil, ek.Closed("queue")
	}
	return nil, ek.Unsupported("queue", "MQTT has topics only; use a durable subscription")
}

// Topic returns the MQTT topic name (a topic filter, with + and #, to
// subscribe to many). The topic's dynamic type is *[Topic].
func (b *Broker) Topic(ctx context.Context, name string) (pubsub.Topic, error) {
	return b.OpenTopic(ctx, name, TopicOptions{})
}

// OpenTopic is Topic with options, returning the concrete type.
func (b *Broker) OpenTopic(ctx context.Context, name string, opts TopicOptions) (*Topic, error) {
	if err := checkFilter("topic", name); err != nil {
		return nil, err
	}
	t := &Topic{b: b, name: name}
	if err := b.adopt(t); err != nil {
		return nil, err
	}
	return t, nil
}

// Close disconnects the broker's connection and those of its durable
// subscriptions (whose sessions the broker keeps), and closes everything
// vended by it.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		b.kids.ShutdownAll()
		b.main.close()
		b.notify.Set(broker.Closed, nil, "")
		b.notify.Close()
	})
	return nil
}

// giveUp is called when session s could not connect again: for the
// broker's own session it closes the broker; a subscription's session
// just stops.
func (b *Broker) giveUp(s *session, err error) {
	if s != b.main {
		b.sessionGone(s)
		return
	}
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.notify.Set(broker.Closed, err, "")
	b.kids.ShutdownAll()
}

func (b *Broker) adopt(c child) error { return b.kids.Adopt(ek, c, c.shutdown) }

func (b *Broker) disown(c child) { b.kids.Disown(c) }

func (b *Broker) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// subClientID returns the client id of a new subscription without a name.
func (b *Broker) subClientID() string {
	return b.clientID + "-s" + strconv.FormatUint(b.subSeq.Add(1), 10)
}

func (b *Broker) newID() string { return b.ids.New() }
