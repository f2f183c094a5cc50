// Command killnine measures what RabbitMQ loses of the messages it
// confirmed when it is killed with SIGKILL mid-stream.
//
// Each run declares two empty durable queues, waits -settle (RabbitMQ
// 3.10 can lose a queue declared shortly before a crash: see "Broker
// crashes" in package amqp's documentation), starts unpaced producers of
// persistent messages on both (one set with postroom's AMQP driver, one
// with plain amqp091-go as a control), kills the broker with
// "brokers.sh kill rabbitmq" once a share of the messages is confirmed,
// starts it again after a delay, lets the driver's producers finish, and
// drains both queues. It prints, per client, how many confirmed messages
// are missing and how many arrived twice.
//
// The plain client records every basic.ack and basic.nack as it comes off
// the wire (delivery tag and multiple flag, read from the socket under
// amqp091), beside amqp091's own DeferredConfirmation outcome, so a lost
// message can be told apart: confirmed by the broker on the wire (the
// broker dropped it) or only by the client's bookkeeping.
//
//	go run ./killnine -script ../scripts/brokers.sh -runs 10 -queue-type classic
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/postroom/postroom"
	pamqp "github.com/postroom/postroom/amazonmq/amqp"
	"github.com/postroom/postroom/queue"
)

type config struct {
	url          string
	script       string
	runs         int
	producers    int
	messages     int
	size         int
	batch        int
	queueType    string
	clients      string
	killAt       float64
	restartDelay time.Duration
	timeout      time.Duration
	verbose      bool
	consume      bool
	settle       time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", envOr("POSTROOM_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), "AMQP URL of the broker")
	flag.StringVar(&c.script, "script", envOr("POSTROOM_BROKER_SCRIPT", "../scripts/brokers.sh"), "brokers.sh, to kill and start RabbitMQ")
	flag.IntVar(&c.runs, "runs", 1, "runs (each one kill)")
	flag.IntVar(&c.producers, "producers", 16, "producers per client")
	flag.IntVar(&c.messages, "messages", 20000, "messages per client and run")
	flag.IntVar(&c.size, "size", 256, "message body size in bytes")
	flag.IntVar(&c.batch, "batch", 50, "messages a producer publishes before waiting for their confirms")
	flag.StringVar(&c.queueType, "queue-type", "classic", "queue type to declare: classic, quorum or \"\" (the broker's default and policies)")
	flag.StringVar(&c.clients, "clients", "both", "both, plain or postroom")
	flag.Float64Var(&c.killAt, "kill-at", 0.4, "kill the broker once this share of all messages is confirmed")
	flag.DurationVar(&c.restartDelay, "restart-delay", 2500*time.Millisecond, "time between the kill and the start")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "bound of one run")
	flag.BoolVar(&c.verbose, "v", false, "print every lost message")
	flag.BoolVar(&c.consume, "consume", false, "run a consumer (plain amqp091, acking) on each queue during the run, as well as draining at the end")
	flag.DurationVar(&c.settle, "settle", 5*time.Second, "wait between declaring the queues and the first publish: RabbitMQ 3.10 can lose a queue declared shortly before a crash, with every message confirmed to it (0 shows that)")
	flag.Parse()

	var tot [2]totals
	for r := 1; r <= c.runs; r++ {
		res, err := run(c, r)
		if err != nil {
			log.Fatalf("run %d: %v", r, err)
		}
		for i, cr := range res {
			if cr == nil {
				continue
			}
			fmt.Printf("run %d %-8s %s\n", r, cr.client, cr.summary())
			tot[i].add(cr)
		}
	}
	for _, t := range tot {
		if t.runs > 0 {
			fmt.Printf("TOTAL %-8s runs=%d runs_with_loss=%d lost_confirmed=%d duplicates=%d confirmed=%d wire_lib_mismatch=%d\n",
				t.client, t.runs, t.runsWithLoss, t.lost, t.dups, t.confirmed, t.mismatch)
		}
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

type totals struct {
	client                                              string
	runs, runsWithLoss, lost, dups, confirmed, mismatch int
}

func (t *totals) add(r *result) {
	t.client = r.client
	t.runs++
	if r.lost > 0 {
		t.runsWithLoss++
	}
	t.lost += r.lost
	t.dups += r.dups
	t.confirmed += r.confirmed
	t.mismatch += r.mismatch
}

// A result is one client's outcome of one run.
type result struct {
	client     string
	published  int // publishes written (plain) or sends attempted (postroom)
	confirmed  int // confirmed: by the wire (plain), Send returned nil (postroom)
	lost       int // confirmed and not drained
	dups       int // drained more than once
	survivors  int // distinct messages drained
	mismatch   int // plain: amqp091 and the wire disagree about a confirm
	lostLibOK  int // plain: lost messages that amqp091 reported acked
	lostDetail []string
	flags      flagCounts
}

func (r *result) summary() string {
	s := fmt.Sprintf("published=%d confirmed=%d drained=%d lost_confirmed=%d duplicates=%d",
		r.published, r.confirmed, r.survivors, r.lost, r.dups)
	if r.client == "plain" {
		s += fmt.Sprintf(" lost_acked_by_amqp091=%d wire_lib_mismatch=%d", r.lostLibOK, r.mismatch)
	}
	f := r.flags
	s += fmt.Sprintf(" redelivered_flag: repeats_flagged=%d repeats_unflagged=%d firsts_flagged=%d", f.repeatFlagged, f.repeatUnflagged, f.firstFlagged)
	return s
}

func run(c config, n int) ([2]*result, error) {
	var res [2]*result
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	names := [2]string{"killnine-plain", "killnine-postroom"}
	use := [2]bool{c.clients != "postroom", c.clients != "plain"}
	if err := resetQueues(c, names[:]); err != nil {
		return res, fmt.Errorf("declaring the queues: %w", err)
	}
	time.Sleep(c.settle)

	body := bytes.Repeat([]byte("k"), c.size)
	var confirmed atomic.Int64
	total := 0
	for _, u := range use {
		if u {
			total += c.messages
		}
	}
	killed := make(chan struct{})
	var killTime time.Time
	var wg sync.WaitGroup

	var consumers [2]*consumer
	if c.consume {
		for i, name := range names {
			if use[i] {
				consumers[i] = startConsumer(c, name)
			}
		}
	}

	var plain []*plainProducer
	if use[0] {
		for p := range c.producers {
			pp := &plainProducer{id: p}
			plain = append(plain, pp)
			wg.Go(func() { pp.run(c, names[0], share(c.messages, c.producers, p), body, &confirmed) })
		}
	}
	var pr *postroomClient
	if use[1] {
		var err error
		pr, err = newPostroomClient(ctx, c, names[1])
		if err != nil {
			return res, err
		}
		defer pr.b.Close()
		for p := range c.producers {
			wg.Go(func() { pr.produce(ctx, c, p, share(c.messages, c.producers, p), body, &confirmed) })
		}
	}

	// Kill once killAt of everything is confirmed.
	threshold := int64(c.killAt * float64(total))
	for confirmed.Load() < threshold {
		select {
		case <-ctx.Done():
			return res, errors.New("timed out before the kill")
		case <-time.After(time.Millisecond):
		}
	}
	killTime = time.Now()
	if err := script(c, "kill"); err != nil {
		return res, err
	}
	close(killed)
	log.Printf("run %d: killed at %d confirmed; starting again in %v", n, confirmed.Load(), c.restartDelay)
	time.Sleep(c.restartDelay)
	if err := script(c, "start"); err != nil {
		return res, err
	}
	wg.Wait()
	if ctx.Err() != nil {
		return res, errors.New("timed out waiting for the producers")
	}

	for i, name := range names {
		if !use[i] {
			continue
		}
		consumed := map[string]int{}
		if consumers[i] != nil {
			consumed = consumers[i].stopAndCollect()
		}
		got, err := drain(c, name)
		if err != nil {
			return res, fmt.Errorf("draining %s: %w", name, err)
		}
		for id, k := range consumed {
			got[id] += k
		}
		r := &result{survivors: len(got)}
		for _, k := range got {
			if k > 1 {
				r.dups += k - 1
			}
		}
		if i == 0 {
			r.client = "plain"
			for _, pp := range plain {
				pp.check(c, got, killTime, r)
			}
		} else {
			r.client = "postroom"
			pr.check(got, r)
		}
		r.flags = flags.take(name)
		if c.verbose {
			for _, d := range r.lostDetail {
				fmt.Printf("  lost %s\n", d)
			}
		}
		res[i] = r
	}
	return res, nil
}

// share is producer p's part of n messages.
func share(n, producers, p int) int {
	s := n / producers
	if p < n%producers {
		s++
	}
	return s
}

func script(c config, verb string) error {
	cmd := exec.Command("bash", c.script, verb, "rabbitmq")
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("brokers.sh %s rabbitmq: %v\n%s", verb, err, out)
	}
	return nil
}

