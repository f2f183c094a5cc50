package mqtt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/postroom/postroom/internal/brokeraddr"
	"github.com/postroom/postroom/internal/reconnect"
)

// disconnectQuiesce is how long Close lets paho finish sending (the
// DISCONNECT packet, pending acks) before it closes the connection.
const disconnectQuiesce = 250 // milliseconds

// A link is one paho client, connected once: when its connection is lost
// the session makes a new one. Deliveries remember their link, so that
// acks for a lost connection are refused rather than sent on the wrong
// one.
type link struct {
	cl   paho.Client
	gen  uint64
	ep   brokeraddr.Endpoint
	lost chan struct{} // closed when the connection is lost
	once sync.Once
	err  error // why; set before lost is closed
}

func (l *link) alive() bool {
	select {
	case <-l.lost:
		return false
	default:
		return true
	}
}

func (l *link) fail(err error) {
	l.once.Do(func() {
		if err == nil {
			err = errors.New("mqtt: connection closed")
		}
		l.err = err
		close(l.lost)
	})
}

// A session is one MQTT client id: a link, replaced with a new one (with
// backoff, trying every endpoint) whenever its connection is lost, and
// the subscriptions to make again on every new connection (whether or not
// the broker kept them in a persistent session).
type session struct {
	b        *Broker
	clientID string
	clean    bool          // CleanSession; false for durable subscriptions
	sub      *Subscription // the subscription made on every connection; nil for the broker's own session

	ctx    context.Context // ends the reconnect loop; cancelled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the reconnect loop and connection clean-ups

	mu       sync.Mutex // guards everything below
	cur      *link      // nil while reconnecting
	changed  chan struct{}
	closed   bool
	closeErr error // why reconnecting gave up
	lastErr  error
}

