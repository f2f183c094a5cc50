package amqp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/internal/testsupport/drivertest"
	"github.com/postroom/postroom/internal/testsupport/testproxy"
	"github.com/postroom/postroom/queue"
)

func TestTLS(t *testing.T) {
	u, err := url.Parse(amqpURL(t))
	require.NoError(t, err)
	// A proxy that terminates TLS in front of RabbitMQ's plain AMQP port
	// stands in for Amazon MQ's amqps endpoint.
	cert, pool := testproxy.SelfSigned(t)
	p := testproxy.NewTLS(t, u.Host, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	tlsURL := *u
	tlsURL.Scheme = "amqps"
	tlsURL.Host = p.Addr()

	t.Run("trusted", func(t *testing.T) {
		b := dialURL(t, tlsURL.String(), Options{TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
		q := testQueue(t, b)
		require.NoError(t, q.Send(t.Context(), &queue.Message{Body: []byte("over tls")}))
		d := drivertest.ReceiveN(t, q, 1)[0]
		assert.Equal(t, "over tls", string(d.Body))
		require.NoError(t, q.Ack(t.Context(), d))
		b.mu.Lock()
		state := b.sess.pub.ConnectionState()
		b.mu.Unlock()
		assert.True(t, state.HandshakeComplete, "the connection is TLS")
	})

	t.Run("system roots refuse a self-signed broker", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := Dial(ctx, tlsURL.String(), Options{})
		var unknown x509.UnknownAuthorityError
		require.True(t, errors.As(err, &unknown), "err = %v", err)
	})
}