func queueArgs(c config) amqp091.Table {
	if c.queueType == "" {
		return nil
	}
	return amqp091.Table{"x-queue-type": c.queueType}
}

func resetQueues(c config, names []string) error {
	conn, err := amqp091.Dial(c.url)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, err := ch.QueueDelete(name, false, false, false); err != nil {
			return err
		}
		if _, err := ch.QueueDeclare(name, true, false, false, false, queueArgs(c)); err != nil {
			return err
		}
	}
	return nil
}

// drain consumes name until it stays empty for two seconds and returns
// how often each message id arrived.
func drain(c config, name string) (map[string]int, error) {
	var conn *amqp091.Connection
	var err error
	for range 60 {
		if conn, err = amqp091.Dial(c.url); err == nil {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Qos(2000, 0, false); err != nil {
		return nil, err
	}
	ds, err := ch.Consume(name, "", false, false, false, false, nil)
	if err != nil {
		return nil, err
	}
	got := map[string]int{}
	var last uint64
	for {
		select {
		case d, ok := <-ds:
			if !ok {
				return nil, errors.New("consumer channel closed")
			}
			got[d.MessageId]++
			flags.note(name, d.MessageId, d.Redelivered)
			last = d.DeliveryTag
			if last%500 == 0 {
				if err := ch.Ack(last, true); err != nil {
					return nil, err
				}
			}
		case <-time.After(2 * time.Second):
			if last != 0 {
				if err := ch.Ack(last, true); err != nil {
					return nil, err
				}
			}
			return got, nil
		}
	}
}

// ---------------------------------------------------------------- plain client

// A wireAck is one basic.ack or basic.nack read off the socket.
type wireAck struct {
	tag      uint64
	multiple bool
	nack     bool
	at       time.Time
}

// frameTap parses the frames a connection reads and records the
// basic.ack and basic.nack methods.
type frameTap struct {
	mu   sync.Mutex
	buf  []byte
	acks []wireAck
}

func (t *frameTap) feed(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	now := time.Now()
	for len(t.buf) >= 7 {
		size := int(binary.BigEndian.Uint32(t.buf[3:7]))
		if len(t.buf) < 7+size+1 {
			return
		}
		typ, payload := t.buf[0], t.buf[7:7+size]
		if typ == 1 && size >= 4 {
			class, method := binary.BigEndian.Uint16(payload[0:2]), binary.BigEndian.Uint16(payload[2:4])
			if class == 60 && (method == 80 || method == 120) && size >= 13 {
				t.acks = append(t.acks, wireAck{
					tag:      binary.BigEndian.Uint64(payload[4:12]),
					multiple: payload[12]&1 != 0,
					nack:     method == 120,
					at:       now,
				})
			}
		}
		t.buf = t.buf[7+size+1:]
	}
}

type tapConn struct {
	net.Conn
	tap *frameTap
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.tap.feed(p[:n])
	}
	return n, err
}

type plainProducer struct {
	id  int
	tap frameTap

	tags   []uint64 // delivery tag of each published message, in order
	ids    []string
	libAck map[uint64]bool // amqp091's outcome: true acked, false nacked; absent: unresolved
	err    error
}

func (pp *plainProducer) run(c config, qname string, n int, body []byte, confirmed *atomic.Int64) {
	pp.libAck = map[uint64]bool{}
	cfg := amqp091.Config{
		Heartbeat: 10 * time.Second,
		Locale:    "en_US",
		Dial: func(network, addr string) (net.Conn, error) {
			conn, err := net.DialTimeout(network, addr, 10*time.Second)
			if err != nil {
				return nil, err
			}
			return &tapConn{Conn: conn, tap: &pp.tap}, nil
		},
	}
	conn, err := amqp091.DialConfig(c.url, cfg)
	if err != nil {
		pp.err = err
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		pp.err = err
		return
	}
	if err := ch.Confirm(false); err != nil {
		pp.err = err
		return
	}
	for i := 0; i < n; {
		var dcs []*amqp091.DeferredConfirmation
		for ; i < n && len(dcs) < c.batch; i++ {
			id := fmt.Sprintf("plain-%d-%d", pp.id, i)
			dc, err := ch.PublishWithDeferredConfirm("", qname, false, false, amqp091.Publishing{
				DeliveryMode: amqp091.Persistent,
				MessageId:    id,
				Body:         body,
			})
			if err != nil {
				pp.err = err
				break
			}
			pp.tags = append(pp.tags, dc.DeliveryTag)
			pp.ids = append(pp.ids, id)
			dcs = append(dcs, dc)
		}
		for _, dc := range dcs {
			<-dc.Done() // amqp091 resolves every pending confirm when the channel closes
			ok := dc.Acked()
			pp.libAck[dc.DeliveryTag] = ok
			if ok {
				confirmed.Add(1)
			}
		}
		if pp.err != nil || ch.IsClosed() {
			return
		}
	}
}

// check compares what was confirmed with what was drained.
func (pp *plainProducer) check(c config, got map[string]int, killTime time.Time, r *result) {
	pp.tap.mu.Lock()
	acks := append([]wireAck(nil), pp.tap.acks...)
	pp.tap.mu.Unlock()
	// wire[tag] is the ack that confirmed tag on the wire.
	wire := map[uint64]wireAck{}
	var upTo uint64
	for _, a := range acks {
		if a.multiple {
			for t := upTo + 1; t <= a.tag; t++ {
				if _, ok := wire[t]; !ok {
					wire[t] = a
				}
			}
			if a.tag > upTo {
				upTo = a.tag
			}
		} else if _, ok := wire[a.tag]; !ok {
			wire[a.tag] = a
		}
	}
	r.published += len(pp.tags)
	var lost []string
	for k, tag := range pp.tags {
		a, onWire := wire[tag]
		wireAcked := onWire && !a.nack
		lib, resolved := pp.libAck[tag]
		if wireAcked != (resolved && lib) {
			r.mismatch++
		}
		if !wireAcked {
			continue
		}
		r.confirmed++
		if got[pp.ids[k]] == 0 {
			r.lost++
			if lib {
				r.lostLibOK++
			}
			kind := "single"
			if a.multiple {
				kind = fmt.Sprintf("multiple up to %d", a.tag)
			}
			lost = append(lost, fmt.Sprintf("%s tag %d acked (%s) %.1f ms before the kill",
				pp.ids[k], tag, kind, float64(killTime.Sub(a.at).Microseconds())/1000))
		}
	}
	sort.Strings(lost)
	r.lostDetail = append(r.lostDetail, lost...)
	_ = c
}

// ---------------------------------------------------------------- postroom driver

type postroomClient struct {
	b *pamqp.Broker
	q *pamqp.Queue

	mu   sync.Mutex
	sent []string // ids whose Send returned nil
	all  int
	errs map[string]int
}

func newPostroomClient(ctx context.Context, c config, name string) (*postroomClient, error) {
	qt := c.queueType
	if qt != pamqp.QueueTypeQuorum && qt != pamqp.QueueTypeClassic {
		qt = ""
	}
	b, err := pamqp.Dial(ctx, c.url, pamqp.Options{QueueType: qt})
	if err != nil {
		return nil, err
	}
	q, err := b.OpenQueue(ctx, name, pamqp.QueueOptions{})
	if err != nil {
		b.Close()
		return nil, err
	}
	return &postroomClient{b: b, q: q, errs: map[string]int{}}, nil
}

func (pc *postroomClient) produce(ctx context.Context, c config, p, n int, body []byte, confirmed *atomic.Int64) {
	for i := 0; i < n; {
		var msgs []*queue.Message
		for ; i < n && len(msgs) < c.batch; i++ {
			msgs = append(msgs, &queue.Message{ID: fmt.Sprintf("postroom-%d-%d", p, i), Body: body})
		}
		err := pc.q.Send(ctx, msgs...)
		pc.mu.Lock()
		pc.all += len(msgs)
		var be *postroom.BatchError
		switch {
		case err == nil:
			for _, m := range msgs {
				pc.sent = append(pc.sent, m.ID)
			}
			confirmed.Add(int64(len(msgs)))
		case errors.As(err, &be):
			for k, m := range msgs {
				if be.Errs[k] == nil {
					pc.sent = append(pc.sent, m.ID)
					confirmed.Add(1)
				} else {
					pc.errs[firstLine(be.Errs[k])]++
				}
			}
		default:
			pc.errs[firstLine(err)] += len(msgs)
		}
		pc.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func (pc *postroomClient) check(got map[string]int, r *result) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	r.published = pc.all
	r.confirmed = len(pc.sent)
	for _, id := range pc.sent {
		if got[id] == 0 {
			r.lost++
			r.lostDetail = append(r.lostDetail, id)
		}
	}
	for e, k := range pc.errs {
		fmt.Fprintf(os.Stderr, "postroom: %d sends failed: %s\n", k, e)
	}
}

// A consumer receives from a queue during a run, through the kill: it
// records each delivery, then acks (multiple, every 50), and connects
// again when its connection drops.
type consumer struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	got  map[string]int
}

func startConsumer(c config, name string) *consumer {
	cs := &consumer{stop: make(chan struct{}), done: make(chan struct{}), got: map[string]int{}}
	go func() {
		defer close(cs.done)
		for {
			select {
			case <-cs.stop:
				return
			default:
			}
			if cs.session(c, name) {
				return
			}
			select {
			case <-cs.stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return cs
}

// session consumes on one connection; it reports whether it was stopped.
func (cs *consumer) session(c config, name string) bool {
	conn, err := amqp091.Dial(c.url)
	if err != nil {
		return false
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return false
	}
	if err := ch.Qos(100, 0, false); err != nil {
		return false
	}
	ds, err := ch.Consume(name, "", false, false, false, false, nil)
	if err != nil {
		return false
	}
	var last uint64
	for {
		select {
		case <-cs.stop:
			if last != 0 {
				_ = ch.Ack(last, true)
			}
			return true
		case d, ok := <-ds:
			if !ok {
				return false
			}
			cs.mu.Lock()
			cs.got[d.MessageId]++
			flags.note(name, d.MessageId, d.Redelivered)
			cs.mu.Unlock()
			last = d.DeliveryTag
			if last%50 == 0 {
				if ch.Ack(last, true) != nil {
					return false
				}
			}
		}
	}
}

func (cs *consumer) stopAndCollect() map[string]int {
	close(cs.stop)
	<-cs.done
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.got
}

// flagCounts count the redelivered flag of the deliveries of one queue:
// on deliveries of a message id seen before, and on first ones.
type flagCounts struct {
	repeatFlagged, repeatUnflagged, firstFlagged int
}

type flagTracker struct {
	mu     sync.Mutex
	seen   map[string]map[string]bool
	counts map[string]*flagCounts
}

var flags = &flagTracker{seen: map[string]map[string]bool{}, counts: map[string]*flagCounts{}}

func (f *flagTracker) note(queue, id string, redelivered bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen[queue] == nil {
		f.seen[queue] = map[string]bool{}
		f.counts[queue] = &flagCounts{}
	}
	c := f.counts[queue]
	switch {
	case f.seen[queue][id] && redelivered:
		c.repeatFlagged++
	case f.seen[queue][id]:
		c.repeatUnflagged++
	case redelivered:
		c.firstFlagged++
	}
	f.seen[queue][id] = true
}

// take returns the counts of queue and forgets it, for the next run.
func (f *flagTracker) take(queue string) flagCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	var c flagCounts
	if f.counts[queue] != nil {
		c = *f.counts[queue]
	}
	delete(f.seen, queue)
	delete(f.counts, queue)
	return c
}
