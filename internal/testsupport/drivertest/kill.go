package drivertest

import (
	"context"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/queue"
)

// Kill is a driver's crash test: producers send Total persistent
// messages, numbered by the attribute "seq", while a consumer receives and
// acks them; at a quarter the consumer stops, so that a backlog builds up
// on the broker, and at three quarters the broker is killed with SIGKILL
// ("Script kill Service", no shutdown hook, nothing flushed) and started
// again ("Script start Service") while the producers go on. A send that
// fails is sent again. Afterwards the consumer receives the rest: every
// message whose send returned nil must arrive; duplicates are logged.
type Kill struct {
	// Script is scripts/brokers.sh (POSTROOM_BROKER_SCRIPT).
	Script, Service string

	// Total is the number of messages; 0 means 2,000.
	Total int

	// Send sends (or publishes) one batch, each message confirmed by the
	// broker when it returns nil.
	Send func(ctx context.Context, ms []*queue.Message) error

	// Receiver receives what Send sent.
	Receiver queue.Receiver

	// MaxBatch is the most messages one Receive asks for.
	MaxBatch int

	// MayLose, for a broker that acknowledges before its store is
	// written (Mosquitto), is how many confirmed messages a kill may lose
	// without failing the test; Why says why. 0 for a broker that must
	// lose none.
	MayLose int
	Why     string
}

// Run runs the test; it takes up to 90 seconds.
func (k Kill) Run(t *testing.T) {
	total := k.Total
	if total == 0 {
		total = 2000
	}
	const (
		producers = 4
		batch     = 20 // so at most 80 messages are in flight
	)
	pauseAt, killAt := int64(total/4), int64(total*3/4)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	tl := newTally(total)
	receive := func(ctx context.Context) { tl.receive(ctx, t, k.Receiver, k.MaxBatch, 500*time.Millisecond) }

	var sent, confirmed atomic.Int64 // messages handed to Send; messages whose Send returned nil
	paused, killed := make(chan struct{}), make(chan struct{})
	var pauseOnce, killOnce sync.Once
	var killTook, startTook time.Duration
	var wg sync.WaitGroup
	consumerStopped := make(chan struct{})
	wg.Go(func() { // consumer, until the pause
		defer close(consumerStopped)
		for ctx.Err() == nil {
			select {
			case <-paused:
				return
			default:
			}
			receive(ctx)
		}
	})
	for p := range producers {
		wg.Go(func() {
			for start := p * batch; start < total; start += producers * batch {
				ms := make([]*queue.Message, 0, batch)
				for i := start; i < min(start+batch, total); i++ {
					ms = append(ms, &queue.Message{Body: []byte("payload " + strconv.Itoa(i)), Attributes: queue.Attributes{"seq": queue.Int(int64(i))}})
				}
				n := sent.Add(int64(len(ms)))
				if n >= pauseAt {
					pauseOnce.Do(func() { close(paused) })
				}
				if n >= killAt {
					killOnce.Do(func() {
						// Kill only once the consumer is idle, so that the
						// backlog sits on the broker.
						<-consumerStopped
						t0 := time.Now()
						out, err := exec.CommandContext(ctx, k.Script, "kill", k.Service).CombinedOutput()
						killTook = time.Since(t0)
						if err != nil {
							t.Errorf("%s kill %s: %v\n%s", k.Script, k.Service, err, out)
						}
						close(killed)
						wg.Go(func() {
							t0 := time.Now()
							out, err := exec.CommandContext(ctx, k.Script, "start", k.Service).CombinedOutput()
							startTook = time.Since(t0)
							if err != nil {
								t.Errorf("%s start %s: %v\n%s", k.Script, k.Service, err, out)
							}
						})
					})
				}
				for {
					sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
					err := k.Send(sctx, ms)
					scancel()
					if err == nil {
						confirmed.Add(int64(len(ms)))
						break
					}
					if ctx.Err() != nil {
						t.Errorf("send: %v", err)
						return
					}
					t.Logf("send failed, sending the batch again: %v", err)
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, ctx.Err(), "the producers and the restart did not finish in time")
	select {
	case <-killed:
	default:
		t.Fatal("the broker was not killed")
	}

	// The consumer again, until every message arrived.
	deadline := time.Now().Add(30 * time.Second)
	for tl.distinct.Load() < int64(total) && ctx.Err() == nil && time.Now().Before(deadline) {
		receive(ctx)
	}
	// A moment more for duplicates that follow.
	for end := time.Now().Add(time.Second); time.Now().Before(end) && ctx.Err() == nil; {
		receive(ctx)
	}
	missing := tl.missing()
	t.Logf("%d messages sent, all confirmed; %s killed at %d sent (kill took %v, start %v); received %d deliveries: %d distinct, %d duplicates, %d missing",
		confirmed.Load(), k.Service, killAt, killTook.Round(time.Millisecond), startTook.Round(time.Millisecond),
		tl.deliveries.Load(), tl.distinct.Load(), tl.deliveries.Load()-tl.distinct.Load(), missing)
	assert.Equal(t, int64(total), confirmed.Load(), "every message was sent with a nil error")
	if missing > 0 {
		t.Logf("never delivered: %s", tl.missingRanges())
	}
	if missing > 0 && missing <= k.MayLose {
		t.Logf("%d confirmed messages lost, no more than the %d allowed: %s", missing, k.MayLose, k.Why)
		return
	}
	assert.Zero(t, missing, "messages confirmed and lost")
}