func newSession(b *Broker, clientID string, clean bool, sub *Subscription) *session {
	s := &session{b: b, clientID: clientID, clean: clean, sub: sub, changed: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// start connects (one attempt per endpoint) and keeps the session
// connected until close.
func (s *session) start(ctx context.Context) error {
	l, err := s.connect(ctx)
	if err == nil && !s.install(l) {
		s.disconnect(l, 0)
		err = fmt.Errorf("mqtt: connection lost while subscribing: %w", l.err)
	}
	if err != nil {
		s.cancel()
		s.wg.Wait()
		return err
	}
	s.wg.Add(1)
	go s.run(l)
	return nil
}

// close disconnects and stops the reconnect loop.
func (s *session) close() {
	s.mu.Lock()
	s.closed = true
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.b.sessionGone(s)
}

// run waits for the link to break, then reconnects with backoff.
func (s *session) run(l *link) {
	defer s.wg.Done()
	for {
		select {
		case <-l.lost:
		case <-s.ctx.Done():
			s.disconnect(l, disconnectQuiesce)
			return
		}
		s.lose(l)
		s.disconnect(l, 0)
		policy := reconnect.Policy{Backoff: s.b.cfg.Backoff, MaxAttempts: s.b.cfg.MaxReconnectAttempts}
		err := reconnect.Again(s.ctx, policy, "mqtt", func(ctx context.Context) error {
			nl, err := s.connect(ctx)
			if err != nil {
				return err
			}
			if !s.install(nl) {
				s.disconnect(nl, 0)
				return fmt.Errorf("mqtt: connection lost while subscribing: %w", nl.err)
			}
			l = nl
			return nil
		}, &s.mu, &s.lastErr, s.giveUp)
		if err != nil {
			return
		}
	}
}

// disconnect ends l's client, waiting up to quiesce milliseconds for its
// work to finish.
func (s *session) disconnect(l *link, quiesce uint) {
	l.cl.Disconnect(quiesce)
	l.fail(nil)
}

// connect connects a new link to the first endpoint that accepts.
func (s *session) connect(ctx context.Context) (*link, error) {
	var errs []error
	for _, ep := range s.b.cfg.endpoints {
		l, err := s.connectTo(ctx, ep)
		if err == nil {
			return l, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("mqtt: connect: %w", errors.Join(errs...))
}

func (s *session) connectTo(ctx context.Context, ep brokeraddr.Endpoint) (*link, error) {
	cfg := s.b.cfg
	l := &link{gen: s.b.genSeq.Add(1), ep: ep, lost: make(chan struct{})}
	o := paho.NewClientOptions()
	o.AddBroker(pahoURL(ep))
	o.SetClientID(s.clientID)
	o.SetCleanSession(s.clean)
	o.SetProtocolVersion(4) // MQTT 3.1.1
	if cfg.Username != "" || cfg.Password != "" {
		o.SetUsername(cfg.Username)
		o.SetPassword(cfg.Password)
	}
	o.SetCustomOpenConnectionFn(func(*url.URL, paho.ClientOptions) (net.Conn, error) {
		return dialNet(ctx, cfg, ep)
	})
	o.SetKeepAlive(cfg.KeepAlive)
	o.SetPingTimeout(min(cfg.KeepAlive, 10*time.Second))
	o.SetConnectTimeout(cfg.DialTimeout)
	o.SetWriteTimeout(cfg.DialTimeout)
	o.SetAutoReconnect(false)
	o.SetConnectRetry(false)
	o.SetResumeSubs(false)
	o.SetOrderMatters(true)    // the handler never blocks: it only buffers
	o.SetAutoAckDisabled(true) // a message is acked when the caller acks it
	o.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { s.dispatch(l, m) })
	o.SetConnectionLostHandler(func(_ paho.Client, err error) { l.fail(err) })
	l.cl = paho.NewClient(o)
	tok := l.cl.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		// paho's connect ends within the connect timeout; clean up then.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			<-tok.Done()
			if tok.Error() == nil {
				s.disconnect(l, 0)
			}
		}()
		return nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return nil, connectError(tok.(*paho.ConnectToken))
	}
	return l, nil
}

// dialNet opens the network connection to ep: TCP, with buffered reads
// and TCP_QUICKACK kept on (see wrapConn), then TLS for mqtts.
func dialNet(ctx context.Context, cfg *config, ep brokeraddr.Endpoint) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	d := net.Dialer{KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", ep.Addr)
	if err != nil {
		return nil, err
	}
	return ep.Secure(ctx, wrapConn(nc), cfg.TLSConfig)
}

// install subscribes the session's subscription on l (whether or not a
// persistent session kept it) and makes l the link in use. It reports
// false when l was lost meanwhile, or the broker refused the subscription.
func (s *session) install(l *link) bool {
	if s.sub != nil {
		ctx, cancel := context.WithTimeout(s.ctx, s.b.cfg.DialTimeout)
		err := subscribe(ctx, l, s.sub.filter)
		cancel()
		if err != nil {
			l.fail(fmt.Errorf("mqtt: subscribing to %s: %w", s.sub.filter, err))
			return false
		}
	}
	s.mu.Lock()
	if s.closed || !l.alive() {
		s.mu.Unlock()
		return false
	}
	s.cur = l
	s.lastErr = nil
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.b.sessionUp(s, l.ep.String())
	return true
}

// lose takes l out of use after its connection broke.
func (s *session) lose(l *link) {
	s.mu.Lock()
	if s.cur == l {
		s.cur = nil
	}
	s.lastErr = l.err
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	if s.sub != nil {
		s.sub.purge(l)
	}
	s.b.sessionDown(s, fmt.Errorf("mqtt: connection lost: %w", l.err), l.ep.String())
}

// giveUp closes the session after reconnecting failed for good; the main
// session closes the broker.
func (s *session) giveUp(err error) {
	s.mu.Lock()
	s.closed = true
	s.closeErr = err
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.b.giveUp(s, err)
}

// current returns the link in use, waiting for a reconnection while there
// is none, until ctx ends.
func (s *session) current(ctx context.Context, op string) (*link, error) {
	for {
		s.mu.Lock()
		l, changed, closed, closeErr, last := s.cur, s.changed, s.closed, s.closeErr, s.lastErr
		s.mu.Unlock()
		if closed {
			if closeErr != nil {
				return nil, fmt.Errorf("%w: %v", ek.Closed(op), closeErr)
			}
			return nil, ek.Closed(op)
		}
		if l != nil && l.alive() {
			return l, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ek.Context(op, ctx.Err(), last)
		}
	}
}

// dispatch is paho's handler of every incoming message, run on l's router
// goroutine: it buffers the message in the session's subscription, without
// blocking. A message the subscription's filter does not match (left over
// in a persistent session from an earlier filter) is acked and dropped.
func (s *session) dispatch(l *link, m paho.Message) {
	if s.sub == nil || !match(s.sub.filter, m.Topic()) {
		m.Ack()
		return
	}
	s.sub.push(l, m) // when the subscription is closed, unacked: a persistent session keeps it

}

// subscribe subscribes to filter with QoS 1 on l and waits for the
// SUBACK.
func subscribe(ctx context.Context, l *link, filter string) error {
	tok := l.cl.Subscribe(filter, 1, nil)
	select {
	case <-tok.Done():
	case <-l.lost:
		return fmt.Errorf("%w: %w", errLost, l.err)
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return err
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		if code, ok := st.Result()[filter]; ok && code == 0x80 {
			return fmt.Errorf("mqtt: the broker refused the subscription to %q", filter)
		}
	}
	return nil
}

// publish publishes payloads to topic with QoS 1 and waits for every
// PUBACK. On a lost connection it publishes the unconfirmed ones again on
// the next connection, until ctx ends: a message may then arrive twice,
// never not at all.
func (s *session) publish(ctx context.Context, op, topic string, payloads [][]byte) error {
	confirmed := make([]bool, len(payloads))
	toks := make([]paho.Token, len(payloads))
	left := len(payloads)
	var last error
	for left > 0 {
		l, err := s.current(ctx, op)
		if err != nil {
			if last != nil && ctx.Err() != nil {
				return ek.Context(op, ctx.Err(), last)
			}
			return err
		}
		for i, p := range payloads {
			switch {
			case confirmed[i]:
			case !l.alive():
				toks[i] = nil // publish it on the next link
			default:
				toks[i] = l.cl.Publish(topic, 1, false, p)
			}
		}
		for i, tok := range toks {
			if confirmed[i] || tok == nil {
				continue
			}
			select {
			case <-tok.Done():
			case <-l.lost:
			case <-ctx.Done():
				return ek.Context(op, ctx.Err(), last)
			}
			if !isDone(tok) || tok.Error() != nil {
				if isDone(tok) {
					last = tok.Error()
				} else {
					last = fmt.Errorf("%w: %w", errLost, l.err)
				}
				continue
			}
			confirmed[i] = true
			left--
		}
		if left > 0 && l.alive() {
			// paho failed a publish without losing the connection (a write
			// timeout): give it a moment before trying again.
			t := time.NewTimer(100 * time.Millisecond)
			select {
			case <-t.C:
			case <-l.lost:
				t.Stop()
			case <-ctx.Done():
				t.Stop()
				return ek.Context(op, ctx.Err(), last)
			}
		}
	}
	return nil
}

func isDone(tok paho.Token) bool {
	select {
	case <-tok.Done():
		return true
	default:
		return false
	}
}
