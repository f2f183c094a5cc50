package mqtt

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/testenv"
	"github.com/postroom/postroom/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// A target is one MQTT broker the integration tests run against.
type target struct {
	name, env, what string
}

var targets = []target{
	{"ActiveMQ", "POSTROOM_MQTT_URL", "ActiveMQ over MQTT (tcp://127.0.0.1:1884)"},
	{"Mosquitto", "POSTROOM_MOSQUITTO_URL", "Mosquitto (tcp://127.0.0.1:1883)"},
}

// eachBroker runs f against every target broker, each in a subtest that
// skips when its variable is unset.
func eachBroker(t *testing.T, f func(t *testing.T, url string)) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			f(t, testenv.Get(t, tg.env, tg.what))
		})
	}
}

var fastBackoff = DefaultBackoff

func init() {
	fastBackoff.Initial = 50 * time.Millisecond
	fastBackoff.Max = time.Second
}

// dial connects to url and closes the broker when the test ends.
func dial(t *testing.T, url string, opts Options) *Broker {
	t.Helper()
	if opts.Backoff == nil {
		opts.Backoff = fastBackoff
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Dial(ctx, url, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

var nameSeq atomic.Uint64

// uniqueName returns a topic or client id no other test uses.
func uniqueName(prefix string) string {
	return fmt.Sprintf("postroom-test-%s-%d-%d", prefix, time.Now().UnixNano()%1e12, nameSeq.Add(1))
}

func hostPort(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Host
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// receiveN long-polls r until n deliveries came or 20 s passed.
func receiveN(t *testing.T, r queue.Receiver, n int) []*queue.Delivery {
	t.Helper()
	var got []*queue.Delivery
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		ds, err := r.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: min(n-len(got), MaxBatch), WaitTime: time.Second})
		require.NoError(t, err)
		got = append(got, ds...)
	}
	require.Len(t, got, n)
	return got
}

func receiveNone(t *testing.T, r queue.Receiver, wait time.Duration) {
	t.Helper()
	ds, err := r.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 10, WaitTime: wait})
	require.NoError(t, err)
	require.Empty(t, ds)
}

func bodies(ds []*queue.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Body))
	}
	return out
}

// states records a broker's state changes.
type states struct {
	mu  sync.Mutex
	chs []broker.StateChange
	c   chan struct{}
}

func watch(b broker.Broker) (*states, func()) {
	s := &states{c: make(chan struct{}, 100)}
	stop := b.NotifyState(func(ch broker.StateChange) {
		s.mu.Lock()
		s.chs = append(s.chs, ch)
		s.mu.Unlock()
		s.c <- struct{}{}
	})
	return s, stop
}

func (s *states) await(t *testing.T, to broker.State) broker.StateChange {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		for i, ch := range s.chs {
			if ch.To == to {
				s.chs = s.chs[i+1:]
				s.mu.Unlock()
				return ch
			}
		}
		s.mu.Unlock()
		select {
		case <-s.c:
		case <-timeout:
			t.Fatalf("no change to %v within 30 s", to)
		}
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "postroom test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
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
