package stomp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/internal/testsupport/drivertest"
	"github.com/postroom/postroom/internal/testsupport/testproxy"
	"github.com/postroom/postroom/queue"
)

// TestTLS runs the driver over stomp+ssl, through a proxy that terminates
// TLS in front of the test broker: the certificate is verified with
// Options.TLSConfig, and with the system roots when it is nil.
func TestTLS(t *testing.T) {
	cert, pool := testproxy.SelfSigned(t)
	p := testproxy.NewTLS(t, hostPort(t), &tls.Config{Certificates: []tls.Certificate{cert}})
	url := "stomp+ssl://" + p.Addr()
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
		ds := drivertest.ReceiveN(t, q, 2)
		assert.ElementsMatch(t, []string{"over tls", "in a transaction"}, drivertest.Bodies(ds))
		require.NoError(t, q.Ack(context.Background(), ds...))
	})
}
