package mqtt

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postroom/postroom/internal/reconnect"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/internal/testsupport/testenv"
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

var fastBackoff = reconnect.DefaultBackoff

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
