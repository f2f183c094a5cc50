package stomp

import (
	"context"
	"fmt"
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

// brokerURL returns the ActiveMQ STOMP URL of the integration tests, or
// skips the test.
func brokerURL(t *testing.T) string {
	t.Helper()
	return testenv.Get(t, "POSTROOM_STOMP_URL", "ActiveMQ over STOMP (stomp://127.0.0.1:61613)")
}

// fastBackoff reconnects quickly in tests.
var fastBackoff = reconnect.DefaultBackoff

func init() {
	fastBackoff.Initial = 50 * time.Millisecond
	fastBackoff.Max = time.Second
}

// dial connects to the test broker and closes it when the test ends.
func dial(t *testing.T, opts Options) *Broker {
	t.Helper()
	if opts.Backoff == nil {
		opts.Backoff = fastBackoff
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Dial(ctx, brokerURL(t), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

var nameSeq atomic.Uint64

// uniqueName returns a destination name no other test uses.
func uniqueName(prefix string) string {
	return fmt.Sprintf("postroom.test.%s.%d.%d", prefix, time.Now().UnixNano(), nameSeq.Add(1))
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
