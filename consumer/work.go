package consumer

import (
	"context"
	"errors"
	"runtime/debug"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

// poll receives messages into the free slots until ctx ends or the
// receiver fails for good. One receive is in progress at a time; ctx
// cancels it.
func (c *Consumer) poll(ctx context.Context) error {
	failures := 0
	slots := make([]int32, 0, c.maxMessages)
	for {
		var ok bool
		slots, ok = c.acquire(ctx, slots[:0])
		if !ok {
			return nil
		}
		n := len(slots)
		var start time.Time
		if c.hb != nil {
			start = c.hb.now()
		}
		ds, err := c.r.Receive(ctx, queue.ReceiveOptions{MaxMessages: n, WaitTime: c.wait, VisibilityTimeout: c.recvVT})
		if len(ds) > n { // more than asked: never hold more than the limit
			c.giveBack(ds[n:]...)
			ds = ds[:n]
		}
		for _, s := range slots[len(ds):] {
			c.sem <- s
		}
		slots = slots[:len(ds)]
		if len(ds) > 0 {
			c.hold(len(ds))
			if c.hooks.Received != nil {
				c.hooks.Received(ds)
			}
			if err != nil || ctx.Err() != nil {
				// Received as the receive failed or the shutdown began:
				// not started, so others may have them at once.
				c.giveBack(ds...)
				c.release(slots...)
				ds = nil
			}
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			if errors.Is(err, postroom.ErrClosed) || errors.Is(err, postroom.ErrInvalid) {
				return err
			}
			failures++
			pause := c.pollBackoff.Delay(failures)
			if c.hooks.PollError != nil {
				c.hooks.PollError(err, pause)
			}
			if !sleep(ctx, pause) {
				return nil
			}
			continue
		}
		failures = 0
		if len(ds) == 0 {
			if c.hooks.EmptyPoll != nil {
				c.hooks.EmptyPoll()
			}
			continue
		}
		if c.hb != nil {
			c.hb.track(ds, slots, start)
		}
		c.dispatch(ds, slots)
	}
}

// acquire takes one free slot, waiting for it, and then as many more as
// are free, up to MaxMessages, appending them to slots. It reports false
// when ctx ended first.
func (c *Consumer) acquire(ctx context.Context, slots []int32) ([]int32, bool) {
	var s int32
	select {
	case s = <-c.sem: // a free slot: the usual case
	default:
		select {
		case s = <-c.sem:
		case <-ctx.Done():
			return slots, false
		}
	}
	if ctx.Err() != nil {
		c.sem <- s
		return slots, false
	}
	slots = append(slots, s)
	for len(slots) < c.maxMessages {
		select {
		case s = <-c.sem:
			slots = append(slots, s)
		default:
			return slots, true
		}
	}
	return slots, true
}

// hold counts n received messages, whose slots were acquired.
func (c *Consumer) hold(n int) {
	v := c.nheld.Add(int64(n))
	if c.hooks.InFlight != nil {
		c.hooks.InFlight(int(v))
	}
}

// release frees the slots of settled messages, then makes the Ack call of
// a batch they completed, if any: the caller's goroutine makes it rather
// than another one that it would have to wake.
func (c *Consumer) release(slots ...int32) {
	if c.hb != nil {
		c.hb.clear(slots)
	}
	// Count first: the slots may be taken again at once.
	v := c.nheld.Add(-int64(len(slots)))
	for _, s := range slots {
		c.sem <- s
	}
	if c.hooks.InFlight != nil {
		c.hooks.InFlight(int(v))
	}
	c.acks.help()
}

// A held is a received message and the slot it takes.
type held struct {
	d    *queue.Delivery
	slot int32
}

// A unit is work for a pool worker: one message, a FIFO group or a batch.
type unit struct {
	h     held
	group *groupRun
	batch []*queue.Delivery
	slots []int32 // the batch's
}

// worker runs units until c.units is closed.
func (c *Consumer) worker() {
	defer c.workers.Done()
	for u := range c.units {
		switch {
		case u.batch != nil:
			c.runBatch(u.batch, u.slots)
		case u.group != nil:
			c.runGroup(u.group)
		default:
			c.runOne(u.h)
		}
	}
}

// dispatch starts the handling of received messages, whose slots are held.
// c.units never blocks: it has room for a unit per slot.
func (c *Consumer) dispatch(ds []*queue.Delivery, slots []int32) {
	switch {
	case c.bh != nil:
		if len(ds) == c.concurrency {
			// The batch holds every slot: the poller could only wait.
			c.runBatch(ds, slots)
			return
		}
		c.units <- unit{batch: ds, slots: append([]int32(nil), slots...)}
	case c.inlineOnly:
		// Concurrency 1: the poller would only wait for the slot.
		c.runOne(held{ds[0], slots[0]})
	case c.fifo:
		c.dispatchFIFO(ds, slots)
	default:
		for i, d := range ds {
			c.units <- unit{h: held{d, slots[i]}}
		}
	}
}

// runOne handles a message, unless the consumer is shutting down, and
// frees its slot.
func (c *Consumer) runOne(h held) {
	if c.stopping.Load() {
		c.giveBack(h.d)
	} else {
		c.process(h.d)
	}
	c.release(h.slot)
}

// A groupRun handles the held messages of one FIFO group in order.
type groupRun struct {
	id    string
	queue []held // guarded by Consumer.groupsMu
}

// dispatchFIFO queues each message behind the held ones of its group, and
// starts a unit for each group that has none.
func (c *Consumer) dispatchFIFO(ds []*queue.Delivery, slots []int32) {
	var start []unit
	c.groupsMu.Lock()
	for i, d := range ds {
		h := held{d, slots[i]}
		if d.GroupID == "" { // no order to keep
			start = append(start, unit{h: h})
			continue
		}
		if g := c.groups[d.GroupID]; g != nil {
			g.queue = append(g.queue, h)
			continue
		}
		g := &groupRun{id: d.GroupID, queue: []held{h}}
		c.groups[d.GroupID] = g
		start = append(start, unit{group: g})
	}
	c.groupsMu.Unlock()
	for _, u := range start {
		c.units <- u
	}
}

// runGroup handles g's messages one at a time until none is left. When one
// fails, or the consumer shuts down, the rest are given back.
func (c *Consumer) runGroup(g *groupRun) {
	for {
		c.groupsMu.Lock()
		if len(g.queue) == 0 {
			delete(c.groups, g.id)
			c.groupsMu.Unlock()
			return
		}
		h := g.queue[0]
		g.queue = g.queue[1:]
		c.groupsMu.Unlock()

		stopping := c.stopping.Load()
		if !stopping && c.process(h.d) {
			c.release(h.slot)
			continue
		}
		// Shutting down (h not started) or h failed: give back the rest,
		// which the queue delivers again in order after h.
		c.groupsMu.Lock()
		rest := g.queue
		g.queue = nil
		delete(c.groups, g.id)
		c.groupsMu.Unlock()
		if stopping {
			rest = append([]held{h}, rest...)
		} else {
			c.release(h.slot) // h was settled
		}
		if len(rest) > 0 {
			ds := make([]*queue.Delivery, len(rest))
			slots := make([]int32, len(rest))
			for i, r := range rest {
				ds[i], slots[i] = r.d, r.slot
			}
			c.giveBack(ds...)
			c.release(slots...)
		}
		return
	}
}

// runBatch runs the batch handler on ds and settles each message, then
// frees their slots.
func (c *Consumer) runBatch(ds []*queue.Delivery, slots []int32) {
	defer c.release(slots...)
	if c.stopping.Load() {
		c.giveBack(ds...)
		return
	}
	todo := ds
	if c.maxAttempts > 0 {
		todo = nil
		for _, d := range ds {
			if d.ReceiveCount > c.maxAttempts {
				c.deadLetter(d, ErrExhausted)
			} else {
				todo = append(todo, d)
			}
		}
		if len(todo) == 0 {
			return
		}
	}
	start := time.Now()
	err := c.callBatch(todo)
	be, perEntry := err.(*postroom.BatchError)
	perEntry = perEntry && len(be.Errs) == len(todo)
	var failed map[string]bool    // FIFO groups with a failed message
	var skipped []*queue.Delivery // FIFO messages behind a failed one
	for i, d := range todo {
		e := err
		if perEntry {
			e = be.Errs[i]
		}
		if failed[d.GroupID] {
			skipped = append(skipped, d)
			continue
		}
		if !c.settle(d, e, start) && c.fifo && d.GroupID != "" {
			if failed == nil {
				failed = make(map[string]bool)
			}
			failed[d.GroupID] = true
		}
	}
	if len(skipped) > 0 {
		c.giveBack(skipped...)
	}
}

// process runs the handler on d and settles d. It reports whether d left
// the queue (acked or dead-lettered) rather than being given back.
func (c *Consumer) process(d *queue.Delivery) bool {
	if c.maxAttempts > 0 && d.ReceiveCount > c.maxAttempts {
		return c.deadLetter(d, ErrExhausted)
	}
	var start time.Time
	if c.hooks.Handled != nil {
		start = time.Now()
	}
	return c.settle(d, c.call(d), start)
}

// call runs the handler, turning a panic into a *PanicError.
func (c *Consumer) call(d *queue.Delivery) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = c.panicked([]*queue.Delivery{d}, v)
		}
	}()
	return c.h(c.workCtx, d)
}

