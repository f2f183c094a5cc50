// Package eventbustest is a conformance suite for event-bus drivers: a
// driver proves itself with one call to [Run], declaring in [Capabilities]
// what it can do. The suite skips only what a driver declares it cannot
// do.
//
// The suite puts events on a bus, routes them with rules to targets and
// reads what the targets received from queues: a driver provides them with
// [Harness].Sink (for the memory driver a memory queue, for an EventBridge
// driver an SQS queue and its ARN).
package eventbustest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/testsupport/conformance"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/queue"
)

// Harness tells the suite how to make buses of the driver under test and
// targets to observe them with.
type Harness struct {
	// New returns a new bus with no rules for one test; it must implement
	// eventbus.RuleManager (and eventbus.Archiver and eventbus.Replayer
	// when Caps.Archive is set). The suite closes it. New is called inside
	// a testing/synctest bubble when Caps.Synctest is set.
	New func(t *testing.T, cfg Config) eventbus.Bus
	// Sink returns a target (its ID is set by the suite) that delivers
	// into a new queue, and the queue to receive what it got from.
	Sink func(t *testing.T) (eventbus.Target, queue.Receiver)
	// Caps declares what the driver can do.
	Caps Capabilities
	// Pkg is the name of the driver's package ("memory",
	// "awseventbridge"). When it is set, every error the suite provokes
	// must start with "Pkg: ", once.
	Pkg string
}

// Config is what a test asks of the bus New makes.
type Config struct {
	// MaxEntrySize, when not zero, is the size limit of a Put call's
	// entries the test expects (only asked for when Caps.MaxEntrySize is
	// set, and then equal to it).
	MaxEntrySize int
}

// Capabilities are what an event-bus driver declares it can do.
type Capabilities struct {
	Synctest bool // run every test in a testing/synctest bubble
	// Transform: targets honour Input, InputPath and InputTransformer.
	Transform bool
	// Func: function targets (Target.Func) are called with the event.
	Func bool
	// Archive: the bus implements eventbus.Archiver and eventbus.Replayer,
	// archives events as they are put and replays synchronously enough
	// for the test to receive the replayed events within its patience
	// (EventBridge archives with a delay of minutes: a driver for it may
	// leave this off).
	Archive bool
	// MaxEntrySize is the size limit of a Put call's entries, by
	// EventBridge's formula; 0 skips the size test.
	MaxEntrySize int
	// Envelope: targets receive the event as EventBridge writes it, with
	// its fields in EventBridge's order.
	Envelope bool

	// Declared departures from EventBridge, for test backends that are not
	// faithful (the zero value declares none). Each one is listed in the
	// driver's documentation.
	//
	// DetailReformatted: the backend re-serializes an event's detail
	// (moto adds spaces), so the suite compares details as JSON values
	// instead of byte for byte.
	DetailReformatted bool
	// RuleStateIgnored: the backend routes events to disabled rules
	// (moto); the DisabledRule test is skipped.
	RuleStateIgnored bool
}

// Run runs the conformance suite against the driver h describes.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil || h.Sink == nil {
		t.Fatal("eventbustest: Harness.New and Harness.Sink are required")
	}
	s := &suite{h: h}
	conformance.Run(t, "eventbustest", h.Caps.Synctest, []conformance.Test{
		{Name: "PutRouteDeliver", Run: s.testRoute},
		{Name: "SeveralRules", Run: s.testSeveralRules},
		{Name: "Envelope", Run: s.testEnvelope, Missing: conformance.Unless(h.Caps.Envelope, "Envelope")},
		{Name: "PartialFailure", Run: s.testPartialFailure},
		{Name: "BatchLimits", Run: s.testBatchLimits},
		{Name: "EntrySize", Run: s.testEntrySize, Missing: conformance.Unless(h.Caps.MaxEntrySize > 0, "MaxEntrySize")},
		{Name: "InvalidPattern", Run: s.testInvalidPattern},
		{Name: "DisabledRule", Run: s.testDisabledRule, Missing: conformance.Unless(!h.Caps.RuleStateIgnored, "that disabled rules route nothing (RuleStateIgnored)")},
		{Name: "RuleCRUD", Run: s.testRuleCRUD},
		{Name: "TargetLimits", Run: s.testTargetLimits},
		{Name: "Transform", Run: s.testTransform, Missing: conformance.Unless(h.Caps.Transform, "Transform")},
		{Name: "FuncTarget", Run: s.testFunc, Missing: conformance.Unless(h.Caps.Func, "Func")},
		{Name: "ArchiveReplay", Run: s.testArchiveReplay, Missing: conformance.Unless(h.Caps.Archive, "Archive")},
		{Name: "Closed", Run: s.testClosed},
	})
}

