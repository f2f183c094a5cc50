package drivertest

import (
	"context"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/queue"
)

// Restart is a driver's fault test: producers send 10,000 messages,
// numbered by the attribute "seq", while a consumer receives and acks
// them, and once 2,500 are sent the broker is restarted. Afterwards every
// message must have been received at least once, and the consumer's
// broker must have reconnected.
type Restart struct {
	// Script is scripts/brokers.sh (POSTROOM_BROKER_SCRIPT), run as
	// "Script restart Service".
	Script, Service string

	// Consumer is the broker Receiver belongs to; its reconnections are
	// counted.
	Consumer broker.Broker

	// Send sends (or publishes) one batch, each message confirmed by the
	// broker when it returns nil. A failed batch is sent again whole.
	Send func(ctx context.Context, ms []*queue.Message) error

	// Receiver receives what Send sent.
	Receiver queue.Receiver

	// MaxBatch is the most messages one Receive asks for.
	MaxBatch int
}

// Run runs the test; it takes up to 6 minutes.
func (r Restart) Run(t *testing.T) {
	const (
		total     = 10000
		producers = 4
		batch     = 25
		restartAt = 2500 // messages sent
	)
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	var reconnects atomic.Int64
	defer r.Consumer.NotifyState(func(ch broker.StateChange) {
		if ch.To == broker.Reconnecting {
			reconnects.Add(1)
		}
		t.Logf("consumer: %v -> %v %v", ch.From, ch.To, ch.Err)
	})()

	tl := newTally(total)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // consumer
		defer close(done)
		for tl.distinct.Load() < total && ctx.Err() == nil {
			tl.receive(ctx, t, r.Receiver, r.MaxBatch, time.Second)
		}
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
					err := r.Send(sctx, ms)
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
							out, err := exec.CommandContext(ctx, r.Script, "restart", r.Service).CombinedOutput()
							if err != nil {
								t.Errorf("%s restart %s: %v\n%s", r.Script, r.Service, err, out)
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
	missing := tl.missing()
	var took time.Duration
	select {
	case took = <-restart:
	default:
	}
	t.Logf("sent %d messages, restart of %s took %v, consumer reconnected %d time(s); received %d deliveries: %d distinct, %d duplicates, %d missing",
		sent.Load(), r.Service, took.Round(time.Millisecond), reconnects.Load(), tl.deliveries.Load(), tl.distinct.Load(), tl.deliveries.Load()-tl.distinct.Load(), missing)
	assert.Zero(t, missing, "messages lost")
	assert.Positive(t, reconnects.Load(), "the broker restarted under the consumer")
}
