package amqp

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/queue"
)

// TestSendCutMidBatch cuts the connection while a large batch is being
// written, so that socket writes fail under amqp091 before it has noticed
// the connection is gone. Those publishes are lost like any unconfirmed
// one: Send publishes them again on the next connection and returns nil.
func TestSendCutMidBatch(t *testing.T) {
	p, b := dialProxied(t)
	q := testQueue(t, b)

	const (
		perBatch = 2000
		bodyLen  = 1024
	)
	body := bytes.Repeat([]byte("c"), bodyLen)
	// Cut at different points of the batch's ~2.3 MB on the wire.
	cuts := []int64{4 << 10, 200 << 10, 1 << 20}
	want := map[string]bool{}
	for round, at := range cuts {
		msgs := make([]*queue.Message, perBatch)
		for i := range msgs {
			id := fmt.Sprintf("r%d-%d", round, i)
			msgs[i] = &queue.Message{ID: id, Body: body}
			want[id] = true
		}
		cut := p.CutAfter(at)
		stop, restored := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(restored)
			select {
			case <-cut:
				p.Restore()
			case <-stop:
			}
		}()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		err := q.Send(ctx, msgs...)
		cancel()
		close(stop)
		<-restored
		require.NoError(t, err, "a send cut after %d bytes", at)
		select {
		case <-cut:
		default:
			t.Fatalf("the connection was not cut during the send (after %d bytes)", at)
		}
	}

	seen := map[string]int{}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for len(seen) < len(want) && ctx.Err() == nil {
		ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: time.Second})
		if err != nil {
			continue
		}
		for _, d := range ds {
			seen[d.ID]++
		}
		require.NoError(t, q.Ack(ctx, ds...))
	}
	missing, duplicates := 0, 0
	for id := range want {
		switch n := seen[id]; {
		case n == 0:
			missing++
		case n > 1:
			duplicates += n - 1
		}
	}
	assert.Zero(t, missing, "messages of a successful Send never received")
	assert.Len(t, seen, len(want), "no message that was not sent")
	t.Logf("sent %d messages in %d batches cut mid-write; received all at least once, %d duplicates", len(want), len(cuts), duplicates)
}
