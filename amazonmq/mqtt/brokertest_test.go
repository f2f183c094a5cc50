package mqtt

import (
	"testing"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/broker/brokertest"
)

func TestBrokerConformance(t *testing.T) {
	eachBroker(t, func(t *testing.T, url string) {
		brokertest.Run(t, brokertest.Harness{
			Pkg:    "mqtt",
			Open:   func(t *testing.T) broker.Broker { return dial(t, url, Options{}) },
			Prefix: "postroom/test/conformance",
		})
	})
}
