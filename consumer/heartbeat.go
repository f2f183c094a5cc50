package consumer

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

// A heartbeat keeps a Consumer's held messages invisible while their
// handlers run: one ticker scans them all and extends, in batches, those
// whose visibility timeout is close to running out. It watches the
// consumer's slots: a message is watched from its receive until its slot
// is freed.
type heartbeat struct {
	c         *Consumer
	ext       queue.Extender
	every     time.Duration // tick
	threshold time.Duration // extend when less than this is left

	// clock is the time of the last beat: a coarse clock, never ahead of
	// the real one, that saves the poller a time.Now per receive.
	clock atomic.Pointer[time.Time]

	// calling is held during Extend calls. Settling a message takes it
	// too, so that an extension in progress cannot undo a nack's delay.
	calling sync.Mutex

	mu    sync.Mutex // guards slots
	slots []inFlight // by slot
}

// inFlight is what the heartbeat knows of the message in a slot.
type inFlight struct {
	d        *queue.Delivery // nil for a free slot, or one no longer watched
	received time.Time       // the visibility cap counts from here
	expires  time.Time       // when it becomes visible, unless extended
	final    bool            // not to be extended again: capped or stale
}

// capMargin keeps the last extension clear of the visibility cap, for
// clocks that differ between the consumer and the queue.
const capMargin = time.Second

func newHeartbeat(c *Consumer, ext queue.Extender, every time.Duration) *heartbeat {
	if every == 0 {
		every = c.vt / 6
	}
	every = max(every, time.Millisecond)
	return &heartbeat{
		c:         c,
		ext:       ext,
		every:     every,
		threshold: min(c.vt, max(c.vt/3, 2*every)),
		slots:     make([]inFlight, c.concurrency),
	}
}

// now returns the coarse clock: a time at most h.every in the past.
func (h *heartbeat) now() time.Time { return *h.clock.Load() }

func (h *heartbeat) tick() {
	now := time.Now()
	h.clock.Store(&now)
}

// track starts watching ds, in slots, received by a call that started
// after start. Their visibility is taken to run from start, which cannot
// be later than the queue's receive; the visibility cap from their
// ReceivedAt.
func (h *heartbeat) track(ds []*queue.Delivery, slots []int32, start time.Time) {
	expires := start.Add(h.c.vt)
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, d := range ds {
		recv := d.ReceivedAt
		if recv.IsZero() {
			recv = start
		}
		h.slots[slots[i]] = inFlight{d: d, received: recv, expires: expires}
	}
}

// clear stops watching the messages in slots, which are being freed.
func (h *heartbeat) clear(slots []int32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range slots {
		h.slots[s] = inFlight{}
	}
}

// untrack stops watching ds, which are being given back, once an
// extension in progress has ended.
func (h *heartbeat) untrack(ds []*queue.Delivery) {
	h.calling.Lock()
	defer h.calling.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range ds {
		for i := range h.slots {
			if h.slots[i].d == d {
				h.slots[i] = inFlight{}
				break
			}
		}
	}
}

// run beats every h.every until stop is closed.
func (h *heartbeat) run(stop <-chan struct{}) {
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			h.tick()
			h.beat()
		}
	}
}

// A watched is a message the heartbeat extends, and its slot.
type watched struct {
	d       *queue.Delivery
	slot    int
	timeout time.Duration
}

// beat extends the messages close to expiry.
func (h *heartbeat) beat() {
	h.calling.Lock()
	defer h.calling.Unlock()
	now := time.Now()
	vt := h.c.vt

	// Most messages get vt; the few near the cap get what is left of it.
	var due, last []watched
	h.mu.Lock()
	for i := range h.slots {
		it := &h.slots[i]
		if it.d == nil || it.final || it.expires.Sub(now) >= h.threshold {
			continue
		}
		if h.c.maxVis > 0 {
			left := it.received.Add(h.c.maxVis).Sub(now) - capMargin
			if left <= vt {
				it.final = true
				if left > it.expires.Sub(now) {
					last = append(last, watched{it.d, i, left})
				}
				continue
			}
		}
		due = append(due, watched{it.d, i, vt})
	}
	h.mu.Unlock()

	for len(due) > 0 {
		chunk := due[:min(len(due), h.c.maxBatch)]
		due = due[len(chunk):]
		h.extend(now, vt, chunk)
	}
	for _, l := range last {
		h.extend(now, l.timeout, []watched{l})
	}
}

// extend extends ws to timeout from now and records the outcome.
func (h *heartbeat) extend(now time.Time, timeout time.Duration, ws []watched) {
	c := h.c
	ds := make([]*queue.Delivery, len(ws))
	for i, w := range ws {
		ds[i] = w.d
	}
	err := h.ext.Extend(c.settleContext(), timeout, ds...)
	var extended []*queue.Delivery
	if err == nil {
		extended = ds
	}
	type failure struct {
		d   *queue.Delivery
		err error
	}
	var failed []failure
	h.mu.Lock()
	for i, w := range ws {
		it := &h.slots[w.slot]
		if it.d != w.d {
			// Settled meanwhile: whatever happened no longer matters.
			continue
		}
		e := postroom.EntryErr(err, i)
		if e == nil {
			it.expires = now.Add(timeout)
			if err != nil {
				extended = append(extended, w.d)
			}
			continue
		}
		if errors.Is(e, postroom.ErrReceiptExpired) || errors.Is(e, postroom.ErrReceiptInvalid) || errors.Is(e, postroom.ErrInvalid) {
			// Stale, or past the cap: no use trying again.
			it.final = true
		}
		failed = append(failed, failure{w.d, e})
	}
	h.mu.Unlock()
	if c.hooks.ExtendFailed != nil {
		for _, f := range failed {
			c.hooks.ExtendFailed(f.d, f.err)
		}
	}
	if len(extended) > 0 && c.hooks.Extended != nil {
		c.hooks.Extended(extended, timeout)
	}
}
