package stomp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/queue"
)

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "postroom test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestTLS runs the driver over stomp+ssl, through a proxy that terminates
// TLS in front of the test broker: the certificate is verified with
// Options.TLSConfig, and with the system roots when it is nil.
func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	p := newProxy(t, hostPort(t), &tls.Config{Certificates: []tls.Certificate{cert}})
	url := "stomp+ssl://" + p.addr()
	ctx := ctxT(t, 20*time.Second)

	t.Run("system roots refuse a self-signed certificate", func(t *testing.T) {
		_, err := Dial(ctx, url, Options{})
		var uerr x509.UnknownAuthorityError
		require.ErrorAs(t, err, &uerr)
	})
	t.Run("Options.TLSConfig", func(t *testing.T) {
		b, err := Dial(ctx, url, Options{TLSConfig: &tls.Config{RootCAs: pool}})
		require.NoError(t, err)
		defer b.Close()
		q, err := b.Queue(ctx, uniqueName("tls"))
		require.NoError(t, err)
		require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("over tls")}, &queue.Message{Body: []byte("in a transaction")}))
		ds := receiveN(t, q, 2)
		assert.ElementsMatch(t, []string{"over tls", "in a transaction"}, bodies(ds))
		require.NoError(t, q.Ack(context.Background(), ds...))
	})
}
