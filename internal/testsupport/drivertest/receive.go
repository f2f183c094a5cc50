// Package drivertest holds what the integration tests of the broker
// drivers (amazonmq/amqp, amazonmq/stomp, amazonmq/mqtt) share: receiving
// a known number of messages, watching a broker's state changes, and the
// fault test that restarts a broker under a producer and a consumer.
package drivertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/queue"
)

// ReceiveN long-polls r until n deliveries came or 20 s passed, and fails
// the test unless it got exactly n. n must not exceed the driver's batch
// limit.
func ReceiveN(t testing.TB, r queue.Receiver, n int) []*queue.Delivery {
	t.Helper()
	var got []*queue.Delivery
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		ds, err := r.Receive(t.Context(), queue.ReceiveOptions{MaxMessages: n - len(got), WaitTime: time.Second})
		require.NoError(t, err)
		got = append(got, ds...)
	}
	require.Len(t, got, n)
	return got
}

// ReceiveNone fails the test when r delivers anything within wait.
func ReceiveNone(t testing.TB, r queue.Receiver, wait time.Duration) {
	t.Helper()
	ds, err := r.Receive(t.Context(), queue.ReceiveOptions{MaxMessages: 10, WaitTime: wait})
	require.NoError(t, err)
	require.Empty(t, ds)
}

// Bodies returns the bodies of ds as strings, in order.
func Bodies(ds []*queue.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Body))
	}
	return out
}