type suite struct {
	h    Harness
	nids atomic.Int64
}

var ctx = context.Background()

const (
	pollWait = 2 * time.Second
	patience = 20 * time.Second
	source   = "com.example.orders"
)

// bus opens a bus with its rule manager.
func (s *suite) bus(t *testing.T, cfg Config) (eventbus.Bus, eventbus.RuleManager) {
	t.Helper()
	b := s.h.New(t, cfg)
	require.NotNil(t, b, "Harness.New returned nil")
	t.Cleanup(func() { _ = b.Close() })
	rm, ok := b.(eventbus.RuleManager)
	require.True(t, ok, "the bus must implement eventbus.RuleManager")
	return b, rm
}

// sink returns a target with a fresh ID and the queue it delivers into.
func (s *suite) sink(t *testing.T) (eventbus.Target, queue.Receiver) {
	t.Helper()
	tg, r := s.h.Sink(t)
	require.NotNil(t, r, "Harness.Sink returned no receiver")
	tg.ID = fmt.Sprintf("sink-%d", s.nids.Add(1))
	return tg, r
}

func putRule(t *testing.T, rm eventbus.RuleManager, name, pattern string, targets ...eventbus.Target) {
	t.Helper()
	require.NoError(t, rm.PutRule(ctx, eventbus.Rule{Name: name, EventPattern: pattern}))
	if len(targets) > 0 {
		require.NoError(t, rm.PutTargets(ctx, name, targets...))
	}
}

func event(detailType, detail string) *eventbus.Event {
	return &eventbus.Event{Source: source, DetailType: detailType, Detail: json.RawMessage(detail)}
}

// receive collects n messages from r and acks them.
func receive(t *testing.T, r queue.Receiver, n int) []string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(patience)
	for len(got) < n && time.Now().Before(deadline) {
		ds, err := r.Receive(ctx, queue.ReceiveOptions{MaxMessages: min(10, n-len(got)), WaitTime: pollWait})
		require.NoError(t, err)
		if len(ds) > 0 {
			require.NoError(t, r.Ack(ctx, ds...))
		}
		for _, d := range ds {
			got = append(got, string(d.Body))
		}
	}
	require.Len(t, got, n, "messages received: %q", got)
	return got
}

func receiveNone(t *testing.T, r queue.Receiver) {
	t.Helper()
	ds, err := r.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: time.Second})
	require.NoError(t, err)
	var bodies []string
	for _, d := range ds {
		bodies = append(bodies, string(d.Body))
	}
	require.Empty(t, bodies, "no message expected")
}

// envelope is the event as a target receives it.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	ReplayName string          `json:"replay-name"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

func decode(t *testing.T, body string) envelope {
	t.Helper()
	var e envelope
	require.NoError(t, json.Unmarshal([]byte(body), &e), "the body is the event envelope: %s", body)
	return e
}

func (s *suite) testRoute(t *testing.T) {
	b, rm := s.bus(t, Config{})
	tg, q := s.sink(t)
	putRule(t, rm, "orders-placed", `{"source":["`+source+`"],"detail-type":["Order Placed"]}`, tg)

	placed := event("Order Placed", `{"id":1}`)
	require.NoError(t, b.Put(ctx, placed, event("Order Shipped", `{"id":1}`)))
	assert.NotEmpty(t, placed.ID, "Put sets the event id")
	e := decode(t, receive(t, q, 1)[0])
	assert.Equal(t, placed.ID, e.ID)
	assert.Equal(t, "0", e.Version)
	assert.Equal(t, "Order Placed", e.DetailType)
	assert.Equal(t, source, e.Source)
	assert.JSONEq(t, `{"id":1}`, string(e.Detail))
	assert.NotNil(t, e.Resources, "resources is an array, empty when there are none")
	receiveNone(t, q)
}