// callBatch is call for the batch handler.
func (c *Consumer) callBatch(ds []*queue.Delivery) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = c.panicked(ds, v)
		}
	}()
	return c.bh(c.workCtx, ds)
}

func (c *Consumer) panicked(ds []*queue.Delivery, v any) error {
	p := &PanicError{Value: v, Stack: debug.Stack()}
	if c.hooks.Panic != nil {
		c.hooks.Panic(ds, p)
	}
	return p
}

// settle acks d after a handler's success, and retries or dead-letters it
// after a failure. It reports whether d left the queue.
func (c *Consumer) settle(d *queue.Delivery, err error, start time.Time) bool {
	if err == nil {
		if c.hooks.Handled != nil {
			c.hooks.Handled(d, time.Since(start))
		}
		c.acks.add(d)
		return true
	}
	if c.hooks.Failed != nil {
		c.hooks.Failed(d, err)
	}
	permanent := errors.Is(err, ErrPermanent)
	switch {
	case permanent && c.permanent == DropPermanent:
		c.acks.add(d)
		return true
	case c.dlq != nil && (permanent && c.permanent == DeadLetterPermanent || c.maxAttempts > 0 && d.ReceiveCount >= c.maxAttempts):
		return c.deadLetter(d, err)
	case c.workCtx.Err() != nil && errors.Is(err, context.Canceled):
		// Interrupted by the shutdown, not failed: let another consumer
		// have it at once.
		c.giveBack(d)
		return false
	}
	c.retryLater(d)
	return false
}

