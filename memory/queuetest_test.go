package memory_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
	"github.com/postroom/postroom/queue/queuetest"
)

var testQueues atomic.Int64

func TestQueueConformance(t *testing.T) {
	queuetest.Run(t, queuetest.Harness{
		Pkg: "memory",
		New: func(t *testing.T, cfg queuetest.Config) queue.Queue {
			name := fmt.Sprintf("q%d", testQueues.Add(1))
			if cfg.FIFO {
				name += ".fifo"
			}
			q, err := memory.NewQueue(name, memory.QueueOptions{
				VisibilityTimeout:         cfg.VisibilityTimeout,
				ContentBasedDeduplication: cfg.ContentBasedDeduplication,
			})
			require.NoError(t, err)
			return q
		},
		Invalid: func() (*queue.Message, error) {
			return &queue.Message{Body: []byte("bad"), Attributes: queue.Attributes{"AWS.reserved": queue.String("x")}}, postroom.ErrInvalid
		},
		Caps: queuetest.Capabilities{
			Synctest:            true,
			FIFO:                true,
			Deduplication:       true,
			Delay:               true,
			NackDelay:           true,
			VisibilityTimeout:   true,
			ReceiveCount:        true,
			Extend:              true,
			Purge:               true,
			Stats:               true,
			MaxBatch:            10,
			MaxMessageSize:      1 << 20,
			Attributes:          true,
			StaleReceiptDeletes: true,
		},
	})
}