func (s *suite) testSeveralRules(t *testing.T) {
	b, rm := s.bus(t, Config{})
	all, qAll := s.sink(t)
	big, qBig := s.sink(t)
	putRule(t, rm, "all-orders", `{"source":["`+source+`"]}`, all)
	putRule(t, rm, "big-orders", `{"detail":{"total":[{"numeric":[">=",100]}]}}`, big)
	require.NoError(t, b.Put(ctx,
		event("Order Placed", `{"total":5}`),
		event("Order Placed", `{"total":500}`),
		event("Order Placed", `{"total":"500"}`),
	))
	assert.Len(t, receive(t, qAll, 3), 3)
	got := decode(t, receive(t, qBig, 1)[0])
	assert.JSONEq(t, `{"total":500}`, string(got.Detail), "a numeric pattern admits numbers only")
	receiveNone(t, qBig)
}

func (s *suite) testEnvelope(t *testing.T) {
	b, rm := s.bus(t, Config{})
	tg, q := s.sink(t)
	putRule(t, rm, "all", `{"source":["`+source+`"]}`, tg)
	e := event("Order Placed", `{"order": {"id": "o-1", "lines": [1, 2]}}`)
	e.Resources = []string{"arn:aws:example:::order/o-1"}
	e.Time = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, b.Put(ctx, e))
	body := receive(t, q, 1)[0]
	var keys []string
	dec := json.NewDecoder(strings.NewReader(body))
	_, err := dec.Token()
	require.NoError(t, err)
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	assert.Equal(t, []string{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}, keys)
	env := decode(t, body)
	assert.Equal(t, "2024-01-02T03:04:05Z", env.Time)
	assert.Equal(t, e.Resources, env.Resources)
	assert.Len(t, env.Account, 12)
	assert.NotEmpty(t, env.Region)
	assert.JSONEq(t, `{"order":{"id":"o-1","lines":[1,2]}}`, string(env.Detail))
}

func (s *suite) testPartialFailure(t *testing.T) {
	b, rm := s.bus(t, Config{})
	tg, q := s.sink(t)
	putRule(t, rm, "all", `{"source":["`+source+`"]}`, tg)
	events := []*eventbus.Event{
		event("good", `{"n":0}`),
		{DetailType: "no source", Detail: json.RawMessage(`{}`)},
		event("array detail", `[1,2]`),
		event("good", `{"n":3}`),
		event("string detail", `"{\"n\":4}"`),
		{Source: source, Detail: json.RawMessage(`{}`)},
	}
	err := b.Put(ctx, events...)
	var be *postroom.BatchError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, []int{1, 2, 4, 5}, be.Failed())
	codes := map[int]string{1: "InvalidArgument", 2: "MalformedDetail", 4: "MalformedDetail", 5: "InvalidArgument"}
	for i, code := range codes {
		s.errorIs(t, be.Errs[i], postroom.ErrInvalid, "entry %d", i)
		var qe *postroom.Error
		if assert.ErrorAs(t, be.Errs[i], &qe, "entry %d", i) {
			assert.Equal(t, code, qe.Code, "entry %d", i)
		}
	}
	assert.NotEmpty(t, events[0].ID)
	assert.NotEmpty(t, events[3].ID)
	got := receive(t, q, 2)
	var ns []string
	for _, body := range got {
		ns = append(ns, s.detail(t, decode(t, body).Detail))
	}
	assert.ElementsMatch(t, []string{`{"n":0}`, `{"n":3}`}, ns)
}

// detail returns an event's detail as the target received it, or
// compacted when the driver declares DetailReformatted.
func (s *suite) detail(t *testing.T, d json.RawMessage) string {
	t.Helper()
	if !s.h.Caps.DetailReformatted {
		return string(d)
	}
	var b bytes.Buffer
	require.NoError(t, json.Compact(&b, d))
	return b.String()
}

func (s *suite) testBatchLimits(t *testing.T) {
	b, rm := s.bus(t, Config{})
	tg, q := s.sink(t)
	putRule(t, rm, "all", `{"source":["`+source+`"]}`, tg)
	var events []*eventbus.Event
	for i := range 11 {
		events = append(events, event("n", fmt.Sprintf(`{"n":%d}`, i)))
	}
	s.errorIs(t, b.Put(ctx, events...), postroom.ErrTooManyEntries, "11 entries")
	s.errorIs(t, b.Put(ctx), postroom.ErrTooManyEntries, "no entry")
	require.NoError(t, b.Put(ctx, events[:10]...))
	assert.Len(t, receive(t, q, 10), 10)
	receiveNone(t, q)
}

