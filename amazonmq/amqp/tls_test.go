package amqp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/queue"
)

// tlsProxy terminates TLS with a self-signed certificate for 127.0.0.1
// and forwards to RabbitMQ's plain AMQP port, standing in for Amazon MQ's
// amqps endpoint. It returns the proxy's address and a pool trusting its
// certificate.
func tlsProxy(t *testing.T, upstream string) (string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "postroom test broker"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)

	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	})
	require.NoError(t, err)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards conns
		conns []net.Conn
	)
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			track(down)
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				_ = down.Close()
				continue
			}
			track(up)
			wg.Go(func() { _, _ = io.Copy(up, down); _ = up.Close() })
			wg.Go(func() { _, _ = io.Copy(down, up); _ = down.Close() })
		}
	})
	return ln.Addr().String(), pool
}

func TestTLS(t *testing.T) {
	u, err := url.Parse(amqpURL(t))
	require.NoError(t, err)
	addr, pool := tlsProxy(t, u.Host)
	tlsURL := *u
	tlsURL.Scheme = "amqps"
	tlsURL.Host = addr

	t.Run("trusted", func(t *testing.T) {
		b := dialURL(t, tlsURL.String(), Options{TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
		q := testQueue(t, b)
		require.NoError(t, q.Send(t.Context(), &queue.Message{Body: []byte("over tls")}))
		d := receiveN(t, q, 1)[0]
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
