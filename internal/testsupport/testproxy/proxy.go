// Package testproxy helps the integration tests of the broker drivers: a
// TCP proxy between a driver and its broker, which a test cuts to simulate
// an outage or puts TLS in front of the broker with, and a self-signed
// certificate for it.
package testproxy

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// A Proxy forwards TCP connections to a broker, and can cut them to
// simulate an outage.
type Proxy struct {
	ln       net.Listener
	upstream string
	wg       sync.WaitGroup // the accept loop and one per connection

	mu    sync.Mutex // guards everything below
	down  bool
	conns map[net.Conn]struct{}
	// trip, when set, is CutAfter's: bytes still to forward to the
	// upstream before the cut, and the channel closed by the cut.
	trip    int64
	tripped chan struct{}
}

// New starts a proxy to upstream (host:port), stopped when the test ends.
func New(t testing.TB, upstream string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return start(t, ln, upstream)
}

// NewTLS starts a proxy to upstream that terminates TLS with tc, standing
// in for a broker's TLS endpoint; it is stopped when the test ends.
func NewTLS(t testing.TB, upstream string, tc *tls.Config) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return start(t, tls.NewListener(ln, tc), upstream)
}

func start(t testing.TB, ln net.Listener, upstream string) *Proxy {
	p := &Proxy{ln: ln, upstream: upstream, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr returns the proxy's address, host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) serve(c net.Conn) {
	defer p.wg.Done()
	defer p.drop(c)
	u, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		_ = u.Close()
		return
	}
	p.conns[u] = struct{}{}
	p.mu.Unlock()
	defer p.drop(u)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(&upstreamWriter{p: p, w: u}, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, u); done <- struct{}{} }()
	<-done
	_ = c.Close()
	_ = u.Close()
	<-done
}

func (p *Proxy) drop(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// Cut closes every connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
}

// CutAfter arms a cut in the middle of the traffic: once n more bytes
// have been forwarded from clients to the upstream (in any connection),
// the proxy cuts as Cut does. The returned channel is closed after the
// cut; Restore accepts connections again.
func (p *Proxy) CutAfter(n int64) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trip = n
	p.tripped = make(chan struct{})
	return p.tripped
}

// forwarded counts n bytes about to be forwarded upstream and reports
// how many of them may go: all of them, or fewer when an armed cut trips,
// with the channel to close once the proxy is cut.
func (p *Proxy) forwarded(n int) (int, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tripped == nil || int64(n) < p.trip {
		p.trip -= int64(n)
		return n, nil
	}
	allowed, tripped := int(p.trip), p.tripped
	p.tripped = nil
	return allowed, tripped
}

// upstreamWriter forwards a client's bytes to the upstream, counting them
// for CutAfter.
type upstreamWriter struct {
	p *Proxy
	w io.Writer
}

func (u *upstreamWriter) Write(b []byte) (int, error) {
	n, tripped := u.p.forwarded(len(b))
	if tripped == nil {
		return u.w.Write(b)
	}
	if n > 0 {
		_, _ = u.w.Write(b[:n])
	}
	u.p.Cut()
	close(tripped)
	return n, net.ErrClosed
}

// Restore accepts connections again after Cut.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *Proxy) close() {
	_ = p.ln.Close()
	p.Cut()
	p.wg.Wait()
}
