package amqp

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/postroom/postroom"
)

// A session is one connected generation of a broker: two AMQP connections
// to one endpoint, one for publishing and one for consuming and declaring,
// so that the broker's flow control of publishers never delays acks.
// When either breaks, the broker drops the session and dials a new one.
type session struct {
	gen       uint64 // set when the session is installed
	ep        endpoint
	pub, sub  *amqp091.Connection
	pubClosed chan *amqp091.Error
	subClosed chan *amqp091.Error
	blocking  chan amqp091.Blocking

	blockMu   sync.Mutex    // guards blocked and unblocked
	blocked   bool          // the broker blocked publishing (resource alarm)
	unblocked chan struct{} // closed when it unblocks

	pubMu sync.Mutex // guards p
	p     *publisher

	ctlMu sync.Mutex // guards ctl and retries
	ctl   *amqp091.Channel
	// retries records when each retry queue was last declared on this
	// session; see ensureRetry.
	retries map[string]time.Time
}

// dialSession opens both connections of a session to ep.
func (b *Broker) dialSession(ctx context.Context, ep endpoint) (*session, error) {
	pub, err := b.dial(ctx, ep, "publish")
	if err != nil {
		return nil, err
	}
	sub, err := b.dial(ctx, ep, "consume")
	if err != nil {
		_ = pub.Close()
		return nil, err
	}
	s := &session{
		ep:        ep,
		pub:       pub,
		sub:       sub,
		pubClosed: pub.NotifyClose(make(chan *amqp091.Error, 1)),
		subClosed: sub.NotifyClose(make(chan *amqp091.Error, 1)),
		blocking:  pub.NotifyBlocked(make(chan amqp091.Blocking, 4)),
		retries:   make(map[string]time.Time),
	}
	return s, nil
}

// dial opens one AMQP connection. The TCP, TLS and AMQP handshakes
// together are bounded by the dial timeout and by ctx.
func (b *Broker) dial(ctx context.Context, ep endpoint, role string) (*amqp091.Connection, error) {
	props := amqp091.NewConnectionProperties()
	props.SetClientConnectionName(b.cfg.ConnectionName + " (" + role + ")")
	var (
		mu   sync.Mutex // guards stop
		stop func() bool
	)
	cfg := amqp091.Config{
		Heartbeat:  b.cfg.Heartbeat,
		Properties: props,
		Locale:     "en_US",
		Dial: func(network, addr string) (net.Conn, error) {
			deadline := time.Now().Add(b.cfg.DialTimeout)
			if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
				deadline = d
			}
			d := net.Dialer{Deadline: deadline}
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// The handshakes that follow honour deadlines, not contexts.
			if err := conn.SetDeadline(deadline); err != nil {
				_ = conn.Close()
				return nil, err
			}
			if b.cfg.wrapConn != nil {
				conn = b.cfg.wrapConn(conn)
			}
			mu.Lock()
			stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
			mu.Unlock()
			return conn, nil
		},
	}
	if b.cfg.TLSConfig != nil && strings.HasPrefix(ep.url, "amqps:") {
		cfg.TLSClientConfig = b.cfg.TLSConfig.Clone()
	}
	conn, err := amqp091.DialConfig(ep.url, cfg)
	mu.Lock()
	cancelled := stop != nil && !stop()
	mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return nil, errors.Join(ctx.Err(), err)
		}
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			// The handshake's deadline was the context's, and it fired
			// before the context noticed.
			return nil, errors.Join(context.DeadlineExceeded, err)
		}
		return nil, err
	}
	if cancelled {
		_ = conn.Close()
		return nil, ctx.Err()
	}
	return conn, nil
}

// dead reports whether either connection has closed.
func (s *session) dead() bool { return s.pub.IsClosed() || s.sub.IsClosed() }

// close closes both connections, waiting a little for the broker to
// confirm.
func (s *session) close() {
	deadline := time.Now().Add(2 * time.Second)
	_ = s.pub.CloseDeadline(deadline)
	_ = s.sub.CloseDeadline(deadline)
}

// restore repeats the recorded declarations on a new session. An entity
// that fails (say a queue someone re-declared with other arguments) does
// not stop the others; the errors are returned together. A durable queue
// that is gone is declared again and reported with ErrQueueLost.
func (s *session) restore(topo []*decl) error {
	var errs []error
	for _, d := range topo {
		if d.durable != "" {
			err := s.control(func(ch *amqp091.Channel) error {
				_, err := ch.QueueDeclarePassive(d.durable, true, false, false, false, nil)
				return err
			})
			var aerr *amqp091.Error
			switch {
			case errors.As(err, &aerr) && aerr.Code == amqp091.NotFound:
				errs = append(errs, &postroom.Error{Pkg: "amqp", Op: "restore " + d.key, Kind: ErrQueueLost,
					Message: "the durable queue was gone after the reconnection (deleted, or lost in a crash of the broker) and is declared again empty"})
			case err != nil && s.dead():
				return err
			}
		}
		if err := s.control(d.run); err != nil {
			if s.dead() {
				return err
			}
			errs = append(errs, wrapErr("restore "+d.key, err))
		}
	}
	return errors.Join(errs...)
}

// control runs f on the session's control channel (on the consuming
// connection, which owns exclusive queues), opening the channel again when
// an error closed it.
func (s *session) control(f func(ch *amqp091.Channel) error) error {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	if s.ctl == nil || s.ctl.IsClosed() {
		ch, err := s.sub.Channel()
		if err != nil {
			return err
		}
		s.ctl = ch
	}
	return f(s.ctl)
}

// setBlocked records a connection.blocked or connection.unblocked.
func (s *session) setBlocked(blocked bool) {
	s.blockMu.Lock()
	defer s.blockMu.Unlock()
	switch {
	case blocked && !s.blocked:
		s.blocked = true
		s.unblocked = make(chan struct{})
	case !blocked && s.blocked:
		s.blocked = false
		close(s.unblocked)
	}
}

// waitUnblocked waits while the broker blocks publishing, so that a
// publish does not hang in a socket write past its context.
func (s *session) waitUnblocked(ctx context.Context) error {
	s.blockMu.Lock()
	blocked, unblocked := s.blocked, s.unblocked
	s.blockMu.Unlock()
	if !blocked {
		return nil
	}
	select {
	case <-unblocked:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publisher returns the session's confirm-mode publishing channel, opening
// one when there is none or the last one was closed by an error.
func (s *session) publisher(b *Broker) (*publisher, error) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	if s.p != nil && !s.p.isDead() {
		return s.p, nil
	}
	p, err := newPublisher(b, s.pub)
	if err != nil {
		return nil, err
	}
	s.p = p
	return p, nil
}
