package stomp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-stomp/stomp/v3/frame"

	"github.com/postroom/postroom/internal/brokeraddr"
)

// Limits of a connection's writer.
const (
	// maxTxFrames is how many frames the writer puts into one
	// transaction at most when it coalesces operations (one operation
	// larger than that still goes whole into one).
	maxTxFrames = 1024
	// maxInFlight is how many coalesced groups may be written and
	// awaiting their receipt at once. Operations that come meanwhile
	// queue up and go into the next transaction: group commit.
	maxInFlight = 2
	// opsQueue is the capacity of the writer's queue.
	opsQueue = 1024
)

// opKind says how the writer frames an operation.
type opKind uint8

const (
	// opTx is for SENDs and ACKs: the writer puts every such operation
	// it has at hand into one transaction whose COMMIT carries the
	// receipt (one frame alone needs no transaction). An operation is
	// committed whole or not at all.
	opTx opKind = iota
	// opEach writes every frame alone with its own receipt, so that
	// the broker's refusal of one frame is reported for that frame:
	// control frames, and operations retried after an ERROR frame.
	opEach
	// opWrite writes frames without a receipt: the operation is done
	// once they are flushed to the socket. ACKs go so by default: a
	// receipt makes ActiveMQ store each ack before it answers, which
	// costs several times their throughput, and a lost ack only means a
	// message delivered again. A refusal comes as an ERROR frame without
	// receipt-id, which costs the connection.
	opWrite
)

// An op is frames written together, confirmed by receipts.
type op struct {
	kind   opKind
	frames []*frame.Frame
	done   chan struct{} // closed when every receipt came, or the connection failed

	// Set by the connection before done is closed.
	err  error   // the whole operation's error: a refusal of its transaction, or the connection's loss
	errs []error // opEach: the broker's refusal of each frame

	remaining int // receipts still to come; guarded by conn.mu
}

func newOp(kind opKind, frames ...*frame.Frame) *op {
	o := &op{kind: kind, frames: frames, done: make(chan struct{})}
	if kind == opEach {
		o.errs = make([]error, len(frames))
	}
	return o
}

// A group is what one receipt confirms: the operations of one transaction,
// or one frame of an opEach operation.
type group struct {
	ops    []*op
	frame  int  // the frame's index for opEach; -1 for a transaction
	credit bool // holds one of the maxInFlight slots
}

// A conn is one STOMP connection: a reader goroutine that dispatches
// MESSAGE frames into receivers' buffers and completes operations on their
// RECEIPT, and a writer goroutine that writes operations and heart-beats.
// Neither ever blocks on a receiver, so a slow consumer cannot stall the
// connection.
type conn struct {
	nc         net.Conn
	endpoint   brokeraddr.Endpoint
	gen        uint64
	version    string
	readLimit  time.Duration // silence after which the connection is lost; 0: none
	writeEvery time.Duration // the negotiated client heart-beat; 0: none

	ops     chan *op
	credits chan struct{} // a send holds one of the maxInFlight slots
	done    chan struct{} // closed by fail
	err     error         // why done was closed; set before
	once    sync.Once
	wg      sync.WaitGroup // the reader and the writer

	bw *bufio.Writer
	fw *frame.Writer

	mu      sync.Mutex // guards everything below
	pending map[string]*group
	subs    map[string]*receiver // by subscription id
	seq     uint64               // receipt and transaction ids
}

