package drivertest

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

// tally counts the deliveries of messages numbered 0 to n-1 by their "seq"
// attribute, for the fault tests.
type tally struct {
	seen                 []atomic.Int32
	distinct, deliveries atomic.Int64
}

func newTally(n int) *tally { return &tally{seen: make([]atomic.Int32, n)} }

// receive receives once from r, counts what came and acks it. Errors are
// logged: a broker going away is what the fault tests provoke.
func (c *tally) receive(ctx context.Context, t testing.TB, r queue.Receiver, max int, wait time.Duration) {
	ds, err := r.Receive(ctx, queue.ReceiveOptions{MaxMessages: max, WaitTime: wait})
	if err != nil {
		if ctx.Err() == nil {
			t.Logf("receive: %v", err)
		}
		return
	}
	for _, d := range ds {
		i, err := strconv.Atoi(d.Attributes.Get("seq"))
		if err != nil || i < 0 || i >= len(c.seen) {
			t.Errorf("a message without a good seq attribute: %v", d.Attributes)
			continue
		}
		c.deliveries.Add(1)
		if c.seen[i].Add(1) == 1 {
			c.distinct.Add(1)
		}
	}
	if len(ds) > 0 {
		if err := r.Ack(ctx, ds...); err != nil && !errors.Is(err, postroom.ErrReceiptExpired) {
			t.Logf("ack: %v", err)
		}
	}
}

// missingRanges lists the numbers never delivered as ranges, "500-1499
// 1730", at most ten of them.
func (c *tally) missingRanges() string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(c.seen); i++ {
		if c.seen[i].Load() != 0 {
			continue
		}
		j := i
		for j+1 < len(c.seen) && c.seen[j+1].Load() == 0 {
			j++
		}
		if n++; n > 10 {
			b.WriteString(" …")
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(i))
		if j > i {
			b.WriteString("-" + strconv.Itoa(j))
		}
		i = j
	}
	return b.String()
}

// missing is how many messages were never delivered.
func (c *tally) missing() int {
	n := 0
	for i := range c.seen {
		if c.seen[i].Load() == 0 {
			n++
		}
	}
	return n
}
