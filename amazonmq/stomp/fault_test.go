package stomp

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/testenv"
	"github.com/postroom/postroom/queue"
)

// TestFaultBrokerRestart restarts ActiveMQ while a producer sends 10,000
// persistent messages and a consumer acks them: afterwards every message
// has been received at least once.
func TestFaultBrokerRestart(t *testing.T) {
	brokerURL(t)
	script := testenv.Get(t, "POSTROOM_BROKER_SCRIPT", "scripts/brokers.sh, which the fault test runs to restart ActiveMQ")
	if testing.Short() {
		t.Skip("the fault test restarts ActiveMQ; not in -short mode")
	}
	const (
		total     = 10000
		producers = 4
		batch     = 25
		restartAt = 2500 // messages sent
	)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	name := uniqueName("fault")
	prod := dial(t, Options{})
	cons := dial(t, Options{})
	var reconnects atomic.Int64
	defer cons.NotifyState(func(ch broker.StateChange) {
		if ch.To == broker.Reconnecting {
			reconnects.Add(1)
		}
		t.Logf("consumer: %v -> %v %v", ch.From, ch.To, ch.Err)
	})()
	pq, err := prod.OpenQueue(ctx, name)
	require.NoError(t, err)
	cq, err := cons.OpenQueue(ctx, name)
	require.NoError(t, err)

	seen := make([]atomic.Int32, total)
	var distinct, deliveries atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // consumer
		for distinct.Load() < total && ctx.Err() == nil {
			ds, err := cq.Receive(ctx, queue.ReceiveOptions{MaxMessages: MaxBatch, WaitTime: time.Second})
			if err != nil {
				if ctx.Err() == nil {
					t.Logf("receive: %v", err)
				}
				continue
			}
			for _, d := range ds {
				i, err := strconv.Atoi(d.Attributes.Get("seq"))
				if err != nil || i < 0 || i >= total {
					t.Errorf("a message without a good seq attribute: %v", d.Attributes)
					continue
				}
				deliveries.Add(1)
				if seen[i].Add(1) == 1 {
					distinct.Add(1)
				}
			}
			if len(ds) > 0 {
				if err := cq.Ack(ctx, ds...); err != nil && !errors.Is(err, queue.ErrReceiptExpired) {
					t.Logf("ack: %v", err)
				}
			}
		}
		close(done)
	})

	var sent atomic.Int64
	restart := make(chan time.Duration, 1)
	var once sync.Once
	var pwg sync.WaitGroup // the producers
	for p := range producers {
		pwg.Go(func() {
			for start := p * batch; start < total; start += producers * batch {
				ms := make([]*queue.Message, 0, batch)
				for i := start; i < min(start+batch, total); i++ {
					ms = append(ms, &queue.Message{Body: []byte("payload"), Attributes: queue.Attributes{"seq": queue.Int(int64(i))}})
				}
				for {
					sctx, scancel := context.WithTimeout(ctx, 2*time.Minute)
					err := pq.Send(sctx, ms...)
					scancel()
					if err == nil {
						break
					}
					if ctx.Err() != nil {
						t.Errorf("send: %v", err)
						return
					}
					t.Logf("send failed, sending the batch again: %v", err)
				}
				if sent.Add(int64(len(ms))) >= restartAt {
					once.Do(func() {
						wg.Go(func() {
							t0 := time.Now()
							out, err := exec.CommandContext(ctx, script, "restart", "activemq").CombinedOutput()
							if err != nil {
								t.Errorf("%s restart activemq: %v\n%s", script, err, out)
							}
							restart <- time.Since(t0)
						})
					})
				}
			}
		})
	}

	pwg.Wait() // every message confirmed by the broker (or the test timed out)
	select {
	case <-done:
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	missing := 0
	for i := range seen {
		if seen[i].Load() == 0 {
			missing++
		}
	}
	dups := deliveries.Load() - distinct.Load()
	var took time.Duration
	select {
	case took = <-restart:
	default:
	}
	t.Logf("sent %d messages, restart of ActiveMQ took %v, consumer reconnected %d time(s); received %d deliveries: %d distinct, %d duplicates, %d missing",
		sent.Load(), took.Round(time.Millisecond), reconnects.Load(), deliveries.Load(), distinct.Load(), dups, missing)
	assert.Zero(t, missing, "messages lost")
	assert.Positive(t, reconnects.Load(), "the broker restarted under the consumer")
}
