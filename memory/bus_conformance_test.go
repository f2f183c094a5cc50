package memory_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/eventbus/eventbustest"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

var testBuses atomic.Int64

func TestBusConformance(t *testing.T) {
	eventbustest.Run(t, eventbustest.Harness{
		Pkg: "memory",
		New: func(t *testing.T, cfg eventbustest.Config) eventbus.Bus {
			b, err := memory.NewBus(fmt.Sprintf("bus%d", testBuses.Add(1)), memory.BusOptions{MaxEntrySize: cfg.MaxEntrySize})
			require.NoError(t, err)
			return b
		},
		Sink: func(t *testing.T) (eventbus.Target, queue.Receiver) {
			q := newQueue(t, fmt.Sprintf("sink%d", testBuses.Add(1)), memory.QueueOptions{})
			return eventbus.Target{Queue: q}, q
		},
		Caps: eventbustest.Capabilities{
			Synctest:     true,
			Transform:    true,
			Func:         true,
			Archive:      true,
			Envelope:     true,
			MaxEntrySize: 256 << 10,
		},
	})
}
