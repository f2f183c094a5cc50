package memory_test

import (
	"testing"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/broker/brokertest"
	"github.com/postroom/postroom/memory"
)

func TestBrokerConformance(t *testing.T) {
	brokertest.Run(t, brokertest.Harness{
		Pkg:  "memory",
		Open: func(t *testing.T) broker.Broker { return memory.NewBroker() },
	})
}

func TestBrokerOpen(t *testing.T) {
	b, err := broker.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	var closed []broker.StateChange
	stop := b.NotifyState(func(c broker.StateChange) { closed = append(closed, c) })
	defer stop()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(closed) != 1 || closed[0].To != broker.Closed || b.State() != broker.Closed {
		t.Fatalf("state changes %v, state %v", closed, b.State())
	}
}
