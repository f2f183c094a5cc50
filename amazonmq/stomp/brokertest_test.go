package stomp

import (
	"os"
	"testing"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/broker/brokertest"
)

func TestBrokerConformance(t *testing.T) {
	brokerURL(t)
	// POSTROOM_STOMP_SCHEDULER says the broker runs ActiveMQ's scheduler:
	// delayed nacks are declared and tested then.
	scheduler := os.Getenv("POSTROOM_STOMP_SCHEDULER") != ""
	brokertest.Run(t, brokertest.Harness{
		Pkg: "stomp",
		Open: func(t *testing.T) broker.Broker {
			// A client id of its own, for durable subscriptions.
			return dial(t, Options{ClientID: uniqueName("conformance"), ScheduledDelivery: scheduler})
		},
		Prefix: "postroom-test-stomp",
	})
}
