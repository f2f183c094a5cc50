package brokeraddr

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/internal/testsupport/testproxy"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var stomp = &Protocol{
	Scheme: "stomp", TLSScheme: "stomp+ssl",
	Plain: []string{"tcp"}, Secure: []string{"stomps", "ssl"},
	Port: "61613", TLSPort: "61614",
}

func TestParse(t *testing.T) {
	for _, raw := range []string{"stomp://h", "tcp://h:1", "stomp+ssl://h", "stomps://h", "ssl://u:p@h/q?x=y"} {
		_, err := stomp.Parse(raw)
		assert.NoError(t, err, raw)
	}
	for raw, want := range map[string]string{
		"amqp://h":         `scheme "amqp" (want stomp or stomp+ssl)`,
		"stomp:///q":       `URL "stomp:///q" has no host`,
		"h:61613":          `scheme "h" (want stomp or stomp+ssl)`,
		"stomp://u:p@/q":   `URL "stomp://u:xxxxx@/q" has no host`,
		"stomp://h:port/q": `parse "stomp://h:port/q": invalid port ":port" after host`,
	} {
		_, err := stomp.Parse(raw)
		assert.EqualError(t, err, want, raw)
	}
}

func TestEndpoints(t *testing.T) {
	u, err := stomp.Parse("stomp+ssl://u:p@b-1.example/q?failover=b-2.example:61614,+,stomp://b-3:1&failover=b-4:2")
	require.NoError(t, err)
	eps, err := stomp.Endpoints(u, []string{"tcp://b-5", "b-6:3"})
	require.NoError(t, err)
	assert.Equal(t, []Endpoint{
		{Scheme: "stomp+ssl", Addr: "b-1.example:61614", TLS: true, ServerName: "b-1.example"},
		{Scheme: "stomp+ssl", Addr: "b-2.example:61614", TLS: true, ServerName: "b-2.example"},
		{Scheme: "stomp", Addr: "b-3:1", ServerName: "b-3"},
		{Scheme: "stomp+ssl", Addr: "b-4:2", TLS: true, ServerName: "b-4"},
		{Scheme: "stomp", Addr: "b-5:61613", ServerName: "b-5"},
		{Scheme: "stomp+ssl", Addr: "b-6:3", TLS: true, ServerName: "b-6"},
	}, eps)
	assert.Equal(t, "stomp+ssl://b-1.example:61614", eps[0].String())

	for _, more := range []string{"nohostport", "amqp://h:1"} {
		_, err = stomp.Endpoints(u, []string{more})
		assert.Error(t, err, more)
	}
	u, err = stomp.Parse("stomp://[::1]?failover=[::1]:7")
	require.NoError(t, err)
	eps, err = stomp.Endpoints(u, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"[::1]:61613", "[::1]:7"}, []string{eps[0].Addr, eps[1].Addr})
}

func TestFailover(t *testing.T) {
	assert.Empty(t, Failover(url.Values{}))
	assert.Equal(t, []string{"a:1", "b:2", "c:3"}, Failover(url.Values{"failover": {" a:1 ,, b:2", "c:3"}}))
}

func TestSecure(t *testing.T) {
	cert, pool := testproxy.SelfSigned(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan error, 3)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func() net.Conn {
		nc, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		return nc
	}

	plain := Endpoint{Scheme: "stomp", Addr: ln.Addr().String()}
	nc := dial()
	c, err := plain.Secure(ctx, nc, nil)
	require.NoError(t, err)
	assert.Same(t, nc, c, "a plain endpoint's connection as it is")
	_ = nc.Close()
	<-accepted

	secure := Endpoint{Scheme: "stomp+ssl", Addr: ln.Addr().String(), TLS: true, ServerName: "127.0.0.1"}
	_, err = secure.Secure(ctx, dial(), nil)
	var uerr x509.UnknownAuthorityError
	require.ErrorAs(t, err, &uerr, "the system roots refuse a self-signed certificate")
	<-accepted

	tc := &tls.Config{RootCAs: pool}
	c, err = secure.Secure(ctx, dial(), tc)
	require.NoError(t, err, "verified against the endpoint's host (no ServerName is an error)")
	assert.True(t, c.(*tls.Conn).ConnectionState().HandshakeComplete)
	assert.Empty(t, tc.ServerName, "tc is cloned")
	assert.NoError(t, <-accepted)
	_ = c.Close()
	_ = ln.Close()
	for range accepted {
	}
}
