package consumer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/backoff"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

// Messages of one group are handled one at a time in order, different
// groups in parallel: on a FIFO queue, and with the FIFO option on a
// standard queue (which does not lock groups).
func TestConsumerFIFOOrder(t *testing.T) {
	const groups, perGroup, limit = 100, 10, 8
	tests := []struct {
		name string
		fifo bool // a FIFO queue; else the FIFO option
	}{
		{name: "FIFO queue", fifo: true},
		{name: "FIFO option on a standard queue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				name := "orders"
				if tt.fifo {
					name += ".fifo"
				}
				q := newQueue(t, name, memory.QueueOptions{ContentBasedDeduplication: tt.fifo})
				var msgs []string
				for seq := range perGroup {
					for g := range groups {
						msgs = append(msgs, fmt.Sprintf("g%d-%d", g, seq))
					}
				}
				send(t, q, msgs, func(i int) string { return strings.Split(msgs[i], "-")[0] })

				var mu sync.Mutex
				seen := map[string][]string{} // group → bodies in handling order
				busy := map[string]bool{}     // groups being handled
				var overlap []string
				var running gauge
				all := make(chan struct{})
				total := 0
				h := func(ctx context.Context, d *queue.Delivery) error {
					running.add(1)
					defer running.add(-1)
					mu.Lock()
					if busy[d.GroupID] {
						overlap = append(overlap, string(d.Body))
					}
					busy[d.GroupID] = true
					seen[d.GroupID] = append(seen[d.GroupID], string(d.Body))
					mu.Unlock()

					time.Sleep(time.Duration(1+len(d.Body)*int(d.Body[len(d.Body)-1])%5) * 100 * time.Millisecond)

					mu.Lock()
					defer mu.Unlock()
					busy[d.GroupID] = false
					if total++; total == groups*perGroup {
						close(all)
					}
					return nil
				}
				c := newConsumer(t, q, h, consumer.Options{Concurrency: limit, FIFO: !tt.fifo})
				stop := start(t, c)
				<-all
				require.NoError(t, stop())

				assert.Empty(t, overlap, "a group handled twice at once")
				require.Len(t, seen, groups)
				for g := range groups {
					id := fmt.Sprintf("g%d", g)
					want := make([]string, perGroup)
					for seq := range want {
						want[seq] = fmt.Sprintf("%s-%d", id, seq)
					}
					assert.Equal(t, want, seen[id], "group %s in order, each once", id)
				}
				assert.LessOrEqual(t, running.peak(), limit)
				assert.Greater(t, running.peak(), limit/2, "groups in parallel")
				assert.Equal(t, queue.Stats{}, stats(t, q))
			})
		})
	}
}

// When a message fails, the rest of its group is given back at once, not
// handled, and delivered again in order after it; other groups go on.
func TestConsumerFIFOFailureStopsGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, "fail.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
		msgs := []string{"a1", "b1", "a2", "b2", "a3", "b3"}
		send(t, q, msgs, func(i int) string { return msgs[i][:1] })
		var mu sync.Mutex
		var calls []string
		failedOnce := false
		done := make(chan struct{})
		h := func(ctx context.Context, d *queue.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, string(d.Body))
			if string(d.Body) == "a2" && !failedOnce {
				failedOnce = true
				return errBoom
			}
			if string(d.Body) == "a3" {
				close(done)
			}
			return nil
		}
		var givenBack []string
		c := newConsumer(t, q, h, consumer.Options{
			Concurrency: 8,
			Retry:       consumer.Retry{Backoff: backoff.Exponential{Initial: 5 * time.Second, Jitter: backoff.NoJitter}},
			Hooks: consumer.Hooks{Nacked: func(ds []*queue.Delivery, delay time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				for _, d := range ds {
					givenBack = append(givenBack, fmt.Sprintf("%s after %v", d.Body, delay))
				}
			}},
		})
		stop := start(t, c)
		<-done
		require.NoError(t, stop())

		var a, b []string
		for _, body := range calls {
			if body[0] == 'a' {
				a = append(a, body)
			} else {
				b = append(b, body)
			}
		}
		assert.Equal(t, []string{"a1", "a2", "a2", "a3"}, a, "a3 waits for a2")
		assert.Equal(t, []string{"b1", "b2", "b3"}, b, "group b goes on")
		assert.Equal(t, []string{"a2 after 5s", "a3 after 0s"}, givenBack)
		assert.Equal(t, queue.Stats{}, stats(t, q))
	})
}
