package awssns_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/awssns"
	"github.com/postroom/postroom/internal/testsupport/awstest"
	"github.com/postroom/postroom/localaws"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/pubsub/pubsubtest"
	"github.com/postroom/postroom/queue"
)

var topicSeq atomic.Int64

func newTopic(t *testing.T, sc *sns.Client, qc *sqs.Client, fifo bool) *awssns.Topic {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("pr-%d-%d", time.Now().UnixNano()%1e9, topicSeq.Add(1))
	attrs := map[string]string{}
	if fifo {
		name += ".fifo"
		attrs["FifoTopic"] = "true"
	}
	out, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: &name, Attributes: attrs})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = sc.DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: out.TopicArn}) })
	tp, err := awssns.New(ctx, sc, qc, *out.TopicArn, awssns.Options{})
	require.NoError(t, err)
	return tp
}

// TestPubSubConformanceMoto runs pubsubtest against moto_server. moto
// drops a message with a Binary attribute on its way to a raw SQS
// subscription, so the moto run does not declare Attributes;
// TestRawAttributesMoto checks the String and Number ones.
func TestPubSubConformanceMoto(t *testing.T) {
	cfg := awstest.Moto(t)
	sc, qc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	pubsubtest.Run(t, pubsubtest.Harness{
		As:  new(types.Message),
		New: func(t *testing.T, c pubsubtest.Config) pubsub.Topic { return newTopic(t, sc, qc, c.FIFO) },
		Invalid: func() (*pubsub.Message, error) {
			return &pubsub.Message{Body: []byte("bad"), Attributes: queue.Attributes{"AWS.reserved": queue.String("x")}}, postroom.ErrInvalid
		},
		Caps: pubsubtest.Capabilities{
			Filter:     true,
			Envelope:   true,
			Durable:    true,
			Attributes: false, // moto drops messages with Binary attributes
			FIFO:       true,
			MaxBatch:   awssns.MaxBatch,
		},
	})
}

// TestPubSubConformanceLocal runs pubsubtest through the SDK against the
// in-process local endpoint (package localaws), declaring every capability
// SNS has.
func TestPubSubConformanceLocal(t *testing.T) {
	_, cfg := localaws.NewTestServer(t, localaws.Options{})
	sc, qc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	pubsubtest.Run(t, pubsubtest.Harness{
		As:  new(types.Message),
		New: func(t *testing.T, c pubsubtest.Config) pubsub.Topic { return newTopic(t, sc, qc, c.FIFO) },
		Invalid: func() (*pubsub.Message, error) {
			return &pubsub.Message{Body: []byte("bad"), Attributes: queue.Attributes{"AWS.reserved": queue.String("x")}}, postroom.ErrInvalid
		},
		Caps: pubsubtest.Capabilities{
			Filter:     true,
			Envelope:   true,
			Durable:    true,
			Attributes: true,
			FIFO:       true,
			MaxBatch:   awssns.MaxBatch,
		},
	})
}
