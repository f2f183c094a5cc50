package stomp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-stomp/stomp/v3/frame"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/brokerstate"
	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/internal/reconnect"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// MaxBatch is the most messages one Send, Publish, Receive, Ack or Nack
// call takes.
const MaxBatch = 100

// closeTimeout bounds the wait for the broker's receipt of a DISCONNECT or
// UNSUBSCRIBE frame when closing.
const closeTimeout = 5 * time.Second

var _ broker.Broker = (*Broker)(nil)

// Broker is a STOMP connection to an ActiveMQ broker (an Amazon MQ for
// ActiveMQ broker, or any STOMP 1.1/1.2 server with ActiveMQ's extensions)
// that vends queues and topics and reconnects on its own. Create one with
// [Dial]; it is safe for concurrent use.
type Broker struct {
	cfg    *config
	ids    driverkit.IDs // message ids
	genSeq atomic.Uint64 // numbers connections, for receipts
	subSeq atomic.Uint64 // numbers subscriptions
	notify *brokerstate.Notifier

	ctx       context.Context // ends the reconnect loop and its dials; cancelled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the reconnect loop
	closeOnce sync.Once

	kids      driverkit.Children // queues, topics and subscriptions; owners by URL
	mu        sync.Mutex         // guards everything below
	conn      *conn              // the connection in use; nil while reconnecting
	changed   chan struct{}
	closed    bool  // by Close, or because reconnecting gave up
	closeErr  error // why reconnecting gave up
	lastErr   error // the latest connection error, for error messages
	receivers map[*receiver]struct{}
}

// A child is a queue, topic or subscription the broker closes with itself.
type child interface{ shutdown() }

// Dial connects to the broker at rawURL (stomp:// or stomp+ssl://, see the
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
		cfg:       cfg,
		notify:    brokerstate.New(),
		changed:   make(chan struct{}),
		receivers: make(map[*receiver]struct{}),
	}
	b.ids.Init()
	b.ctx, b.cancel = context.WithCancel(context.Background())
	c, err := b.connect(ctx)
	if err != nil {
		b.cancel()
		return nil, err
	}
	b.install(c)
	b.wg.Add(1)
	go b.run(c)
	return b, nil
}

// Capabilities reports what the driver does: queues, topics, durable
// subscriptions, attributes as headers, and nacks that redeliver. Delayed
// nacks need Options.ScheduledDelivery. Subscriptions take ActiveMQ's
// wildcards ("orders.*", "orders.>").
func (b *Broker) Capabilities() broker.Capabilities {
	return broker.Capabilities{
		Queues: true, Topics: true, Durable: true, Headers: true, Nack: true,
		DelayedNack: b.cfg.ScheduledDelivery, Wildcards: true,
	}
}

// State returns the connection's current state.
func (b *Broker) State() broker.State { return b.notify.Get() }

// NotifyState calls f on each change of state, from one goroutine, in
// order, until stop is called or the broker is closed (the move to Closed
// is the last call). f must not block for long.
func (b *Broker) NotifyState(f func(broker.StateChange)) (stop func()) { return b.notify.Add(f) }

// Queue returns the queue /queue/name. ActiveMQ creates queues when they
// are first used, so nothing is declared. The queue's dynamic type is
// *[Queue].
func (b *Broker) Queue(ctx context.Context, name string) (queue.Queue, error) {
	return b.OpenQueue(ctx, name, QueueOptions{})
}

// OpenQueue is Queue with options, returning the concrete type.
func (b *Broker) OpenQueue(ctx context.Context, name string, opts QueueOptions) (*Queue, error) {
	if err := checkName("queue", name); err != nil {
		return nil, err
	}
	q := &Queue{b: b, name: name, dest: "/queue/" + name}
	q.r = newReceiver(b, q.dest, "", false)
	if err := b.adopt(q); err != nil {
		return nil, err
	}
	return q, nil
}

