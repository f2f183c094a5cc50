package memory

import (
	"bufio"
	"cmp"
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// snapshotVersion is the format of World.Snapshot.
const snapshotVersion = 1

// The snapshot of a world: everything the SQS, SNS and EventBridge APIs can
// make, in a form that does not depend on the process.
type worldState struct {
	Version int
	Account string
	Region  string
	Queues  []queueState
	Topics  []topicState
	Buses   []busState
}

type queueState struct {
	Name      string
	FIFO      bool
	Options   optionsState
	Token     string // receipts issued before the snapshot stay valid
	Seq       uint64
	LastPurge time.Time
	Messages  []messageState // by serial
	Dedup     map[string]dedupState
}

type optionsState struct {
	VisibilityTimeout, Delay, Retention, ReceiveWaitTime time.Duration
	MaxMessageSize, MaxBatchSize                         int
	ContentBasedDeduplication                            bool
	DeduplicationScope                                   DedupScope
	DeadLetterQueueARN                                   string
	MaxReceiveCount                                      int
}

type messageState struct {
	Serial                                 uint64
	ID                                     string
	Body                                   []byte
	Attrs                                  queue.Attributes `json:",omitempty"`
	GroupID, DedupID, Seq, Trace, DLSource string           `json:",omitempty"`
	SentAt, EnqueuedAt                     time.Time
	FirstRecv, ReceivedAt, VisibleAt       time.Time
	ReceiveCount                           int
	Gen                                    uint64
	InFlight                               bool
}

type dedupState struct {
	Exp     time.Time
	ID, Seq string
}

type topicState struct {
	Name      string
	Options   TopicOptions
	Attrs     map[string]string
	Tags      map[string]string
	Subs      []subState
	Endpoints []endpointState
	Deleted   int
	NSubs     int
	Seq       uint64
}

type subState struct {
	ARN               string
	QueueARN          string
	FilterPolicy      string
	FilterPolicyScope pubsub.Scope
	RawDelivery       bool
	Attrs             map[string]string // RedrivePolicy, DeliveryPolicy, SubscriptionRoleArn
}

type endpointState struct {
	ARN, Protocol, Endpoint, Token string
	Confirmed                      bool
	Attrs                          map[string]string
}

type busState struct {
	Name         string
	MaxEntrySize int
	Rules        []ruleState
	Archives     []archiveState
}

type ruleState struct {
	Rule    eventbus.Rule
	Targets []targetState
}

type targetState struct {
	ID, ARN, MessageGroupID, Input, InputPath string
	InputTransformer                          *eventbus.InputTransformer
	MaxRetryAttempts                          *int
	MaxEventAge                               time.Duration
	DeadLetterARN                             string
}

type archiveState struct {
	Info   eventbus.Archive
	Events []archivedState
}

type archivedState struct {
	Env            []byte
	Time, Ingested time.Time
	Size           int
}

// Snapshot writes the world's state to w, for Restore: its queues with
// their options, messages (in flight and delayed ones too, with their
// receive counts and receipts) and deduplication records; its topics with
// attributes, tags and subscriptions to queues by ARN and to endpoints; its
// buses with rules, targets by ARN and archives with their events.
//
// What only lives in the process is left out: function subscriptions and
// targets, subscriptions made by Topic.Subscribe, deliveries a bus is
// retrying, replays, the deduplication records of FIFO topics and the
// ReceiveRequestAttemptIds of FIFO receives.
// Each resource is read under its own lock: take the snapshot when nothing
// else changes the world, or accept that it is not one instant.
func (w *World) Snapshot(out io.Writer) error {
	w.mu.Lock()
	st := worldState{Version: snapshotVersion, Account: w.account, Region: w.region}
	queues, topics, buses := sortedValues(w.queues), sortedValues(w.topics), sortedValues(w.buses)
	w.mu.Unlock()
	for _, q := range queues {
		if !q.isClosed() {
			st.Queues = append(st.Queues, q.snapshot())
		}
	}
	for _, t := range topics {
		if !t.isClosed() {
			st.Topics = append(st.Topics, t.snapshot())
		}
	}
	for _, b := range buses {
		if !b.isClosed() {
			st.Buses = append(st.Buses, b.snapshot())
		}
	}
	bw := bufio.NewWriterSize(out, 1<<16)
	if err := json.NewEncoder(bw).Encode(&st); err != nil {
		return fmt.Errorf("memory: snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("memory: snapshot: %w", err)
	}
	return nil
}

func sortedValues[V any](m map[string]V) []V {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]V, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

func (q *Queue) snapshot() queueState {
	o := q.options()
	st := queueState{Name: q.name, FIFO: q.fifo, Token: q.token, Options: optionsState{
		VisibilityTimeout: o.VisibilityTimeout, Delay: o.Delay, Retention: o.Retention, ReceiveWaitTime: o.ReceiveWaitTime,
		MaxMessageSize: o.MaxMessageSize, MaxBatchSize: o.MaxBatchSize,
		ContentBasedDeduplication: o.ContentBasedDeduplication, DeduplicationScope: o.DeduplicationScope,
	}}
	if rp := o.RedrivePolicy; rp != nil {
		st.Options.DeadLetterQueueARN, st.Options.MaxReceiveCount = rp.DeadLetterQueue.arn, rp.MaxReceiveCount
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.advance(time.Now())
	st.Seq, st.LastPurge = q.seq, q.lastPurge
	st.Messages = make([]messageState, 0, len(q.msgs))
	for _, m := range q.msgs {
		st.Messages = append(st.Messages, messageState{
			Serial: m.serial, ID: m.id, Body: m.body, Attrs: m.attrs, GroupID: m.groupID, DedupID: m.x().dedupID,
			Seq: m.x().seq, Trace: m.x().trace, DLSource: m.x().dlSource, SentAt: m.sentAt, EnqueuedAt: m.enqueuedAt,
			FirstRecv: m.firstRecv, ReceivedAt: m.receivedAt, VisibleAt: m.visibleAt,
			ReceiveCount: m.receiveCount, Gen: m.gen, InFlight: m.inFlight,
		})
	}
	slices.SortFunc(st.Messages, func(a, b messageState) int { return cmp.Compare(a.Serial, b.Serial) })
	if len(q.dedup) > 0 {
		st.Dedup = make(map[string]dedupState, len(q.dedup))
		for k, e := range q.dedup {
			st.Dedup[k] = dedupState{Exp: e.exp, ID: e.id, Seq: e.seq}
		}
	}
	return st
}

func (t *Topic) snapshot() topicState {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := topicState{Name: t.name, Options: t.opts, Attrs: t.admin.attrs, Tags: t.admin.tags,
		Deleted: t.admin.deleted, NSubs: t.nsubs, Seq: t.seq}
	st.Options.FIFO = t.fifo
	for _, s := range t.subs {
		qarn := s.qarn
		if qarn == "" && s.queue != nil && !s.owned {
			qarn = s.queue.arn
		}
		if qarn == "" || s.fn != nil {
			continue // a function or a queue of Subscribe's: the process's own
		}
		st.Subs = append(st.Subs, subState{ARN: s.arn, QueueARN: qarn, FilterPolicy: s.opts.FilterPolicy,
			FilterPolicyScope: s.opts.FilterPolicyScope, RawDelivery: s.opts.RawDelivery, Attrs: t.admin.subAttrs[s.arn]})
	}
	for _, e := range t.admin.endpoint {
		st.Endpoints = append(st.Endpoints, endpointState{ARN: e.arn, Protocol: e.protocol, Endpoint: e.endpoint,
			Token: e.token, Confirmed: e.confirmed, Attrs: e.attrs})
	}
	return st
}

func (b *Bus) snapshot() busState {
	b.mu.RLock()
	defer b.mu.RUnlock()
	st := busState{Name: b.name, MaxEntrySize: b.opts.MaxEntrySize}
	for _, r := range sortedValues(b.rules) {
		rs := ruleState{Rule: r.def}
		for _, t := range r.targets {
			if t.kind == funcTarget {
				continue
			}
			def := cloneTarget(t.def)
			ts := targetState{ID: def.ID, ARN: t.arn, MessageGroupID: def.MessageGroupID, Input: def.Input,
				InputPath: def.InputPath, InputTransformer: def.InputTransformer,
				MaxRetryAttempts: def.RetryPolicy.MaximumRetryAttempts, MaxEventAge: def.RetryPolicy.MaximumEventAge}
			if def.DeadLetter != nil {
				ts.DeadLetterARN = b.world.senderARN(def.DeadLetter)
			}
			rs.Targets = append(rs.Targets, ts)
		}
		st.Rules = append(st.Rules, rs)
	}
	for _, a := range sortedValues(b.archives) {
		a.mu.Lock()
		as := archiveState{Info: a.info, Events: make([]archivedState, len(a.events))}
		for i, e := range a.events {
			as.Events[i] = archivedState{Env: e.env, Time: e.time, Ingested: e.ingested, Size: e.size}
		}
		a.mu.Unlock()
		st.Archives = append(st.Archives, as)
	}
	return st
}

// Restore loads a snapshot written by Snapshot into the world, which must
// hold no queues, topics or buses but the default bus. Messages keep their
// ids, receive counts and receipts; one whose visibility timeout passed
// while the world was down is visible at once.
func (w *World) Restore(in io.Reader) error {
	var st worldState
	if err := json.NewDecoder(bufio.NewReaderSize(in, 1<<16)).Decode(&st); err != nil {
		return &postroom.Error{Pkg: "memory", Op: "restore", Message: err.Error(), Kind: postroom.ErrInvalid, Err: err}
	}
	if st.Version != snapshotVersion {
		return &postroom.Error{Pkg: "memory", Op: "restore", Message: "unknown snapshot version " + strconv.Itoa(st.Version), Kind: postroom.ErrInvalid}
	}
	w.mu.Lock()
	empty := len(w.queues) == 0 && len(w.topics) == 0
	w.mu.Unlock()
	if !empty {
		return &postroom.Error{Pkg: "memory", Op: "restore", Message: "the world is not empty", Kind: postroom.ErrInvalid}
	}
	fail := func(what string, err error) error {
		return fmt.Errorf("memory: restore %s: %w", what, err)
	}
	// Queues first, without their redrive policies, which name others.
	now := time.Now()
	for i := range st.Queues {
		qs := &st.Queues[i]
		o := qs.Options
		q, err := w.NewQueue(qs.Name, QueueOptions{FIFO: qs.FIFO, VisibilityTimeout: o.VisibilityTimeout, Delay: o.Delay,
			Retention: o.Retention, ReceiveWaitTime: o.ReceiveWaitTime, MaxMessageSize: o.MaxMessageSize, MaxBatchSize: o.MaxBatchSize,
			ContentBasedDeduplication: o.ContentBasedDeduplication, DeduplicationScope: o.DeduplicationScope})
		if err != nil {
			return fail("queue "+qs.Name, err)
		}
		if err := q.restore(qs, now); err != nil {
			return fail("queue "+qs.Name, err)
		}
	}
	for _, qs := range st.Queues {
		if qs.Options.DeadLetterQueueARN == "" {
			continue
		}
		q, err := w.Queue(qs.Name)
		if err != nil {
			return fail("queue "+qs.Name, err)
		}
		dlq, err := w.QueueByARN(qs.Options.DeadLetterQueueARN)
		if err != nil {
			return fail("queue "+qs.Name, err)
		}
		o := q.Options()
		o.RedrivePolicy = &RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: qs.Options.MaxReceiveCount}
		if err := q.SetOptions(o); err != nil {
			return fail("queue "+qs.Name, err)
		}
	}
	for _, ts := range st.Topics {
		if err := w.restoreTopic(ts); err != nil {
			return fail("topic "+ts.Name, err)
		}
	}
	for _, bs := range st.Buses {
		if err := w.restoreBus(bs); err != nil {
			return fail("bus "+bs.Name, err)
		}
	}
	return nil
}

// restore loads the messages and records of a snapshot into a new queue.
func (q *Queue) restore(st *queueState, now time.Time) error {
	slices.SortFunc(st.Messages, func(a, b messageState) int { return cmp.Compare(a.Serial, b.Serial) })
	for i, ms := range st.Messages {
		switch {
		case ms.Serial == 0 || i > 0 && ms.Serial == st.Messages[i-1].Serial:
			return &postroom.Error{Pkg: "memory", Op: "restore", Message: "message serials must be distinct and positive", Kind: postroom.ErrInvalid}
		case q.fifo && ms.GroupID == "":
			return &postroom.Error{Pkg: "memory", Op: "restore", Message: "a FIFO message without a group", Kind: postroom.ErrInvalid}
		}
	}
	if n, err := strconv.ParseUint(st.Token, 16, 64); err == nil && st.Token != "" {
		q.token = st.Token
		for { // tokens made from now on stay unique
			cur := queueSerial.Load()
			if cur >= n || queueSerial.CompareAndSwap(cur, n) {
				break
			}
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq, q.lastPurge = st.Seq, st.LastPurge
	if q.fifo {
		for k, e := range st.Dedup {
			q.dedup[k] = dedupEntry{exp: e.Exp, id: e.ID, seq: e.Seq}
		}
	}
	for _, ms := range st.Messages {
		m := &message{serial: ms.Serial, id: ms.ID, body: ms.Body, attrs: ms.Attrs, groupID: ms.GroupID, sentAt: ms.SentAt, enqueuedAt: ms.EnqueuedAt,
			firstRecv: ms.FirstRecv, receivedAt: ms.ReceivedAt, visibleAt: ms.VisibleAt,
			receiveCount: ms.ReceiveCount, gen: ms.Gen, index: -1}
		if ext := (msgExt{dedupID: ms.DedupID, seq: ms.Seq, trace: ms.Trace, dlSource: ms.DLSource}); ext != noExt {
			m.ext = &ext
		}
		if ms.Serial > q.seq {
			q.seq = ms.Serial
		}
		q.msgs[m.serial] = m
		var g *group
		if q.fifo {
			g = q.groups[m.groupID]
			if g == nil {
				g = &group{id: m.groupID, index: -1}
				q.groups[m.groupID] = g
			}
			g.msgs = append(g.msgs, m)
			m.group = g
		}
		switch {
		case ms.InFlight:
			m.inFlight = true
			q.inFlight++
			if g != nil {
				g.inFlight++
			}
			heap.Push(&q.pending, m)
		case m.visibleAt.After(now):
			q.delayed++
			heap.Push(&q.pending, m)
		case !q.fifo:
			q.ready.push(m)
		}
	}
	for _, g := range q.groups {
		q.maybeReady(g)
	}
	return nil
}

func (w *World) restoreTopic(st topicState) error {
	if !st.Options.FIFO {
		st.Options.DeduplicationScope = "" // defaulted by NewTopic
	}
	t, err := w.NewTopic(st.Name, st.Options)
	if err != nil {
		return err
	}
	for _, ss := range st.Subs {
		opts := SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{FilterPolicy: ss.FilterPolicy,
			FilterPolicyScope: ss.FilterPolicyScope, RawDelivery: ss.RawDelivery}}
		if dlq := w.redriveQueue(ss.Attrs["RedrivePolicy"]); dlq != nil {
			opts.DeadLetter = dlq
		}
		s := &subscription{topic: t, arn: ss.ARN, qarn: ss.QueueARN, opts: opts}
		if err := s.setFilter(opts.FilterPolicy, opts.FilterPolicyScope); err != nil {
			return err
		}
		s.active.Store(true)
		t.subs = append(t.subs, s)
		if len(ss.Attrs) > 0 {
			if t.admin.subAttrs == nil {
				t.admin.subAttrs = make(map[string]map[string]string)
			}
			t.admin.subAttrs[ss.ARN] = ss.Attrs
		}
	}
	for _, es := range st.Endpoints {
		e := &endpointSub{arn: es.ARN, protocol: es.Protocol, endpoint: es.Endpoint, token: es.Token, confirmed: es.Confirmed,
			attrs: es.Attrs, sem: make(chan struct{}, maxPostsInFlight)}
		if p := es.Attrs["FilterPolicy"]; p != "" {
			probe := &subscription{}
			if err := probe.setFilter(p, scopeOf(es.Attrs["FilterPolicyScope"])); err != nil {
				return err
			}
			e.filter = probe.filter.Load()
		}
		if dlq := w.redriveQueue(es.Attrs["RedrivePolicy"]); dlq != nil {
			e.deadLetter = dlq
		}
		t.admin.endpoint = append(t.admin.endpoint, e)
		if e.token != "" {
			if t.admin.tokens == nil {
				t.admin.tokens = make(map[string]*endpointSub)
			}
			t.admin.tokens[e.token] = e
		}
	}
	t.admin.attrs, t.admin.tags = st.Attrs, st.Tags
	t.admin.deleted, t.nsubs, t.seq = st.Deleted, st.NSubs, st.Seq
	return nil
}

// redriveQueue returns the queue an SNS redrive policy names, or nil.
func (w *World) redriveQueue(policy string) *Queue {
	var p struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	if policy == "" || json.Unmarshal([]byte(policy), &p) != nil {
		return nil
	}
	q, err := w.QueueByARN(p.DeadLetterTargetArn)
	if err != nil {
		return nil
	}
	return q
}

func (w *World) restoreBus(st busState) error {
	b, err := w.Bus(st.Name)
	if err != nil {
		if b, err = w.NewBus(st.Name, BusOptions{MaxEntrySize: st.MaxEntrySize}); err != nil {
			return err
		}
	}
	ctx := context.Background()
	for _, rs := range st.Rules {
		if err := b.PutRule(ctx, rs.Rule); err != nil {
			return err
		}
		targets := make([]eventbus.Target, 0, len(rs.Targets))
		for _, ts := range rs.Targets {
			t := eventbus.Target{ID: ts.ID, ARN: ts.ARN, MessageGroupID: ts.MessageGroupID, Input: ts.Input,
				InputPath: ts.InputPath, InputTransformer: ts.InputTransformer,
				RetryPolicy: eventbus.RetryPolicy{MaximumRetryAttempts: ts.MaxRetryAttempts, MaximumEventAge: ts.MaxEventAge}}
			if ts.DeadLetterARN != "" {
				if dlq, err := w.QueueByARN(ts.DeadLetterARN); err == nil {
					t.DeadLetter = dlq
				}
			}
			targets = append(targets, t)
		}
		if len(targets) > 0 {
			if err := b.PutTargets(ctx, rs.Rule.Name, targets...); err != nil {
				return err
			}
		}
	}
	for _, as := range st.Archives {
		if err := b.CreateArchive(ctx, as.Info.Name, eventbus.ArchiveOptions{Description: as.Info.Description,
			EventPattern: as.Info.EventPattern, Retention: as.Info.Retention}); err != nil {
			return err
		}
		a, err := b.archive("restore", as.Info.Name)
		if err != nil {
			return err
		}
		a.mu.Lock()
		a.info = as.Info
		a.events = make([]archived, len(as.Events))
		for i, e := range as.Events {
			a.events[i] = archived{env: e.Env, time: e.Time, ingested: e.Ingested, size: e.Size}
		}
		a.mu.Unlock()
	}
	return nil
}
