package driverkit

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// topicOpener opens topics and brokers, not queues, as mqtt's does.
type topicOpener struct{}

func (topicOpener) OpenTopicURL(context.Context, *url.URL) (pubsub.Topic, error) { return nil, nil }

func (topicOpener) OpenBrokerURL(context.Context, *url.URL) (broker.Broker, error) { return nil, nil }

func TestRegister(t *testing.T) {
	Register(topicOpener{}, "driverkit-a", "driverkit-b")
	for _, s := range []string{"driverkit-a", "driverkit-b"} {
		if !slices.Contains(pubsub.Schemes(), s) || !slices.Contains(broker.Schemes(), s) {
			t.Errorf("%s is not registered with pubsub and broker", s)
		}
		if slices.Contains(queue.Schemes(), s) {
			t.Errorf("%s is registered with queue, which the opener cannot open", s)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Register of an opener that opens nothing did not panic")
		}
	}()
	Register(struct{}{}, "driverkit-c")
}