func (s *suite) testEntrySize(t *testing.T) {
	limit := s.h.Caps.MaxEntrySize
	b, _ := s.bus(t, Config{MaxEntrySize: limit})
	// Size: Source + DetailType + Detail (+14 for a Time).
	fixed := len(source) + len("big") + len(`{"pad":""}`)
	fits := event("big", `{"pad":"`+strings.Repeat("x", limit-fixed)+`"}`)
	require.NoError(t, b.Put(ctx, fits), "an entry of exactly the limit")
	over := event("big", `{"pad":"`+strings.Repeat("x", limit-fixed)+`"}`)
	over.Time = time.Now() // 14 more bytes
	s.errorIs(t, b.Put(ctx, over), postroom.ErrTooLarge)
	half := `{"pad":"` + strings.Repeat("x", limit/2) + `"}`
	s.errorIs(t, b.Put(ctx, event("a", half), event("b", half)), postroom.ErrTooLarge, "the limit applies to the call's entries together")
}

func (s *suite) testInvalidPattern(t *testing.T) {
	_, rm := s.bus(t, Config{})
	for _, p := range []string{`{"source":"not an array"}`, `{"source":[]}`, `not json`, `{"n":[{"numeric":["<",1,">",2]}]}`} {
		err := rm.PutRule(ctx, eventbus.Rule{Name: "bad", EventPattern: p})
		s.errorIs(t, err, eventbus.ErrInvalidPattern, p)
		assert.ErrorContains(t, err, "Event pattern is not valid. Reason: ", p)
	}
	_, err := rm.DescribeRule(ctx, "bad")
	s.errorIs(t, err, postroom.ErrNotFound, "an invalid rule is not created")
}

func (s *suite) testDisabledRule(t *testing.T) {
	b, rm := s.bus(t, Config{})
	tg, q := s.sink(t)
	pattern := `{"source":["` + source + `"]}`
	require.NoError(t, rm.PutRule(ctx, eventbus.Rule{Name: "r", EventPattern: pattern, State: eventbus.Disabled}))
	require.NoError(t, rm.PutTargets(ctx, "r", tg))
	require.NoError(t, b.Put(ctx, event("while disabled", `{}`)))
	receiveNone(t, q)
	require.NoError(t, rm.PutRule(ctx, eventbus.Rule{Name: "r", EventPattern: pattern, State: eventbus.Enabled}))
	require.NoError(t, b.Put(ctx, event("while enabled", `{}`)))
	assert.Equal(t, "while enabled", decode(t, receive(t, q, 1)[0]).DetailType)
	r, err := rm.DescribeRule(ctx, "r")
	require.NoError(t, err)
	assert.Equal(t, eventbus.Enabled, r.State)
}

func (s *suite) testRuleCRUD(t *testing.T) {
	_, rm := s.bus(t, Config{})
	tg, _ := s.sink(t)
	for _, name := range []string{"orders.b", "orders-a", "payments_1"} {
		putRule(t, rm, name, `{"source":["`+source+`"]}`)
	}
	require.NoError(t, rm.PutRule(ctx, eventbus.Rule{Name: "orders.b", Description: "second", EventPattern: `{"detail-type":["x"]}`}))
	r, err := rm.DescribeRule(ctx, "orders.b")
	require.NoError(t, err)
	assert.Equal(t, "second", r.Description)
	assert.JSONEq(t, `{"detail-type":["x"]}`, r.EventPattern)
	assert.Equal(t, eventbus.Enabled, r.State, "a rule is enabled by default")
	assert.Contains(t, r.ARN, "orders.b")

	rules, err := rm.ListRules(ctx, "orders")
	require.NoError(t, err)
	var names []string
	for _, r := range rules {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"orders-a", "orders.b"}, names, "by prefix, in name order")

	for _, name := range []string{"", "has space", strings.Repeat("n", 65), "slash/ed"} {
		s.errorIs(t, rm.PutRule(ctx, eventbus.Rule{Name: name, EventPattern: `{"source":["x"]}`}), postroom.ErrInvalid, "name %q", name)
	}

	require.NoError(t, rm.PutTargets(ctx, "orders-a", tg))
	require.NoError(t, rm.PutRule(ctx, eventbus.Rule{Name: "orders-a", EventPattern: `{"source":["y"]}`}))
	ts, err := rm.ListTargets(ctx, "orders-a")
	require.NoError(t, err)
	assert.Len(t, ts, 1, "updating a rule keeps its targets")
	s.errorIs(t, rm.DeleteRule(ctx, "orders-a"), postroom.ErrInvalid, "a rule with targets cannot be deleted")
	require.NoError(t, rm.RemoveTargets(ctx, "orders-a", tg.ID))
	require.NoError(t, rm.DeleteRule(ctx, "orders-a"))
	_, err = rm.DescribeRule(ctx, "orders-a")
	s.errorIs(t, err, postroom.ErrNotFound)
	assert.NoError(t, rm.DeleteRule(ctx, "orders-a"), "deleting a deleted rule succeeds")
	_, err = rm.ListTargets(ctx, "orders-a")
	s.errorIs(t, err, postroom.ErrNotFound)
}