// Topic returns the topic /topic/name. The topic's dynamic type is
// *[Topic].
func (b *Broker) Topic(ctx context.Context, name string) (pubsub.Topic, error) {
	return b.OpenTopic(ctx, name, TopicOptions{})
}

// OpenTopic is Topic with options, returning the concrete type.
func (b *Broker) OpenTopic(ctx context.Context, name string, opts TopicOptions) (*Topic, error) {
	if err := checkName("topic", name); err != nil {
		return nil, err
	}
	t := &Topic{b: b, name: name, dest: "/topic/" + name}
	if err := b.adopt(t); err != nil {
		return nil, err
	}
	return t, nil
}

func checkName(op, name string) error {
	switch {
	case name == "":
		return ek.Errorf(postroom.ErrInvalid, op, "empty name")
	case strings.ContainsAny(name, "\x00\r\n"):
		return ek.Errorf(postroom.ErrInvalid, op, "name %q holds a control character", name)
	case strings.HasPrefix(name, "/"):
		return ek.Errorf(postroom.ErrInvalid, op, "name %q: give the name without /queue/ or /topic/", name)
	}
	return nil
}

// Close closes the connection (DISCONNECT) and everything vended by it.
// Messages received and not acked are delivered again by the broker.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		close(b.changed)
		b.changed = make(chan struct{})
		b.mu.Unlock()
		b.kids.ShutdownAll()
		b.cancel()
		b.wg.Wait()
		b.notify.Set(broker.Closed, nil, "")
		b.notify.Close()
	})
	return nil
}

func (b *Broker) adopt(c child) error { return b.kids.Adopt(ek, c, c.shutdown) }

func (b *Broker) disown(c child) { b.kids.Disown(c) }

// track makes the reconnect loop restore r on every new connection.
func (b *Broker) track(r *receiver) {
	b.mu.Lock()
	b.receivers[r] = struct{}{}
	b.mu.Unlock()
}

func (b *Broker) untrack(r *receiver) {
	b.mu.Lock()
	delete(b.receivers, r)
	b.mu.Unlock()
}

func (b *Broker) newID() string { return b.ids.New() }

// run keeps the broker connected until Close: it waits for the current
// connection to break, then reconnects with backoff and restores the
// subscriptions.
func (b *Broker) run(c *conn) {
	defer b.wg.Done()
	for {
		select {
		case <-c.done:
		case <-b.ctx.Done():
			c.close(closeTimeout)
			return
		}
		c.wg.Wait()
		b.lost(c)
		policy := reconnect.Policy{Backoff: b.cfg.Backoff, MaxAttempts: b.cfg.MaxReconnectAttempts}
		err := reconnect.Again(b.ctx, policy, "stomp", func(ctx context.Context) error {
			nc, err := b.connect(ctx)
			if err != nil {
				return err
			}
			if !b.install(nc) {
				nc.close(0)
				return fmt.Errorf("stomp: connection lost while restoring subscriptions: %w", nc.err)
			}
			c = nc
			return nil
		}, &b.mu, &b.lastErr, b.giveUp)
		if err != nil {
			return
		}
	}
}

