// Package brokeraddr parses the broker addresses the drivers dial: the URL
// given to Dial, the hosts of its failover query parameter and the
// Options.Endpoints after them, each one host:port with or without TLS;
// and it makes the TLS handshake with one. Those are the endpoints of the
// STOMP and MQTT drivers; the AMQP driver, whose endpoints are whole AMQP
// URIs with their virtual host, takes only Parse and Failover.
//
// Its errors say what is wrong with the URL, without an operation or a
// sentinel: a driver wraps them with its own prefix and postroom.ErrInvalid.
package brokeraddr

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// A Protocol is what the URLs of one driver look like.
type Protocol struct {
	// Scheme and TLSScheme are the protocol's names for plain and TLS
	// connections ("stomp", "stomp+ssl"): Endpoint.String uses them, and
	// errors name them.
	Scheme, TLSScheme string
	// Plain and Secure are the other schemes taken for plain and TLS
	// connections ("tcp"; "ssl").
	Plain, Secure []string
	// Port and TLSPort are the default ports.
	Port, TLSPort string
}

// An Endpoint is one broker address to try.
type Endpoint struct {
	Scheme     string // the protocol's Scheme or TLSScheme
	Addr       string // host:port
	TLS        bool
	ServerName string // the host, which the broker's certificate must name
}

// String returns the endpoint as a URL of the protocol's own scheme, such
// as stomp+ssl://host:61614.
func (e Endpoint) String() string { return e.Scheme + "://" + e.Addr }

// Parse parses a URL of one of the protocol's schemes, which must have a
// host.
func (p *Protocol) Parse(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if !p.plain(u.Scheme) && !p.secure(u.Scheme) {
		return nil, fmt.Errorf("scheme %q (want %s or %s)", u.Scheme, p.Scheme, p.TLSScheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", u.Redacted())
	}
	return u, nil
}

func (p *Protocol) plain(scheme string) bool {
	return scheme == p.Scheme || slices.Contains(p.Plain, scheme)
}

func (p *Protocol) secure(scheme string) bool {
	return scheme == p.TLSScheme || slices.Contains(p.Secure, scheme)
}

// Endpoints returns the endpoints to try, in order: u's (a URL from
// Parse), those of u's failover query parameters, then more (each a URL
// or host:port, which takes u's scheme).
func (p *Protocol) Endpoints(u *url.URL, more []string) ([]Endpoint, error) {
	eps := []Endpoint{p.endpoint(u)}
	for _, raw := range append(Failover(u.Query()), more...) {
		ep, err := p.parseEndpoint(raw, u.Scheme)
		if err != nil {
			return nil, err
		}
		eps = append(eps, ep)
	}
	return eps, nil
}

// Failover returns the hosts of q's failover parameters, each a
// comma-separated list, in order and without blanks.
func Failover(q url.Values) []string {
	var hosts []string
	for _, list := range q["failover"] {
		for h := range strings.SplitSeq(list, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hosts = append(hosts, h)
			}
		}
	}
	return hosts
}

// parseEndpoint parses a failover endpoint: a URL, or host:port taking
// scheme.
func (p *Protocol) parseEndpoint(raw, scheme string) (Endpoint, error) {
	if !strings.Contains(raw, "://") {
		if _, _, err := net.SplitHostPort(raw); err != nil {
			return Endpoint{}, fmt.Errorf("failover endpoint %q: want host:port or a URL", raw)
		}
		raw = scheme + "://" + raw
	}
	u, err := p.Parse(raw)
	if err != nil {
		return Endpoint{}, err
	}
	return p.endpoint(u), nil
}

func (p *Protocol) endpoint(u *url.URL) Endpoint {
	ep := Endpoint{Scheme: p.Scheme, ServerName: u.Hostname()}
	port := p.Port
	if p.secure(u.Scheme) {
		ep.Scheme, ep.TLS, port = p.TLSScheme, true, p.TLSPort
	}
	if u.Port() != "" {
		port = u.Port()
	}
	ep.Addr = net.JoinHostPort(u.Hostname(), port)
	return ep
}

// Secure returns nc as it is for a plain endpoint. For a TLS endpoint it
// makes the TLS handshake on nc, until ctx ends, with a clone of tc (nil:
// the system roots) whose ServerName defaults to the endpoint's host, and
// returns the TLS connection; when the handshake fails it closes nc.
func (e Endpoint) Secure(ctx context.Context, nc net.Conn, tc *tls.Config) (net.Conn, error) {
	if !e.TLS {
		return nc, nil
	}
	c := &tls.Config{}
	if tc != nil {
		c = tc.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = e.ServerName
	}
	t := tls.Client(nc, c)
	if err := t.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, err
	}
	return t, nil
}