func (s *suite) testTargetLimits(t *testing.T) {
	b, rm := s.bus(t, Config{})
	putRule(t, rm, "r", `{"source":["`+source+`"]}`)
	s.errorIs(t, rm.PutTargets(ctx, "missing", s.target(t)), postroom.ErrNotFound)

	var ts []eventbus.Target
	var qs []queue.Receiver
	for range 5 {
		tg, q := s.sink(t)
		ts, qs = append(ts, tg), append(qs, q)
	}
	require.NoError(t, rm.PutTargets(ctx, "r", ts[:3]...))
	require.NoError(t, rm.PutTargets(ctx, "r", ts[2:]...), "re-putting a target replaces it")
	extra := s.target(t)
	s.errorIs(t, rm.PutTargets(ctx, "r", extra), eventbus.ErrLimitExceeded, "a sixth target")
	got, err := rm.ListTargets(ctx, "r")
	require.NoError(t, err)
	var ids []string
	for _, tg := range got {
		ids = append(ids, tg.ID)
	}
	var want []string
	for _, tg := range ts {
		want = append(want, tg.ID)
	}
	assert.ElementsMatch(t, want, ids, "the failed call changed nothing")

	bad := s.target(t)
	bad.ID = "bad id"
	s.errorIs(t, rm.PutTargets(ctx, "r", bad), postroom.ErrInvalid, "an invalid target id")
	two := s.target(t)
	two.Input, two.InputPath = `{}`, "$.detail"
	s.errorIs(t, rm.PutTargets(ctx, "r", two), postroom.ErrInvalid, "Input and InputPath together")

	require.NoError(t, b.Put(ctx, event("fan out", `{}`)))
	for _, q := range qs {
		assert.Len(t, receive(t, q, 1), 1)
	}
	require.NoError(t, rm.RemoveTargets(ctx, "r", ts[0].ID, "never-added"))
	require.NoError(t, b.Put(ctx, event("after remove", `{}`)))
	receiveNone(t, qs[0])
	assert.Len(t, receive(t, qs[1], 1), 1)
}

// target is a sink whose queue the test does not read.
func (s *suite) target(t *testing.T) eventbus.Target {
	tg, _ := s.sink(t)
	return tg
}

func (s *suite) testTransform(t *testing.T) {
	b, rm := s.bus(t, Config{})
	constant, qConst := s.sink(t)
	constant.Input = `{"constant":true}`
	path, qPath := s.sink(t)
	path.InputPath = "$.detail.order"
	tmpl, qTmpl := s.sink(t)
	tmpl.InputTransformer = &eventbus.InputTransformer{
		InputPathsMap: map[string]string{"id": "$.detail.order.id", "total": "$.detail.order.total", "missing": "$.detail.nope"},
		InputTemplate: `{"order": <id>, "total": <total>, "text": "order <id> of <total><missing>", "rule": <aws.events.rule-name>}`,
	}
	text, qText := s.sink(t)
	text.InputTransformer = &eventbus.InputTransformer{
		InputPathsMap: map[string]string{"id": "$.detail.order.id"},
		InputTemplate: `"Order <id> placed"`,
	}
	putRule(t, rm, "transform", `{"source":["`+source+`"]}`, constant, path, tmpl, text)
	require.NoError(t, b.Put(ctx, event("Order Placed", `{"order":{"id":"o-7","total":12.5}}`)))

	assert.JSONEq(t, `{"constant":true}`, receive(t, qConst, 1)[0])
	assert.JSONEq(t, `{"id":"o-7","total":12.5}`, receive(t, qPath, 1)[0])
	assert.JSONEq(t, `{"order":"o-7","total":12.5,"text":"order o-7 of 12.5","rule":"transform"}`, receive(t, qTmpl, 1)[0])
	assert.Equal(t, `"Order o-7 placed"`, receive(t, qText, 1)[0])

	bad, _ := s.sink(t)
	bad.InputTransformer = &eventbus.InputTransformer{InputTemplate: `"<undefined>"`}
	s.errorIs(t, rm.PutTargets(ctx, "transform", bad), postroom.ErrInvalid, "a placeholder not in InputPathsMap")
}