// retryLater nacks d with the backoff delay of its receive count.
func (c *Consumer) retryLater(d *queue.Delivery) {
	delay := c.backoff.Delay(max(d.ReceiveCount, 1))
	if delay < 0 { // lazy: it comes back when its visibility timeout passes
		if c.hb != nil {
			c.hb.untrack([]*queue.Delivery{d})
		}
		return
	}
	if c.maxVis > 0 && !d.ReceivedAt.IsZero() {
		// A message cannot stay in flight longer than maxVis.
		if left := c.maxVis - time.Since(d.ReceivedAt) - time.Second; delay > left {
			delay = max(left, 0)
		}
	}
	c.nack(delay, d)
}

// giveBack nacks messages with no delay.
func (c *Consumer) giveBack(ds ...*queue.Delivery) { c.nack(0, ds...) }

// nack makes ds visible again after delay, in calls of at most the batch
// limit, and reports the outcome to the hooks.
func (c *Consumer) nack(delay time.Duration, ds ...*queue.Delivery) {
	if c.hb != nil {
		c.hb.untrack(ds)
	}
	for len(ds) > 0 {
		chunk := ds[:min(len(ds), c.maxBatch)]
		ds = ds[len(chunk):]
		err := c.r.Nack(c.settleContext(), delay, chunk...)
		if err == nil {
			if c.hooks.Nacked != nil {
				c.hooks.Nacked(chunk, delay)
			}
			continue
		}
		var ok []*queue.Delivery
		for i, d := range chunk {
			if e := postroom.EntryErr(err, i); e != nil {
				if c.hooks.NackFailed != nil {
					c.hooks.NackFailed(d, e)
				}
			} else {
				ok = append(ok, d)
			}
		}
		if len(ok) > 0 && c.hooks.Nacked != nil {
			c.hooks.Nacked(ok, delay)
		}
	}
}

