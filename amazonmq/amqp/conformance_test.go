package amqp

import (
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/broker/brokertest"
	"github.com/postroom/postroom/queue"
	"github.com/postroom/postroom/queue/queuetest"
)

func TestBrokerConformance(t *testing.T) {
	amqpURL(t)
	brokertest.Run(t, brokertest.Harness{
		Pkg: "amqp",
		Open: func(t *testing.T) broker.Broker {
			return dial(t, Options{})
		},
	})
}

func TestQueueConformance(t *testing.T) {
	amqpURL(t)
	for _, tc := range []struct {
		name      string
		queueType string
		// Classic queues only flag a redelivery; quorum queues count them.
		exactCount bool
	}{
		{"classic", QueueTypeClassic, false},
		{"quorum", QueueTypeQuorum, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := dial(t, Options{QueueType: tc.queueType})
			queuetest.Run(t, queuetest.Harness{
				As:  new(*amqp091.Delivery),
				Pkg: "amqp",
				New: func(t *testing.T, cfg queuetest.Config) queue.Queue {
					return testQueue(t, b)
				},
				Caps: queuetest.Capabilities{
					Delay:        true,
					NackDelay:    true,
					ReceiveCount: tc.exactCount,
					Attributes:   true,
				},
				Invalid: func() (*queue.Message, error) {
					return &queue.Message{Body: []byte("bad"), Attributes: queue.Attributes{"n": queue.Number("not a number")}}, postroom.ErrInvalid
				},
			})
		})
	}
}
