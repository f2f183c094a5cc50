package amqp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/driverkit"
	"github.com/postroom/postroom/internal/reconnect"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

var _ broker.Broker = (*Broker)(nil)

// Broker is a connection to a RabbitMQ broker (an Amazon MQ for RabbitMQ
// broker, or any AMQP 0-9-1 server) that vends queues and topics and
// reconnects on its own. Create one with [Dial]; it is safe for concurrent
// use.
type Broker struct {
	cfg   *config
	ids   driverkit.IDs // message ids
	epoch atomic.Uint64 // numbers consumer channels, for receipts

	ctx     context.Context // ends the reconnect loop and its dials; cancelled by Close
	cancel  context.CancelFunc
	runDone chan struct{} // closed when the reconnect loop has returned
	wg      sync.WaitGroup

	// topoMu orders declarations against reconnection: a declaration
	// holds it for reading while it declares on a connection and records
	// itself; a reconnection holds it for writing from re-declaring the
	// recorded topology until the new connection is in use. So nothing
	// declared is missed by a new connection.
	topoMu sync.RWMutex

	kids      driverkit.Children // queues, topics and subscriptions; owners by URL
	mu        sync.Mutex         // guards everything below
	state     broker.State
	closed    bool  // by Close, or because reconnecting gave up
	closeErr  error // why reconnecting gave up
	sess      *session
	gen       uint64        // generation of the latest session
	changed   chan struct{} // closed and replaced whenever sess or state changes
	lastErr   error         // the latest connection error, for error messages
	topology  []*decl       // declarations to repeat on every new connection
	listeners map[*listener]struct{}
}

// A child is a queue, topic or subscription the broker closes with itself.
type child interface{ shutdown() }

// A decl is a declaration repeated on every new connection: a queue, an
// exchange or a binding.
type decl struct {
	key string // identifies it: "queue orders", "bind sub-1 events"
	run func(ch *amqp091.Channel) error
	// durable, for a durable queue, is its name: a reconnection checks
	// that the queue survived before declaring it again.
	durable string
}

// Dial connects to the broker at rawURL (amqp:// or amqps://, the AMQP URI
// whose path is the virtual host), trying the failover endpoints in order
// when the first refuses, and keeps the connection up until Close. It
// fails when no endpoint accepts a connection before ctx ends or the dial
// timeout passes.
func Dial(ctx context.Context, rawURL string, opts Options) (*Broker, error) {
	cfg, err := newConfig(rawURL, opts)
	if err != nil {
		return nil, err
	}
	b := &Broker{
		cfg:       cfg,
		runDone:   make(chan struct{}),
		state:     broker.Connecting,
		changed:   make(chan struct{}),
		listeners: make(map[*listener]struct{}),
	}
	b.ids.Init()
	b.ctx, b.cancel = context.WithCancel(context.Background())
	if err := b.connect(ctx); err != nil {
		b.cancel()
		return nil, err
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer close(b.runDone)
		b.run()
	}()
	return b, nil
}

// Capabilities reports what the driver does: queues, topics, durable
// subscriptions, typed headers, requeueing nacks and delayed nacks (through
// retry queues). Topic names are exchange names; there are no wildcards.
func (b *Broker) Capabilities() broker.Capabilities {
	return broker.Capabilities{Queues: true, Topics: true, Durable: true, Headers: true, Nack: true, DelayedNack: true}
}

// State returns the connection's current state.
func (b *Broker) State() broker.State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// Queue declares a durable queue (when it does not exist) and returns it.
// The queue's dynamic type is *[Queue].
func (b *Broker) Queue(ctx context.Context, name string) (queue.Queue, error) {
	q, err := b.OpenQueue(ctx, name, QueueOptions{})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// Topic declares a durable fanout exchange (when it does not exist) and
// returns it. The topic's dynamic type is *[Topic].
func (b *Broker) Topic(ctx context.Context, name string) (pubsub.Topic, error) {
	t, err := b.OpenTopic(ctx, name, TopicOptions{})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Close closes the connection and every queue, topic and subscription
// vended by the broker, and waits for the broker's goroutines. Sends and
// receives in progress return errors matching postroom.ErrClosed. Close does
// not delete anything on the broker.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed && b.closeErr == nil {
		b.mu.Unlock()
		b.wg.Wait()
		return nil
	}
	b.closed = true
	b.closeErr = nil
	b.mu.Unlock()

	b.cancel()
	<-b.runDone
	b.mu.Lock()
	s := b.sess
	b.sess = nil
	b.setStateLocked(broker.Closed, nil, "")
	b.mu.Unlock()
	if s != nil {
		s.close()
	}
	b.kids.ShutdownAll()
	b.wg.Wait()
	return nil
}

// run keeps the broker connected until Close: it waits for the current
// session to break, then reconnects with backoff.
func (b *Broker) run() {
	for {
		b.mu.Lock()
		s := b.sess
		b.mu.Unlock()
		if s == nil {
			return
		}
		err := b.watch(s)
		if err == nil {
			return // closing
		}
		b.mu.Lock()
		if b.sess == s {
			b.sess = nil
		}
		b.lastErr = err
		b.setStateLocked(broker.Reconnecting, err, s.ep.addr)
		b.mu.Unlock()
		s.close()

		policy := reconnect.Policy{Backoff: b.cfg.Backoff, MaxAttempts: b.cfg.MaxReconnectAttempts}
		err = reconnect.Again(b.ctx, policy, "amqp", b.connect, &b.mu, &b.lastErr, b.giveUp)
		if err != nil {
			return
		}
	}
}