// connect connects to the first endpoint that accepts.
func (b *Broker) connect(ctx context.Context) (*conn, error) {
	var errs []error
	for _, ep := range b.cfg.endpoints {
		c, err := dialConn(ctx, b.cfg, ep, b.genSeq.Add(1))
		if err == nil {
			return c, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("stomp: connect: %w", errors.Join(errs...))
}

// install restores the subscriptions on c and makes it the connection in
// use. It reports false when c was lost meanwhile.
func (b *Broker) install(c *conn) bool {
	b.mu.Lock()
	rs := make([]*receiver, 0, len(b.receivers))
	for r := range b.receivers {
		rs = append(rs, r)
	}
	b.mu.Unlock()
	var restoreErr error
	for _, r := range rs {
		ctx, cancel := context.WithTimeout(b.ctx, b.cfg.DialTimeout)
		err := r.subscribeOn(ctx, c)
		cancel()
		if err != nil && !r.isClosed() {
			if !c.alive() {
				return false
			}
			restoreErr = errors.Join(restoreErr, fmt.Errorf("stomp: restoring subscription to %s: %w", r.dest, err))
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || !c.alive() {
		return false
	}
	b.conn = c
	b.lastErr = nil
	close(b.changed)
	b.changed = make(chan struct{})
	b.notify.Set(broker.Connected, restoreErr, c.endpoint.String())
	return true
}

// lost takes c out of use after it broke.
func (b *Broker) lost(c *conn) {
	b.mu.Lock()
	if b.conn == c {
		b.conn = nil
	}
	b.lastErr = c.err
	close(b.changed)
	b.changed = make(chan struct{})
	rs := make([]*receiver, 0, len(b.receivers))
	for r := range b.receivers {
		rs = append(rs, r)
	}
	b.mu.Unlock()
	for _, r := range rs {
		r.purge(c)
	}
	b.notify.Set(broker.Reconnecting, c.err, c.endpoint.String())
}

// giveUp closes the broker after reconnecting failed for good.
func (b *Broker) giveUp(err error) {
	b.mu.Lock()
	b.closed = true
	b.closeErr = err
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
	b.notify.Set(broker.Closed, err, "")
	b.kids.ShutdownAll()
}

// current returns the connection in use, waiting for a reconnection while
// there is none, until ctx ends.
func (b *Broker) current(ctx context.Context, op string) (*conn, error) {
	for {
		b.mu.Lock()
		c, changed, closed, closeErr, last := b.conn, b.changed, b.closed, b.closeErr, b.lastErr
		b.mu.Unlock()
		if closed {
			if closeErr != nil {
				return nil, fmt.Errorf("stomp: %s: %w: %v", op, postroom.ErrClosed, closeErr)
			}
			return nil, ek.Closed(op)
		}
		if c != nil && c.alive() {
			return c, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ek.Context(op, ctx.Err(), last)
		}
	}
}

// subscribe makes r's subscription active on the connection in use,
// following reconnections until ctx ends.
func (b *Broker) subscribe(ctx context.Context, r *receiver) error {
	for {
		c, err := b.current(ctx, "subscribe")
		if err != nil {
			return err
		}
		err = r.subscribeOn(ctx, c)
		if err == nil || !errors.Is(err, errLost) {
			return err
		}
		if ctx.Err() != nil {
			return ek.Context("subscribe", ctx.Err(), err)
		}
	}
}

// send sends frames, confirmed by the broker's receipts, and returns the
// broker's refusal of each frame (nil when none was refused), or an error
// when nothing was sent. On a lost connection it sends them again on the
// next one, until ctx ends: a message may then arrive twice, never not at
// all. After an ERROR frame that answered no receipt it sends every frame
// alone with its own receipt, so that a refusal is reported for its frame.
func (b *Broker) send(ctx context.Context, op string, frames []*frame.Frame) ([]error, error) {
	kind := opTx
	var last error
	for {
		c, err := b.current(ctx, op)
		if err != nil {
			if last != nil && ctx.Err() != nil {
				return nil, ek.Context(op, ctx.Err(), last)
			}
			return nil, err
		}
		o := newOp(kind, frames...)
		err = c.do(ctx, o)
		if err == nil {
			err = o.err
		}
		switch {
		case err == nil:
			if kind == opEach {
				for _, e := range o.errs {
					if e != nil {
						return o.errs, nil
					}
				}
			}
			return nil, nil
		case errors.Is(err, errLost):
			last = err
			if isBrokerLoss(err) {
				kind = opEach
			}
		case ctx.Err() != nil:
			return nil, ek.Context(op, ctx.Err(), last)
		default:
			return nil, err // the broker refused the transaction
		}
	}
}
