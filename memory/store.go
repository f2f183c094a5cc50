package memory

import (
	"slices"
	"time"

	"github.com/postroom/postroom/queue"
)

// A message is a message stored in a Queue.
type message struct {
	serial       uint64 // key in Queue.msgs, part of receipts
	id           string
	body         []byte
	attrs        queue.Attributes
	groupID      string
	ext          *msgExt   // nil for most standard messages
	sentAt       time.Time // SentTimestamp: kept by a dead-letter move
	enqueuedAt   time.Time // retention and age count from it: reset by a move to a FIFO dead-letter queue
	firstRecv    time.Time
	receivedAt   time.Time // of the current receipt: the 12-hour cap runs from it
	receiveCount int
	gen          uint64 // receipt generation: bumped by every receive

	visibleAt time.Time
	index     int  // in Queue.pending, or -1
	inFlight  bool // received and not visible again (in Queue.pending)
	deleted   bool
	group     *group // FIFO only
}

// msgExt holds what only some messages have: FIFO ones, traced ones,
// dead-lettered ones. Apart from message, it keeps a standard message a
// size class smaller.
type msgExt struct {
	dedupID  string
	seq      string // FIFO sequence number
	trace    string // AWSTraceHeader system attribute
	dlSource string // ARN of the queue a redrive moved it from
}

var noExt msgExt

// x returns m's extras for reading.
func (m *message) x() *msgExt {
	if m.ext != nil {
		return m.ext
	}
	return &noExt
}

// extra returns m's extras for writing.
func (m *message) extra() *msgExt {
	if m.ext == nil {
		m.ext = new(msgExt)
	}
	return m.ext
}

// msgHeap orders pending messages by the time they become visible.
type msgHeap []*message

func (h msgHeap) Len() int { return len(h) }
func (h msgHeap) Less(i, j int) bool {
	if h[i].visibleAt.Equal(h[j].visibleAt) {
		return h[i].serial < h[j].serial
	}
	return h[i].visibleAt.Before(h[j].visibleAt)
}
func (h msgHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *msgHeap) Push(x any) {
	m := x.(*message)
	m.index = len(*h)
	*h = append(*h, m)
}
func (h *msgHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	m.index = -1
	return m
}

// ring is a FIFO of visible messages of a standard queue. Deleted messages
// are skipped when popped.
type ring struct {
	buf  []*message
	head int
}

func (r *ring) push(m *message) { r.buf = append(r.buf, m) }

func (r *ring) pop() *message {
	if r.head == len(r.buf) {
		return nil
	}
	m := r.buf[r.head]
	r.buf[r.head] = nil
	r.head++
	if r.head == len(r.buf) {
		r.buf, r.head = r.buf[:0], 0
	} else if r.head > 1024 && r.head*2 > len(r.buf) {
		n := copy(r.buf, r.buf[r.head:])
		clear(r.buf[n:])
		r.buf, r.head = r.buf[:n], 0
	}
	return m
}

// A group is the messages of one FIFO message group, in order.
type group struct {
	id       string
	msgs     []*message // not deleted, in send order; in-flight ones first
	inFlight int
	index    int // in Queue.readyG, or -1
}

func (g *group) remove(m *message) {
	if i := slices.Index(g.msgs, m); i >= 0 {
		g.msgs = slices.Delete(g.msgs, i, i+1)
	}
}

// groupHeap orders unlocked groups by their first message.
type groupHeap []*group

func (h groupHeap) Len() int           { return len(h) }
func (h groupHeap) Less(i, j int) bool { return h[i].msgs[0].serial < h[j].msgs[0].serial }
func (h groupHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *groupHeap) Push(x any) {
	g := x.(*group)
	g.index = len(*h)
	*h = append(*h, g)
}
func (h *groupHeap) Pop() any {
	old := *h
	g := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	g.index = -1
	return g
}