// watch waits until s breaks, returning why, or until the broker closes,
// returning nil. It tracks the connection.blocked notifications of the
// publishing connection meanwhile.
func (b *Broker) watch(s *session) error {
	blocking := s.blocking
	for {
		select {
		case <-b.ctx.Done():
			return nil
		case e := <-s.pubClosed:
			return lostReason(e)
		case e := <-s.subClosed:
			return lostReason(e)
		case bl, ok := <-blocking:
			if !ok {
				blocking = nil
				continue
			}
			s.setBlocked(bl.Active)
		}
	}
}

func lostReason(e *amqp091.Error) error {
	if e == nil {
		return errors.New("amqp: connection closed")
	}
	return fmt.Errorf("amqp: connection lost: %w", wrapErr("connection", e))
}

// giveUp closes the broker after reconnecting failed for good.
func (b *Broker) giveUp(err error) {
	b.mu.Lock()
	b.closed = true
	b.closeErr = err
	b.lastErr = err
	b.setStateLocked(broker.Closed, err, "")
	b.mu.Unlock()
	b.kids.ShutdownAll()
}

// connect connects to the first endpoint that accepts, re-declares the
// recorded topology there and makes it the current session.
func (b *Broker) connect(ctx context.Context) error {
	var errs []error
	for _, ep := range b.cfg.endpoints {
		err := b.connectTo(ctx, ep)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep.addr, err))
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("amqp: connect: %w", errors.Join(errs...))
}

func (b *Broker) connectTo(ctx context.Context, ep endpoint) error {
	s, err := b.dialSession(ctx, ep)
	if err != nil {
		return err
	}
	b.topoMu.Lock()
	defer b.topoMu.Unlock()
	b.mu.Lock()
	topo := append([]*decl(nil), b.topology...)
	b.mu.Unlock()
	restoreErr := s.restore(topo)
	if s.dead() {
		s.close()
		return fmt.Errorf("connection lost while declaring the topology: %w", restoreErr)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		s.close()
		return ek.Closed("connect")
	}
	b.gen++
	s.gen = b.gen
	b.sess = s
	b.lastErr = nil
	b.setStateLocked(broker.Connected, restoreErr, ep.addr)
	return nil
}

// setStateLocked records a change of state and tells the listeners.
func (b *Broker) setStateLocked(to broker.State, err error, endpoint string) {
	close(b.changed)
	b.changed = make(chan struct{})
	if b.state == to {
		return
	}
	sc := broker.StateChange{From: b.state, To: to, Err: err, Endpoint: endpoint}
	b.state = to
	for l := range b.listeners {
		l.push(sc)
	}
}

// session returns the current session, waiting for a reconnection while
// there is none, until ctx ends or done is closed.
func (b *Broker) session(ctx context.Context, op string, done <-chan struct{}) (*session, error) {
	for {
		b.mu.Lock()
		closed, closeErr, s, changed, lastErr := b.closed, b.closeErr, b.sess, b.changed, b.lastErr
		b.mu.Unlock()
		if closed {
			if closeErr != nil {
				return nil, fmt.Errorf("amqp: %s: %w (%v)", op, postroom.ErrClosed, closeErr)
			}
			return nil, ek.Closed(op)
		}
		if s != nil && !s.dead() {
			return s, nil
		}
		select {
		case <-changed:
		case <-done:
			return nil, ek.Closed(op)
		case <-ctx.Done():
			if lastErr != nil {
				return nil, fmt.Errorf("amqp: %s: waiting for a connection (last error: %v): %w", op, lastErr, ctx.Err())
			}
			return nil, fmt.Errorf("amqp: %s: waiting for a connection: %w", op, ctx.Err())
		}
	}
}

// declare runs d on the current connection and, when keep is set, records
// it so that every new connection declares it again.
func (b *Broker) declare(ctx context.Context, op string, d *decl, keep bool) error {
	for {
		s, err := b.session(ctx, op, nil)
		if err != nil {
			return err
		}
		b.topoMu.RLock()
		if !b.isCurrent(s) {
			b.topoMu.RUnlock()
			continue
		}
		err = s.control(d.run)
		if err == nil && keep {
			b.remember(d)
		}
		b.topoMu.RUnlock()
		if err != nil && s.dead() {
			continue
		}
		return wrapErr(op, err)
	}
}

// undeclare forgets the declaration with key and runs del, if not nil, on
// the current connection.
func (b *Broker) undeclare(ctx context.Context, op, key string, del func(ch *amqp091.Channel) error) error {
	b.forget(key)
	if del == nil {
		return nil
	}
	for {
		s, err := b.session(ctx, op, nil)
		if err != nil {
			return err
		}
		err = s.control(del)
		if err != nil && s.dead() {
			continue
		}
		return wrapErr(op, err)
	}
}

func (b *Broker) isCurrent(s *session) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sess == s
}

func (b *Broker) remember(d *decl) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, o := range b.topology {
		if o.key == d.key {
			return
		}
	}
	b.topology = append(b.topology, d)
}

func (b *Broker) forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, o := range b.topology {
		if o.key == key {
			b.topology = append(b.topology[:i], b.topology[i+1:]...)
			return
		}
	}
}

// adopt makes c close with the broker; it fails when the broker is closed.
func (b *Broker) adopt(c child) error { return b.kids.Adopt(ek, c, c.shutdown) }

func (b *Broker) disown(c child) { b.kids.Disown(c) }

// goroutine runs f in a goroutine the broker owns and waits for on Close.
// It reports false, running nothing, when the broker is closed.
func (b *Broker) goroutine(f func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f()
	}()
	return true
}

func (b *Broker) newID() string { return b.ids.New() }