func (s *suite) testFunc(t *testing.T) {
	b, rm := s.bus(t, Config{})
	got := make(chan []byte, 1)
	putRule(t, rm, "f", `{"source":["`+source+`"]}`, eventbus.Target{ID: "f", Func: func(ctx context.Context, in []byte) error {
		got <- in
		return nil
	}})
	e := event("call", `{"n":1}`)
	require.NoError(t, b.Put(ctx, e))
	select {
	case in := <-got:
		assert.Equal(t, e.ID, decode(t, string(in)).ID)
	case <-time.After(patience):
		t.Fatal("the function was not called")
	}
}

func (s *suite) testArchiveReplay(t *testing.T) {
	b, rm := s.bus(t, Config{})
	ar, ok := b.(eventbus.Archiver)
	require.True(t, ok, "the bus must implement eventbus.Archiver")
	rp, ok := b.(eventbus.Replayer)
	require.True(t, ok, "the bus must implement eventbus.Replayer")
	tg, q := s.sink(t)
	putRule(t, rm, "all", `{"source":["`+source+`"]}`, tg)
	require.NoError(t, ar.CreateArchive(ctx, "orders", eventbus.ArchiveOptions{EventPattern: `{"detail-type":["kept"]}`}))
	s.errorIs(t, ar.CreateArchive(ctx, "orders", eventbus.ArchiveOptions{}), postroom.ErrExists)

	base := time.Now().UTC().Truncate(time.Second)
	var events []*eventbus.Event
	for i, dt := range []string{"kept", "dropped", "kept", "kept"} {
		e := event(dt, fmt.Sprintf(`{"n":%d}`, i))
		e.Time = base.Add(time.Duration(i) * time.Minute)
		events = append(events, e)
	}
	require.NoError(t, b.Put(ctx, events...))
	assert.Len(t, receive(t, q, 4), 4)

	rep, err := rp.StartReplay(ctx, eventbus.ReplayOptions{Name: "r1", Archive: "orders", Start: base, End: base.Add(150 * time.Second)})
	require.NoError(t, err)
	assert.Equal(t, "r1", rep.Name)
	var replayed []string
	for _, body := range receive(t, q, 2) {
		e := decode(t, body)
		assert.Equal(t, "r1", e.ReplayName, "a replayed event has a replay-name")
		replayed = append(replayed, s.detail(t, e.Detail))
	}
	slices.Sort(replayed)
	assert.Equal(t, []string{`{"n":0}`, `{"n":2}`}, replayed, "the kept events of the window")
	receiveNone(t, q)
	_, err = rp.StartReplay(ctx, eventbus.ReplayOptions{Name: "r2", Archive: "missing", Start: base, End: base.Add(time.Hour)})
	s.errorIs(t, err, postroom.ErrNotFound)
}

func (s *suite) testClosed(t *testing.T) {
	b, _ := s.bus(t, Config{})
	require.NoError(t, b.Close())
	s.errorIs(t, b.Put(ctx, event("late", `{}`)), postroom.ErrClosed)
	assert.NoError(t, b.Close(), "a second Close")
}

// errorIs checks that err matches kind and names the driver's package
// once; msgAndArgs describe the check, as with testify.
func (s *suite) errorIs(t *testing.T, err, kind error, msgAndArgs ...any) bool {
	t.Helper()
	what := kind.Error()
	switch {
	case len(msgAndArgs) == 1:
		what = fmt.Sprint(msgAndArgs[0])
	case len(msgAndArgs) > 1:
		what = fmt.Sprintf(fmt.Sprint(msgAndArgs[0]), msgAndArgs[1:]...)
	}
	return conformance.ErrorIs(t, s.h.Pkg, err, kind, what)
}
