package awssqs_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/awssqs"
	"github.com/postroom/postroom/internal/testsupport/awstest"
	"github.com/postroom/postroom/localaws"
	"github.com/postroom/postroom/queue"
	"github.com/postroom/postroom/queue/queuetest"
)

var queueSeq atomic.Int64

// newQueue creates a queue on the server c talks to, deletes it when the
// test ends, and opens it.
func newQueue(t *testing.T, c *sqs.Client, cfg queuetest.Config, opts awssqs.Options) *awssqs.Queue {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("pr-%d-%d", time.Now().UnixNano()%1e9, queueSeq.Add(1))
	attrs := map[string]string{}
	if cfg.FIFO {
		name += ".fifo"
		attrs["FifoQueue"] = "true"
	}
	if cfg.ContentBasedDeduplication {
		attrs["ContentBasedDeduplication"] = "true"
	}
	if cfg.VisibilityTimeout > 0 {
		attrs["VisibilityTimeout"] = strconv.Itoa(int(cfg.VisibilityTimeout / time.Second))
	}
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	q, err := awssqs.New(ctx, c, aws.ToString(out.QueueUrl), opts)
	require.NoError(t, err)
	return q
}

func invalidMessage() (*queue.Message, error) {
	return &queue.Message{Body: []byte("bad"), Attributes: queue.Attributes{"AWS.reserved": queue.String("x")}}, postroom.ErrInvalid
}

// TestQueueConformanceMoto runs queuetest against moto_server. What moto
// does not do as SQS does is declared missing (and listed in the package
// documentation): it keeps no deduplication id once its message is
// deleted (Deduplication), and it accepts the stale receipt of a FIFO
// message whose visibility timeout passed (StaleReceiptDeletes).
func TestQueueConformanceMoto(t *testing.T) {
	c := sqs.NewFromConfig(awstest.Moto(t))
	queuetest.Run(t, queuetest.Harness{
		As: new(types.Message),
		New: func(t *testing.T, cfg queuetest.Config) queue.Queue {
			return newQueue(t, c, cfg, awssqs.Options{})
		},
		Invalid: invalidMessage,
		Caps: queuetest.Capabilities{
			FIFO:                true,
			Deduplication:       false, // moto forgets a deduplication id on delete
			Delay:               true,
			NackDelay:           true,
			VisibilityTimeout:   true,
			ReceiveCount:        true,
			Extend:              true,
			Purge:               true,
			Stats:               true,
			MaxBatch:            awssqs.MaxBatch,
			MaxMessageSize:      1 << 20,
			Attributes:          true,
			StaleReceiptDeletes: false, // moto deletes with a stale FIFO receipt
		},
	})
}

// TestQueueConformanceLocal runs queuetest through the SDK against the
// in-process local endpoint (package localaws), declaring every capability
// SQS has.
func TestQueueConformanceLocal(t *testing.T) {
	_, cfg := localaws.NewTestServer(t, localaws.Options{})
	c := sqs.NewFromConfig(cfg)
	queuetest.Run(t, queuetest.Harness{
		As: new(types.Message),
		New: func(t *testing.T, qc queuetest.Config) queue.Queue {
			return newQueue(t, c, qc, awssqs.Options{})
		},
		Invalid: invalidMessage,
		Caps: queuetest.Capabilities{
			FIFO:                true,
			Deduplication:       true,
			Delay:               true,
			NackDelay:           true,
			VisibilityTimeout:   true,
			ReceiveCount:        true,
			Extend:              true,
			Purge:               true,
			Stats:               true,
			MaxBatch:            awssqs.MaxBatch,
			MaxMessageSize:      1 << 20,
			Attributes:          true,
			StaleReceiptDeletes: true,
		},
	})
}
