package stomp

import (
	"testing"

	"github.com/go-stomp/stomp/v3/frame"

	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
	"github.com/postroom/postroom/queue/queuetest"
)

func TestQueueConformance(t *testing.T) {
	brokerURL(t)
	queuetest.Run(t, queuetest.Harness{
		As:  new(*frame.Frame),
		Pkg: "stomp",
		New: func(t *testing.T, cfg queuetest.Config) queue.Queue {
			b := dial(t, Options{})
			q, err := b.Queue(ctxT(t, 10e9), uniqueName("conformance"))
			require.NoError(t, err)
			return q
		},
		Caps: queuetest.Capabilities{
			MaxBatch:   MaxBatch,
			Attributes: true,
			// ReceiveCount is exact across Nacks but only approximate
			// across lost connections, so it is not declared exact.
		},
		Invalid: func() (*queue.Message, error) {
			return &queue.Message{Body: []byte("bad"), Attributes: queue.Attributes{"priority": queue.String("9")}}, postroom.ErrInvalid
		},
	})
}
