package awseventbridge_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/awseventbridge"
	"github.com/postroom/postroom/awssqs"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/eventbus/eventbustest"
	"github.com/postroom/postroom/internal/testsupport/awstest"
	"github.com/postroom/postroom/localaws"
	"github.com/postroom/postroom/queue"
)

var seq atomic.Int64

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, seq.Add(1))
}

func newBus(t *testing.T, c *eventbridge.Client, opts awseventbridge.Options) *awseventbridge.Bus {
	t.Helper()
	ctx := context.Background()
	name := uniqueName("pr-bus")
	_, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &name})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = c.DeleteEventBus(context.Background(), &eventbridge.DeleteEventBusInput{Name: &name}) })
	b, err := awseventbridge.New(ctx, c, name, opts)
	require.NoError(t, err)
	return b
}

func newSink(t *testing.T, c *sqs.Client) *awssqs.Queue {
	t.Helper()
	ctx := context.Background()
	name := uniqueName("pr-sink")
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	q, err := awssqs.New(ctx, c, aws.ToString(out.QueueUrl), awssqs.Options{})
	require.NoError(t, err)
	return q
}

// TestEventBusConformanceMoto runs eventbustest against moto_server,
// declaring what moto does differently from EventBridge: it writes events
// with its own field order and no account (Envelope), fails with an
// internal error on targets with an InputTransformer (Transform), replays
// archived events outside the requested time window (Archive), adds
// spaces to the detail (DetailReformatted), and routes events to disabled
// rules (RuleStateIgnored).
func TestEventBusConformanceMoto(t *testing.T) {
	cfg := awstest.Moto(t)
	ec, qc := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	eventbustest.Run(t, eventbustest.Harness{
		Pkg: "awseventbridge",
		New: func(t *testing.T, c eventbustest.Config) eventbus.Bus {
			return newBus(t, ec, awseventbridge.Options{MaxEntrySize: c.MaxEntrySize})
		},
		Sink: func(t *testing.T) (eventbus.Target, queue.Receiver) {
			q := newSink(t, qc)
			return eventbus.Target{Queue: q}, q
		},
		Caps: eventbustest.Capabilities{
			Transform:         false, // moto: HTTP 500 on InputTransformer targets
			Archive:           false, // moto: replays events outside the window
			Envelope:          false, // moto: its own field order, no account
			MaxEntrySize:      256 << 10,
			DetailReformatted: true, // moto: {"n": 0} for {"n":0}
			RuleStateIgnored:  true, // moto: disabled rules still route
		},
	})
}

// TestEventBusConformanceLocal runs eventbustest through the SDK against
// the in-process local endpoint (package localaws), declaring every
// capability EventBridge has. Function targets (Func) are not an
// EventBridge target kind: the driver refuses them.
func TestEventBusConformanceLocal(t *testing.T) {
	_, cfg := localaws.NewTestServer(t, localaws.Options{})
	ec, qc := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	eventbustest.Run(t, eventbustest.Harness{
		Pkg: "awseventbridge",
		New: func(t *testing.T, c eventbustest.Config) eventbus.Bus {
			return newBus(t, ec, awseventbridge.Options{MaxEntrySize: c.MaxEntrySize})
		},
		Sink: func(t *testing.T) (eventbus.Target, queue.Receiver) {
			q := newSink(t, qc)
			return eventbus.Target{Queue: q}, q
		},
		Caps: eventbustest.Capabilities{
			Transform:    true,
			Archive:      true,
			Envelope:     true,
			MaxEntrySize: 256 << 10,
		},
	})
}