// dialConn connects to ep and performs the STOMP handshake.
func dialConn(ctx context.Context, cfg *config, ep brokeraddr.Endpoint, gen uint64) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	d := net.Dialer{KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", ep.Addr)
	if err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	sc, err := ep.Secure(ctx, nc, cfg.TLSConfig)
	if err != nil {
		return nil, err
	}
	nc = sc
	c := &conn{
		nc:       nc,
		endpoint: ep,
		gen:      gen,
		ops:      make(chan *op, opsQueue),
		credits:  make(chan struct{}, maxInFlight),
		done:     make(chan struct{}),
		bw:       bufio.NewWriterSize(nc, 64<<10),
		pending:  make(map[string]*group),
		subs:     make(map[string]*receiver),
	}
	c.fw = frame.NewWriterSize(c.bw, 4096)
	r := frame.NewReaderSize(nc, 64<<10)
	if err := c.handshake(cfg, r); err != nil {
		_ = nc.Close()
		if ctx.Err() != nil && !errors.As(err, new(*connectError)) {
			return nil, fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	c.wg.Add(2)
	go c.readLoop(r)
	go c.writeLoop()
	return c, nil
}

// connectError is a refusal of the CONNECT frame, such as bad credentials.
type connectError struct{ err error }

func (e *connectError) Error() string { return e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

func (c *conn) handshake(cfg *config, r *frame.Reader) error {
	host := cfg.Host
	if host == "" {
		host = c.endpoint.ServerName
	}
	hb := "0,0"
	if cfg.Heartbeat > 0 {
		ms := strconv.FormatInt(max(cfg.Heartbeat.Milliseconds(), 1), 10)
		hb = ms + "," + ms
	}
	f := frame.New(frame.CONNECT,
		frame.AcceptVersion, "1.1,1.2",
		frame.Host, host,
		frame.HeartBeat, hb)
	if cfg.Login != "" || cfg.Passcode != "" {
		f.Header.Add(frame.Login, cfg.Login)
		f.Header.Add(frame.Passcode, cfg.Passcode)
	}
	if cfg.ClientID != "" {
		f.Header.Add(hdrClientID, cfg.ClientID)
	}
	if err := c.fw.Write(f); err != nil {
		return err
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	var resp *frame.Frame
	for resp == nil {
		var err error
		if resp, err = r.Read(); err != nil {
			return err
		}
	}
	switch resp.Command {
	case frame.CONNECTED:
	case frame.ERROR:
		return &connectError{frameError("connect", resp)}
	default:
		return fmt.Errorf("stomp: connect: unexpected %s frame", resp.Command)
	}
	c.version = resp.Header.Get(frame.Version)
	if c.version != "1.1" && c.version != "1.2" {
		return &connectError{fmt.Errorf("stomp: connect: the broker speaks STOMP %q; 1.1 or 1.2 is needed", c.version)}
	}
	if cfg.Heartbeat > 0 {
		sx, sy, err := frame.ParseHeartBeat(resp.Header.Get(frame.HeartBeat))
		if err == nil {
			if sy > 0 {
				c.writeEvery = max(cfg.Heartbeat, sy)
			}
			if sx > 0 {
				c.readLimit = max(cfg.Heartbeat, sx)*3/2 + time.Second
			}
		}
	}
	return nil
}

// id returns a new receipt or transaction id. Only the writer calls it.
func (c *conn) id(prefix string) string {
	c.seq++
	return prefix + strconv.FormatUint(c.seq, 36)
}

// submit queues o for the writer.
func (c *conn) submit(ctx context.Context, o *op) error {
	select {
	case c.ops <- o:
		return nil
	case <-c.done:
		return c.lostErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// await waits until o is done (its errors are then in o.err and o.errs),
// the connection is lost, or ctx ends.
func (c *conn) await(ctx context.Context, o *op) error {
	select {
	case <-o.done:
		return nil
	case <-c.done:
		select {
		case <-o.done:
			return nil
		default:
			return c.lostErr()
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do submits o and waits for it.
func (c *conn) do(ctx context.Context, o *op) error {
	if err := c.submit(ctx, o); err != nil {
		return err
	}
	return c.await(ctx, o)
}

func (c *conn) lostErr() error {
	<-c.done
	return c.err
}

func (c *conn) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// fail marks the connection lost and fails every operation awaiting a
// receipt. The first call wins.
func (c *conn) fail(err error) {
	c.once.Do(func() {
		var le *lostError
		if !errors.As(err, &le) {
			le = &lostError{cause: err}
		}
		c.err = le
		close(c.done)
		_ = c.nc.Close()
		c.mu.Lock()
		for _, g := range c.pending {
			for _, o := range g.ops {
				if o.remaining > 0 {
					o.err = le
					o.remaining = 0
					close(o.done)
				}
			}
		}
		c.pending = nil
		c.mu.Unlock()
	})
}

// close disconnects gracefully (DISCONNECT with a receipt, waiting up to
// timeout) and waits for the goroutines.
func (c *conn) close(timeout time.Duration) {
	if c.alive() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		_ = c.do(ctx, newOp(opEach, frame.New(frame.DISCONNECT)))
		cancel()
	}
	c.fail(errors.New("stomp: connection closed"))
	c.wg.Wait()
}

// addSub routes the MESSAGE frames of subscription id to r.
func (c *conn) addSub(id string, r *receiver) {
	c.mu.Lock()
	c.subs[id] = r
	c.mu.Unlock()
}

func (c *conn) removeSub(id string) {
	c.mu.Lock()
	delete(c.subs, id)
	c.mu.Unlock()
}

func (c *conn) readLoop(r *frame.Reader) {
	defer c.wg.Done()
	for {
		if c.readLimit > 0 {
			_ = c.nc.SetReadDeadline(time.Now().Add(c.readLimit))
		}
		f, err := r.Read()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				err = fmt.Errorf("stomp: no heart-beat from the broker for %v", c.readLimit)
			}
			c.fail(err)
			return
		}
		if f == nil {
			continue // a heart-beat
		}
		switch f.Command {
		case frame.MESSAGE:
			c.mu.Lock()
			rcv := c.subs[f.Header.Get(frame.Subscription)]
			c.mu.Unlock()
			if rcv != nil {
				rcv.push(c, f)
			}
		case frame.RECEIPT:
			c.receipt(f.Header.Get(frame.ReceiptId), nil)
		case frame.ERROR:
			if id, ok := f.Header.Contains(frame.ReceiptId); ok && c.receipt(id, f) {
				continue
			}
			c.fail(&lostError{cause: frameError("connection", f), broker: true})
			return
		}
	}
}

// receipt completes the group of receipt id, with the broker's refusal if
// errFrame is an ERROR frame, and reports whether there was such a group.
func (c *conn) receipt(id string, errFrame *frame.Frame) bool {
	c.mu.Lock()
	g := c.pending[id]
	if g == nil {
		c.mu.Unlock()
		return false
	}
	delete(c.pending, id)
	var err error
	if errFrame != nil {
		op := "commit"
		if g.frame >= 0 {
			op = strings.ToLower(g.ops[0].frames[g.frame].Command)
		}
		err = frameError(op, errFrame)
	}
	for _, o := range g.ops {
		if o.remaining == 0 {
			continue
		}
		if err != nil {
			if g.frame >= 0 {
				o.errs[g.frame] = err
			} else {
				o.err = err
			}
		}
		o.remaining--
		if o.remaining == 0 {
			close(o.done)
		}
	}
	c.mu.Unlock()
	if g.credit {
		<-c.credits
	}
	return true
}

func (c *conn) writeLoop() {
	defer c.wg.Done()
	var tick <-chan time.Time
	if c.writeEvery > 0 {
		t := time.NewTicker(c.writeEvery / 2)
		defer t.Stop()
		tick = t.C
	}
	wrote := false // since the last tick
	heartbeat := func() error {
		if wrote {
			wrote = false
			return nil
		}
		if err := c.fw.Write(nil); err != nil {
			return err
		}
		return c.bw.Flush()
	}
	var next *op
	batch := make([]*op, 0, 64)
	writes := make([]*op, 0, 64)
	for {
		o := next
		next = nil
		if o == nil {
			select {
			case o = <-c.ops:
			case <-tick:
				if err := heartbeat(); err != nil {
					c.fail(err)
					return
				}
				continue
			case <-c.done:
				return
			}
		}
		var err error
		var written []*op // opWrite operations done once flushed
		switch o.kind {
		case opEach:
			err = c.writeEach(o)
		case opWrite:
			written = append(writes[:0], o)
		gatherWrites:
			for {
				select {
				case o2 := <-c.ops:
					if o2.kind != opWrite {
						next = o2
						break gatherWrites
					}
					written = append(written, o2)
				default:
					break gatherWrites
				}
			}
		writeAll:
			for _, w := range written {
				for _, f := range w.frames {
					f.Header.Del(frame.Transaction)
					f.Header.Del(frame.Receipt)
					if err = c.fw.Write(f); err != nil {
						break writeAll
					}
				}
			}
		default:
		acquire:
			for {
				select {
				case c.credits <- struct{}{}:
					break acquire
				case <-tick:
					if err := heartbeat(); err != nil {
						c.fail(err)
						return
					}
				case <-c.done:
					return
				}
			}
			batch = append(batch[:0], o)
			n := len(o.frames)
		gather:
			for n < maxTxFrames {
				select {
				case o2 := <-c.ops:
					if o2.kind != opTx {
						next = o2
						break gather
					}
					batch = append(batch, o2)
					n += len(o2.frames)
				default:
					break gather
				}
			}
			err = c.writeTx(batch)
			clear(batch)
		}
		if err == nil {
			err = c.bw.Flush()
		}
		if err != nil {
			c.fail(err)
			return
		}
		for _, w := range written {
			close(w.done)
		}
		clear(written)
		wrote = true
	}
}

// writeTx writes the operations of batch as one transaction, or one frame
// alone, confirmed by one receipt.
func (c *conn) writeTx(batch []*op) error {
	rid := c.id("r")
	g := &group{ops: make([]*op, len(batch)), frame: -1, credit: true}
	copy(g.ops, batch)
	c.mu.Lock()
	if c.pending == nil { // failed meanwhile
		c.mu.Unlock()
		return c.lostErr()
	}
	for _, o := range batch {
		o.remaining = 1
	}
	c.pending[rid] = g
	c.mu.Unlock()
	if len(batch) == 1 && len(batch[0].frames) == 1 {
		f := batch[0].frames[0]
		f.Header.Del(frame.Transaction)
		f.Header.Set(frame.Receipt, rid)
		return c.fw.Write(f)
	}
	tx := c.id("t")
	if err := c.fw.Write(frame.New(frame.BEGIN, frame.Transaction, tx)); err != nil {
		return err
	}
	for _, o := range batch {
		for _, f := range o.frames {
			f.Header.Del(frame.Receipt)
			f.Header.Set(frame.Transaction, tx)
			if err := c.fw.Write(f); err != nil {
				return err
			}
		}
	}
	return c.fw.Write(frame.New(frame.COMMIT, frame.Transaction, tx, frame.Receipt, rid))
}

// writeEach writes every frame of o alone with its own receipt.
func (c *conn) writeEach(o *op) error {
	c.mu.Lock()
	if c.pending == nil {
		c.mu.Unlock()
		return c.lostErr()
	}
	o.remaining = len(o.frames)
	rids := make([]string, len(o.frames))
	for i := range o.frames {
		rids[i] = c.id("r")
		c.pending[rids[i]] = &group{ops: []*op{o}, frame: i}
	}
	c.mu.Unlock()
	for i, f := range o.frames {
		f.Header.Del(frame.Transaction)
		f.Header.Set(frame.Receipt, rids[i])
		if err := c.fw.Write(f); err != nil {
			return err
		}
	}
	return nil
}

// ackFrame returns the ACK (or NACK) frame for MESSAGE frame f received
// on subscription sub.
func (c *conn) ackFrame(command string, f *frame.Frame, sub string) *frame.Frame {
	if c.version == "1.2" {
		return frame.New(command, frame.Id, f.Header.Get(frame.Ack))
	}
	return frame.New(command, frame.Subscription, sub, frame.MessageId, f.Header.Get(frame.MessageId))
}

// isBrokerLoss reports whether err is the loss of a connection to an
// ERROR frame that answered no receipt.
func isBrokerLoss(err error) bool {
	var le *lostError
	return errors.As(err, &le) && le.broker
}
