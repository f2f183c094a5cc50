package consumer

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/backoff"
	"github.com/postroom/postroom/queue"
)

// An acker batches the acks of a Consumer: it deletes handled messages in
// calls of up to the batch limit, when a batch fills or its interval
// passes, and retries the deletes that fail.
//
// The goroutine that completes a batch makes the Ack call, once it has
// freed its message's slot (see help); at most maxAckCalls are in progress
// at once, and a goroutine whose call ended takes the next full batch, if
// any, so that a slow queue gets bigger batches rather than more calls. A
// ticker flushes the batches whose interval passed.
type acker struct {
	c         *Consumer
	threshold int           // messages that make a batch
	interval  time.Duration // longest wait for a batch; negative: none
	limit     int           // pending messages at which add waits

	calls sync.WaitGroup // the Ack calls in progress
	// ready hints that a batch may be ready, so that help does not take
	// the lock after every message.
	ready atomic.Bool

	mu       sync.Mutex // guards everything below
	more     sync.Cond  // pending shrank
	pending  []*queue.Delivery
	active   int  // Ack calls in progress
	due      bool // the interval passed: ack every pending message
	stopping bool // the consumer is stopping: ack every pending message
}

// ackRetry spaces the attempts of a failed ack.
var ackRetry = backoff.Exponential{Initial: 200 * time.Millisecond, Max: 5 * time.Second, Jitter: backoff.EqualJitter}

func newAcker(c *Consumer, threshold int, interval time.Duration) *acker {
	a := &acker{
		c:         c,
		threshold: threshold,
		interval:  interval,
		limit:     max(10*c.maxBatch, c.concurrency),
	}
	a.more.L = &a.mu
	return a
}

// add queues d to be acked. While too many acks are pending, it makes an
// Ack call itself, or waits for one to end, so that a slow queue slows the
// handlers down.
func (a *acker) add(d *queue.Delivery) {
	a.mu.Lock()
	for len(a.pending) >= a.limit {
		if batch := a.next(); batch != nil {
			a.mu.Unlock()
			a.calls.Add(1)
			a.loop(batch)
			a.mu.Lock()
			continue
		}
		a.more.Wait()
	}
	a.pending = append(a.pending, d)
	a.ready.Store(a.isReady())
	a.mu.Unlock()
}

// isReady reports whether a batch is ready to be acked. Callers hold a.mu.
func (a *acker) isReady() bool {
	n := len(a.pending)
	return n > 0 && (n >= a.threshold || a.interval < 0 || a.due || a.stopping)
}

// help makes the Ack calls whose batch is ready, if fewer than maxAckCalls
// are in progress. Handler goroutines call it once they freed their slot.
func (a *acker) help() {
	if !a.ready.Load() {
		return
	}
	a.mu.Lock()
	batch := a.next()
	a.mu.Unlock()
	if batch != nil {
		a.calls.Add(1)
		a.loop(batch)
	}
}

// next takes the next batch to ack, if one is ready and a call may start,
// counting the call as active. Callers hold a.mu.
func (a *acker) next() []*queue.Delivery {
	if a.active >= maxAckCalls {
		return nil
	}
	if len(a.pending) == 0 {
		a.due = false
		return nil
	}
	if !a.isReady() {
		return nil
	}
	n := min(len(a.pending), a.c.maxBatch)
	batch := make([]*queue.Delivery, n)
	copy(batch, a.pending)
	left := copy(a.pending, a.pending[n:])
	clear(a.pending[left:])
	a.pending = a.pending[:left]
	a.ready.Store(a.isReady())
	a.more.Broadcast()
	a.active++
	return batch
}

// loop acks batch, then the next batches that are ready, until none is.
func (a *acker) loop(batch []*queue.Delivery) {
	defer a.calls.Done()
	for batch != nil {
		a.ack(batch)
		a.mu.Lock()
		a.active--
		batch = a.next()
		a.mu.Unlock()
	}
}

// flush acks every pending message: the interval passed, or the consumer
// is stopping.
func (a *acker) flush() {
	a.mu.Lock()
	a.due = true
	var batches [][]*queue.Delivery
	for {
		b := a.next()
		if b == nil {
			break
		}
		batches = append(batches, b)
	}
	a.mu.Unlock()
	for _, b := range batches {
		a.calls.Add(1)
		go a.loop(b)
	}
}

// run flushes the pending acks every interval until stop is closed. It is
// not needed with immediate acks.
func (a *acker) run(stop <-chan struct{}) {
	if a.interval < 0 {
		<-stop
		return
	}
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			a.flush()
		}
	}
}

// stop acks every pending message and waits for the Ack calls to end. No
// add may come after it.
func (a *acker) stop() {
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	a.flush()
	a.calls.Wait()
}

// ack deletes ds, retrying the entries that failed for a reason other than
// a stale receipt or a closed queue, up to ackAttempts times.
func (a *acker) ack(ds []*queue.Delivery) {
	c := a.c
	for attempt := 1; ; attempt++ {
		err := c.r.Ack(c.settleContext(), ds...)
		if err == nil {
			a.acked(ds)
			return
		}
		var acked, retry []*queue.Delivery
		for i, d := range ds {
			e := postroom.EntryErr(err, i)
			if e == nil {
				acked = append(acked, d)
				continue
			}
			final := attempt >= ackAttempts ||
				errors.Is(e, postroom.ErrReceiptExpired) || errors.Is(e, postroom.ErrReceiptInvalid) || errors.Is(e, postroom.ErrClosed)
			if c.hooks.AckFailed != nil {
				c.hooks.AckFailed(d, e, !final)
			}
			if !final {
				retry = append(retry, d)
			}
		}
		if len(acked) > 0 {
			a.acked(acked)
		}
		if len(retry) == 0 {
			return
		}
		ds = retry
		time.Sleep(ackRetry.Delay(attempt))
	}
}

func (a *acker) acked(ds []*queue.Delivery) {
	if a.c.hooks.Acked != nil {
		a.c.hooks.Acked(ds)
	}
}
