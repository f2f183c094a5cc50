package amqp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/postroom/postroom/backoff"
	"github.com/postroom/postroom/internal/testsupport/testenv"
	"github.com/postroom/postroom/internal/testsupport/testproxy"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: every
// goroutine of a Broker must end with Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// amqpURL returns the RabbitMQ the integration tests use, or skips.
func amqpURL(t *testing.T) string {
	t.Helper()
	return testenv.Get(t, "POSTROOM_AMQP_URL", "RabbitMQ (e.g. amqp://guest:guest@127.0.0.1:5672/)")
}

// dial connects to the test RabbitMQ and closes the broker at the end of
// the test.
func dial(t *testing.T, opts Options) *Broker {
	t.Helper()
	return dialURL(t, amqpURL(t), opts)
}

func dialURL(t *testing.T, url string, opts Options) *Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	b, err := Dial(ctx, url, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	return b
}

// dialProxied connects a broker through a test proxy that the test can
// cut, reconnecting every 20 ms.
func dialProxied(t *testing.T) (*testproxy.Proxy, *Broker) {
	t.Helper()
	u, err := url.Parse(amqpURL(t))
	require.NoError(t, err)
	p := testproxy.New(t, u.Host)
	via := *u
	via.Host = p.Addr()
	return p, dialURL(t, via.String(), Options{Backoff: backoff.Func(func(int) time.Duration { return 20 * time.Millisecond })})
}

// uniqueName returns a queue or topic name for this test.
func uniqueName(t *testing.T, what string) string {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	r := strings.NewReplacer("/", "-", " ", "-", "#", "-")
	return "postroom-amqp-test-" + r.Replace(t.Name()) + "-" + what + "-" + hex.EncodeToString(rnd[:])
}

// testQueue declares a queue for this test and deletes it at the end.
func testQueue(t *testing.T, b *Broker) *Queue {
	t.Helper()
	q, err := b.OpenQueue(t.Context(), uniqueName(t, "q"), QueueOptions{})
	require.NoError(t, err)
	name := q.Name()
	t.Cleanup(func() { deleteQueue(t, name) })
	return q
}

// deleteQueue deletes a queue and its retry queues through a connection
// of its own, whatever state the test left its broker in.
func deleteQueue(t *testing.T, name string) {
	t.Helper()
	conn, err := amqp091.Dial(amqpURL(t))
	if err != nil {
		t.Logf("deleting queue %s: %v", name, err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	names := []string{name}
	for _, b := range defaultRetryBuckets {
		names = append(names, retryQueueName(name, b))
	}
	for _, n := range names {
		if _, err := ch.QueueDelete(n, false, false, false); err != nil {
			t.Logf("deleting queue %s: %v", n, err)
			return
		}
	}
}