// deadLetter sends a copy of d to the dead-letter sender, then acks d. When
// the send fails, d is retried later. It reports whether d left the queue.
func (c *Consumer) deadLetter(d *queue.Delivery, cause error) bool {
	m := &queue.Message{Body: d.Body, Attributes: d.Attributes, GroupID: d.GroupID}
	if c.dlqFIFO {
		m.DeduplicationID = d.ID
		if m.GroupID == "" {
			m.GroupID = d.ID
		}
	}
	err := c.dlq.Send(c.settleContext(), m)
	if err != nil {
		if c.hooks.DeadLetterFailed != nil {
			c.hooks.DeadLetterFailed(d, err)
		}
		c.retryLater(d)
		return false
	}
	c.acks.add(d)
	if c.hooks.DeadLettered != nil {
		c.hooks.DeadLettered(d, cause)
	}
	return true
}

// settleContext bounds one Ack, Nack, Extend or dead-letter Send. It is not
// cancelled by Run's context: the shutdown still settles messages. Its
// deadline is SettleTimeout to 1.25 × SettleTimeout away: calls made
// within a quarter of the timeout share a context, so that a busy consumer
// does not start a timer for every call.
func (c *Consumer) settleContext() context.Context {
	now := time.Now()
	c.settleMu.Lock()
	defer c.settleMu.Unlock()
	if len(c.settleCtxs) > 0 && now.Before(c.settleRenew) {
		return c.settleCtxs[len(c.settleCtxs)-1].ctx
	}
	// Release the contexts whose deadline passed.
	live := c.settleCtxs[:0]
	for _, sc := range c.settleCtxs {
		if now.After(sc.deadline) {
			sc.cancel()
		} else {
			live = append(live, sc)
		}
	}
	deadline := now.Add(c.settleTimeout + c.settleTimeout/4)
	ctx, cancel := context.WithDeadline(c.base, deadline)
	c.settleCtxs = append(live, settleCtx{ctx, cancel, deadline})
	c.settleRenew = now.Add(c.settleTimeout / 4)
	return ctx
}

// A settleCtx is a context settleContext hands out.
type settleCtx struct {
	ctx      context.Context
	cancel   context.CancelFunc
	deadline time.Time
}

// releaseSettleContexts cancels the contexts of settleContext once no call
// uses them any more.
func (c *Consumer) releaseSettleContexts() {
	c.settleMu.Lock()
	defer c.settleMu.Unlock()
	for _, sc := range c.settleCtxs {
		sc.cancel()
	}
	c.settleCtxs = nil
}

// sleep waits for d or until ctx ends, and reports whether ctx is still
// alive.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
