package memory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

func newBus(t *testing.T, opts memory.BusOptions) *memory.Bus {
	t.Helper()
	b, err := memory.NewBus(fmt.Sprintf("test-bus-%d", testBuses.Add(1)), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func rule(t *testing.T, b *memory.Bus, name, pattern string, targets ...eventbus.Target) {
	t.Helper()
	require.NoError(t, b.PutRule(ctx, eventbus.Rule{Name: name, EventPattern: pattern}))
	if len(targets) > 0 {
		require.NoError(t, b.PutTargets(ctx, name, targets...))
	}
}

func orderEvent(detailType, detail string) *eventbus.Event {
	return &eventbus.Event{Source: "com.example.shop", DetailType: detailType, Detail: json.RawMessage(detail)}
}

// drainBodies receives and acks every message of q.
func drainBodies(t *testing.T, q *memory.Queue) []string {
	t.Helper()
	var out []string
	for {
		ds := recv(t, q, 10)
		if len(ds) == 0 {
			return out
		}
		out = append(out, bodiesOf(ds)...)
		require.NoError(t, q.Ack(ctx, ds...))
	}
}

// details returns the detail of each event body.
func details(t *testing.T, bodies []string) []string {
	t.Helper()
	var out []string
	for _, b := range bodies {
		var e struct{ Detail json.RawMessage }
		require.NoError(t, json.Unmarshal([]byte(b), &e), b)
		out = append(out, string(e.Detail))
	}
	return out
}

// TestBusEnvelope checks the event a target receives byte for byte.
func TestBusEnvelope(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := memory.NewBus("default", memory.BusOptions{})
		require.NoError(t, err)
		defer b.Close()
		q := newQueue(t, "envelope", memory.QueueOptions{})
		rule(t, b, "all", `{"source":[{"prefix":""}]}`, eventbus.Target{ID: "q", Queue: q})

		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600))
		e := &eventbus.Event{
			Source:     "com.example.shop",
			DetailType: `Order "Placed" <&>`,
			Detail:     json.RawMessage("{ \"order\": {\"id\": \"o-1\", \"note\": \"<b>&\\u00e9\"},\n \"z\": 1, \"a\": [true, null] }"),
			Resources:  []string{"arn:aws:shop:::order/o-1", "second"},
			Time:       at,
		}
		noTime := &eventbus.Event{Source: "s", DetailType: "t", Detail: json.RawMessage(`{}`)}
		require.NoError(t, b.Put(ctx, e, noTime))
		got := drainBodies(t, q)
		require.Len(t, got, 2)
		assert.Equal(t, `{"version":"0","id":"`+e.ID+`","detail-type":"Order \"Placed\" <&>","source":"com.example.shop",`+
			`"account":"000000000000","time":"2023-12-31T23:00:00Z","region":"us-east-1",`+
			`"resources":["arn:aws:shop:::order/o-1","second"],`+
			`"detail":{"order":{"id":"o-1","note":"<b>&\u00e9"},"z":1,"a":[true,null]}}`, got[0])
		assert.Equal(t, `{"version":"0","id":"`+noTime.ID+`","detail-type":"t","source":"s",`+
			`"account":"000000000000","time":"2000-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{}}`, got[1],
			"time is the time of Put when the entry has none")
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, e.ID)
		assert.NotEqual(t, e.ID, noTime.ID)
	})
}

// TestBusRouting puts one batch that several rules route to a queue, a
// topic and a function, and checks each target got exactly the events its
// pattern admits.
func TestBusRouting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, memory.BusOptions{})
		placedQ := newQueue(t, "placed", memory.QueueOptions{})
		topic, err := memory.NewTopic("big-orders", memory.TopicOptions{})
		require.NoError(t, err)
		defer topic.Close()
		bigQ := newQueue(t, "big-orders-sub", memory.QueueOptions{})
		_, err = topic.SubscribeQueue(bigQ, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{RawDelivery: true}})
		require.NoError(t, err)
		var mu sync.Mutex
		var euCalls []string
		eu := func(ctx context.Context, in []byte) error {
			mu.Lock()
			defer mu.Unlock()
			euCalls = append(euCalls, string(in))
			return nil
		}
		allQ := newQueue(t, "all", memory.QueueOptions{})

		rule(t, b, "placed", `{"detail-type":["Order Placed"]}`, eventbus.Target{ID: "q", Queue: placedQ})
		rule(t, b, "big", `{"detail-type":["Order Placed"],"detail":{"total":[{"numeric":[">=",1000]}]}}`, eventbus.Target{ID: "sns", Topic: topic})
		rule(t, b, "eu", `{"detail":{"country":[{"anything-but":["US","CA"]}],"total":[{"exists":true}]}}`,
			eventbus.Target{ID: "fn", Func: eu, InputPath: "$.detail"})
		rule(t, b, "all", `{"source":["com.example.shop"]}`, eventbus.Target{ID: "all", Queue: allQ})
		rule(t, b, "nothing", `{"source":["com.example.other"]}`, eventbus.Target{ID: "q", Queue: placedQ})
		for i := range 995 { // many rules that match nothing
			rule(t, b, fmt.Sprintf("noise-%d", i), fmt.Sprintf(`{"detail":{"sku":["sku-%d"]}}`, i))
		}

		require.NoError(t, b.Put(ctx,
			orderEvent("Order Placed", `{"n":0,"total":50,"country":"US"}`),
			orderEvent("Order Placed", `{"n":1,"total":5000,"country":"FR"}`),
			orderEvent("Order Shipped", `{"n":2,"total":5000,"country":"DE"}`),
			orderEvent("Order Placed", `{"n":3,"total":"5000","country":"CA"}`),
			orderEvent("Order Placed", `{"n":4,"country":"IT"}`),
		))
		synctest.Wait() // the function runs in a goroutine of the bus

		assert.Equal(t, []string{`{"n":0,"total":50,"country":"US"}`, `{"n":1,"total":5000,"country":"FR"}`,
			`{"n":3,"total":"5000","country":"CA"}`, `{"n":4,"country":"IT"}`}, details(t, drainBodies(t, placedQ)))
		assert.Equal(t, []string{`{"n":1,"total":5000,"country":"FR"}`}, details(t, drainBodies(t, bigQ)),
			"the topic gets the numeric matches, numbers only")
		mu.Lock()
		defer mu.Unlock()
		slices.Sort(euCalls)
		assert.Equal(t, []string{`{"n":1,"total":5000,"country":"FR"}`, `{"n":2,"total":5000,"country":"DE"}`}, euCalls)
		assert.Len(t, drainBodies(t, allQ), 5)
	})
}

// TestBusPutFailures checks per-entry failures by index, with EventBridge's
// codes and messages, and the limits that fail a whole call.
func TestBusPutFailures(t *testing.T) {
	b := newBus(t, memory.BusOptions{})
	q := newQueue(t, "put-failures", memory.QueueOptions{})
	rule(t, b, "all", `{"source":[{"exists":true}]}`, eventbus.Target{ID: "q", Queue: q})

	events := []*eventbus.Event{
		orderEvent("ok", `{"i":0}`),
		{DetailType: "x", Detail: json.RawMessage(`{}`)},
		{Source: "s", Detail: json.RawMessage(`{}`)},
		{Source: "s", DetailType: "x"},
		orderEvent("x", `"{\"double\":\"encoded\"}"`),
		orderEvent("x", `[{"a":1}]`),
		orderEvent("x", `{"a":1`),
		nil,
		orderEvent("ok", ` {"i":8} `),
	}
	err := b.Put(ctx, events...)
	var be *postroom.BatchError
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Errs, len(events))
	want := map[int][2]string{
		1: {"InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."},
		2: {"InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."},
		3: {"InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."},
		4: {"MalformedDetail", "Detail is malformed."},
		5: {"MalformedDetail", "Detail is malformed."},
		6: {"MalformedDetail", "Detail is malformed."},
		7: {"InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."},
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, be.Failed())
	for i, w := range want {
		sqsError(t, be.Errs[i], postroom.ErrInvalid, w[0], w[1])
	}
	assert.Equal(t, []string{`{"i":0}`, `{"i":8}`}, details(t, drainBodies(t, q)))
	assert.Empty(t, events[1].ID, "a failed entry gets no id")

	many := make([]*eventbus.Event, 11)
	for i := range many {
		many[i] = orderEvent("x", `{}`)
	}
	sqsError(t, b.Put(ctx, many...), postroom.ErrTooManyEntries, "ValidationException",
		"1 validation error detected: Value '[PutEventsRequestEntry(…) × 11]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10")
	sqsError(t, b.Put(ctx), postroom.ErrTooManyEntries, "ValidationException",
		"1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1")
	assert.Empty(t, drainBodies(t, q))
}

// TestBusEntrySize checks EventBridge's entry size formula against the
// configured limit.
func TestBusEntrySize(t *testing.T) {
	for _, limit := range []int{256 << 10, 1 << 20} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			opts := memory.BusOptions{}
			if limit != 1<<20 {
				opts.MaxEntrySize = limit
			}
			b := newBus(t, opts)
			// 14 (Time) + 1 (Source) + 1 (DetailType) + resources + detail.
			e := func(detailLen int) *eventbus.Event {
				return &eventbus.Event{
					Source: "s", DetailType: "t", Time: time.Unix(1, 0), Resources: []string{"abc", "é"},
					Detail: json.RawMessage(`{"p":"` + strings.Repeat("x", detailLen-8) + `"}`),
				}
			}
			fixed := 14 + 1 + 1 + 3 + 2
			require.NoError(t, b.Put(ctx, e(limit-fixed)), "exactly the limit")
			sqsError(t, b.Put(ctx, e(limit-fixed+1)), postroom.ErrTooLarge, "ValidationException",
				"Total size of the entries in the request is over the limit.")
			sqsError(t, b.Put(ctx, e(limit/2), e(limit/2)), postroom.ErrTooLarge, "ValidationException",
				"Total size of the entries in the request is over the limit.")
		})
	}
	for _, bad := range []int{256<<10 - 1, 1<<20 + 1, -1} {
		_, err := memory.NewBus("b", memory.BusOptions{MaxEntrySize: bad})
		assert.ErrorIs(t, err, postroom.ErrInvalid, "MaxEntrySize %d", bad)
	}
}

// TestBusRules checks rule and target management errors against
// EventBridge's.
func TestBusRules(t *testing.T) {
	b := newBus(t, memory.BusOptions{})
	q := newQueue(t, "rules", memory.QueueOptions{})
	fifo := newQueue(t, "rules.fifo", memory.QueueOptions{ContentBasedDeduplication: true})

	err := b.PutRule(ctx, eventbus.Rule{Name: "r", EventPattern: `{"source":"x"}`})
	sqsError(t, err, eventbus.ErrInvalidPattern, "InvalidEventPatternException", `Event pattern is not valid. Reason: "source" must be an object or an array`)
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	sqsError(t, b.PutRule(ctx, eventbus.Rule{Name: "r"}), postroom.ErrInvalid, "ValidationException",
		"Parameter(s) EventPattern or ScheduleExpression must be specified.")
	sqsError(t, b.PutRule(ctx, eventbus.Rule{Name: "a b", EventPattern: `{"source":["x"]}`}), postroom.ErrInvalid, "ValidationException",
		"1 validation error detected: Value 'a b' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+")
	assert.ErrorIs(t, b.PutRule(ctx, eventbus.Rule{Name: "r", EventPattern: `{"source":["x"]}`, State: "PAUSED"}), postroom.ErrInvalid)

	rule(t, b, "r", `{"source":["x"]}`)
	r, err := b.DescribeRule(ctx, "r")
	require.NoError(t, err)
	assert.Equal(t, eventbus.Rule{Name: "r", ARN: "arn:aws:events:us-east-1:000000000000:rule/" + b.Name() + "/r",
		EventPattern: `{"source":["x"]}`, State: eventbus.Enabled}, r)
	_, err = b.DescribeRule(ctx, "nope")
	sqsError(t, err, postroom.ErrNotFound, "ResourceNotFoundException", "Rule nope does not exist on EventBus "+b.Name()+".")

	tests := []struct {
		name   string
		target eventbus.Target
		msg    string
	}{
		{"no destination", eventbus.Target{ID: "t"}, "Target t must have exactly one of Queue, Topic, Func and ARN."},
		{"two destinations", eventbus.Target{ID: "t", Queue: q, ARN: "arn:aws:sqs:us-east-1:000000000000:x"}, "Target t must have exactly one of Queue, Topic, Func and ARN."},
		{"fifo without group", eventbus.Target{ID: "t", Queue: fifo}, "Parameter(s) SqsParameters must be specified for FIFO queues."},
		{"two inputs", eventbus.Target{ID: "t", Queue: q, Input: `{}`, InputTransformer: &eventbus.InputTransformer{InputTemplate: `"x"`}},
			"Only one of Input, InputPath, or InputTransformer must be provided for target t."},
		{"input not json", eventbus.Target{ID: "t", Queue: q, Input: `{`}, "Input for target t is not valid JSON text."},
		{"bracket path", eventbus.Target{ID: "t", Queue: q, InputPath: `$['detail']`}, "InputPath for target t is not a valid JSONPath in dot notation: $['detail']"},
		{"undefined placeholder", eventbus.Target{ID: "t", Queue: q, InputTransformer: &eventbus.InputTransformer{
			InputPathsMap: map[string]string{"a": "$.detail.a"}, InputTemplate: `"<a> <notdefinedkey>"`}},
			"InputTemplate for target t contains invalid placeholder notdefinedkey."},
		{"reserved key", eventbus.Target{ID: "t", Queue: q, InputTransformer: &eventbus.InputTransformer{
			InputPathsMap: map[string]string{"AWS.x": "$.detail"}, InputTemplate: `"x"`}},
			"1 validation error detected: Value 'AWS.x' at 'targets.1.member.inputTransformer.inputPathsMap' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 256, Member must satisfy regular expression pattern: [A-Za-z0-9\\_\\-]+]"},
		{"too many retries", eventbus.Target{ID: "t", Queue: q, RetryPolicy: eventbus.RetryPolicy{MaximumRetryAttempts: ptr(186)}},
			"1 validation error detected: Value '186' at 'targets.1.member.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 185"},
		{"short event age", eventbus.Target{ID: "t", Queue: q, RetryPolicy: eventbus.RetryPolicy{MaximumEventAge: 59 * time.Second}},
			"1 validation error detected: Value '59' at 'targets.1.member.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"},
		{"fifo dead letter", eventbus.Target{ID: "t", Queue: q, DeadLetter: fifo},
			"Parameter(s) DeadLetterConfig is not valid for target t: EventBridge dead-letter queues must be standard queues."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sqsError(t, b.PutTargets(ctx, "r", tc.target), postroom.ErrInvalid, "ValidationException", tc.msg)
		})
	}
	manyPaths := map[string]string{}
	for i := range 101 {
		manyPaths[fmt.Sprint("k", i)] = "$.detail"
	}
	assert.ErrorIs(t, b.PutTargets(ctx, "r", eventbus.Target{ID: "t", Queue: q,
		InputTransformer: &eventbus.InputTransformer{InputPathsMap: manyPaths, InputTemplate: `"x"`}}), postroom.ErrInvalid, "101 paths")

	var five []eventbus.Target
	for i := range 5 {
		five = append(five, eventbus.Target{ID: fmt.Sprint("t", i), Queue: q})
	}
	require.NoError(t, b.PutTargets(ctx, "r", five...))
	sqsError(t, b.PutTargets(ctx, "r", eventbus.Target{ID: "t5", Queue: q}), eventbus.ErrLimitExceeded,
		"LimitExceededException", "The requested resource exceeds the maximum number allowed.")
	sqsError(t, b.PutTargets(ctx, "nope", five[0]), postroom.ErrNotFound, "ResourceNotFoundException",
		"Rule nope does not exist on EventBus "+b.Name()+".")
	sqsError(t, b.DeleteRule(ctx, "r"), postroom.ErrInvalid, "ValidationException", "Rule can't be deleted since it has targets.")

	// What ListTargets returns is a copy: changing it changes nothing.
	it := &eventbus.InputTransformer{InputPathsMap: map[string]string{"a": "$.a"}, InputTemplate: `"<a>"`}
	require.NoError(t, b.PutTargets(ctx, "r", eventbus.Target{ID: "t0", Queue: q, InputTransformer: it}))
	it.InputPathsMap["a"] = "$.changed"
	ts, err := b.ListTargets(ctx, "r")
	require.NoError(t, err)
	assert.Equal(t, "$.a", ts[0].InputTransformer.InputPathsMap["a"])
}

func ptr[T any](v T) *T { return &v }

// calls records when a function target was called.
type calls struct {
	mu    sync.Mutex
	times []time.Time
}

// fail is a function target that records the call and fails.
func (c *calls) fail(ctx context.Context, in []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.times = append(c.times, time.Now())
	return errors.New("boom")
}

func (c *calls) get() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.times)
}

// TestBusQueueTargets checks FIFO queue targets and targets named by ARN,
// which resolve within the bus's world.
func TestBusQueueTargets(t *testing.T) {
	w := newWorld(t, memory.WorldOptions{})
	b, err := w.NewBus("queue-targets", memory.BusOptions{})
	require.NoError(t, err)
	dlq := newQueue(t, "queue-targets-dlq", memory.QueueOptions{})
	cbd := newQueue(t, "cbd.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
	noCBD := newQueue(t, "nocbd.fifo", memory.QueueOptions{})
	qu, err := w.NewQueue("bus-arn-target", memory.QueueOptions{})
	require.NoError(t, err)
	tp, err := w.OpenTopic(ctx, "mem://bus-arn-topic")
	require.NoError(t, err)
	viaTopic := newQueue(t, "via-topic", memory.QueueOptions{})
	_, err = tp.SubscribeQueue(viaTopic, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{RawDelivery: true}})
	require.NoError(t, err)
	// The default world holds a queue of the same name: not the target.
	other, err := queue.Open(ctx, "mem://bus-arn-target")
	require.NoError(t, err)
	t.Cleanup(func() { _ = other.Close() })

	rule(t, b, "r", `{"source":["com.example.shop"]}`,
		eventbus.Target{ID: "cbd", Queue: cbd, MessageGroupID: "orders", DeadLetter: dlq},
		eventbus.Target{ID: "nocbd", Queue: noCBD, MessageGroupID: "orders", DeadLetter: dlq},
		eventbus.Target{ID: "arn", ARN: "arn:aws:sqs:us-east-1:000000000000:bus-arn-target"},
		eventbus.Target{ID: "sns", ARN: "arn:aws:sns:us-east-1:000000000000:bus-arn-topic"},
		eventbus.Target{ID: "gone", ARN: "arn:aws:sqs:us-east-1:000000000000:no-such-queue", DeadLetter: dlq},
	)
	require.NoError(t, b.Put(ctx, orderEvent("a", `{"n":1}`), orderEvent("a", `{"n":2}`)))

	ds := recv(t, cbd, 10)
	require.Len(t, ds, 2)
	assert.Equal(t, "orders", ds[0].GroupID)
	assert.Equal(t, []string{`{"n":1}`, `{"n":2}`}, details(t, bodiesOf(ds)), "in order")
	assert.Len(t, drainBodies(t, viaTopic), 2)
	got, err := qu.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, NoWait: true})
	require.NoError(t, err)
	assert.Len(t, got, 2, "a queue of the bus's world, named by its ARN")
	got, err = other.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, NoWait: true})
	require.NoError(t, err)
	assert.Empty(t, got, "a queue of another world")

	dead := recv(t, dlq, 10)
	require.Len(t, dead, 4, "the queue without content-based deduplication and the missing one, twice each")
	byTarget := map[string][]*queue.Delivery{}
	for _, d := range dead {
		byTarget[d.Attributes.Get("TARGET_ARN")] = append(byTarget[d.Attributes.Get("TARGET_ARN")], d)
	}
	d := byTarget[noCBD.ARN()][0]
	assert.Equal(t, "INVALID_PARAMETER", d.Attributes.Get("ERROR_CODE"))
	assert.Contains(t, d.Attributes.Get("ERROR_MESSAGE"), "ContentBasedDeduplication")
	assert.Equal(t, "0", d.Attributes.Get("RETRY_ATTEMPTS"), "not retried")
	assert.Equal(t, "arn:aws:events:us-east-1:000000000000:rule/"+b.Name()+"/r", d.Attributes.Get("RULE_ARN"))
	assert.NotContains(t, d.Attributes, "EXHAUSTED_RETRY_CONDITION")
	gone := byTarget["arn:aws:sqs:us-east-1:000000000000:no-such-queue"]
	require.Len(t, gone, 2)
	assert.Equal(t, "NO_RESOURCE", gone[0].Attributes.Get("ERROR_CODE"))
}

// TestBusFuncRetries runs a failing function target in a synctest bubble:
// it is retried with growing delays, then dead-lettered.
func TestBusFuncRetries(t *testing.T) {
	t.Run("MaximumRetryAttempts", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newBus(t, memory.BusOptions{})
			dlq := newQueue(t, "func-dlq", memory.QueueOptions{})
			var rec calls
			rule(t, b, "r", `{"source":["com.example.shop"]}`, eventbus.Target{ID: "fn", Func: rec.fail, DeadLetter: dlq,
				RetryPolicy: eventbus.RetryPolicy{MaximumRetryAttempts: ptr(8)}})
			start := time.Now()
			e := orderEvent("a", `{"n":1}`)
			require.NoError(t, b.Put(ctx, e))
			synctest.Wait()
			require.Len(t, rec.get(), 1, "the first call is made at once")
			assert.Equal(t, start, rec.get()[0])
			time.Sleep(time.Hour)
			synctest.Wait()
			calls := rec.get()

			require.Len(t, calls, 9, "one call and 8 retries")
			var gaps []time.Duration
			for i := 1; i < len(calls); i++ {
				gaps = append(gaps, calls[i].Sub(calls[i-1]))
			}
			for i := 1; i < len(gaps); i++ {
				assert.GreaterOrEqual(t, gaps[i], gaps[i-1], "retry delays grow: %v", gaps)
			}
			assert.Greater(t, gaps[len(gaps)-1], 16*gaps[0], "exponentially: %v", gaps)
			assert.Less(t, gaps[0], 2*time.Second)

			ds := recv(t, dlq, 10)
			require.Len(t, ds, 1)
			d := ds[0]
			assert.Equal(t, e.ID, eventID(t, d.Body), "the event goes to the dead-letter queue")
			assert.Equal(t, "MaximumRetryAttempts", d.Attributes.Get("EXHAUSTED_RETRY_CONDITION"))
			assert.Equal(t, "8", d.Attributes.Get("RETRY_ATTEMPTS"))
			assert.Equal(t, "ERROR_FROM_TARGET", d.Attributes.Get("ERROR_CODE"))
			assert.Equal(t, "boom", d.Attributes.Get("ERROR_MESSAGE"))
			assert.Equal(t, "arn:aws:lambda:us-east-1:000000000000:function:fn", d.Attributes.Get("TARGET_ARN"))
			assert.Equal(t, "Number", d.Attributes["RETRY_ATTEMPTS"].Type)
		})
	})
	t.Run("MaximumEventAge", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newBus(t, memory.BusOptions{})
			dlq := newQueue(t, "func-dlq", memory.QueueOptions{})
			var rec calls
			rule(t, b, "r", `{"source":["com.example.shop"]}`, eventbus.Target{ID: "fn", Func: rec.fail, DeadLetter: dlq,
				RetryPolicy: eventbus.RetryPolicy{MaximumEventAge: 2 * time.Minute}})
			start := time.Now()
			require.NoError(t, b.Put(ctx, orderEvent("a", `{}`)))
			time.Sleep(48 * time.Hour)
			synctest.Wait()
			calls := rec.get()
			require.NotEmpty(t, calls)
			assert.LessOrEqual(t, calls[len(calls)-1].Sub(start), 2*time.Minute, "no retry after the maximum age")
			ds := recv(t, dlq, 10)
			require.Len(t, ds, 1)
			assert.Equal(t, "MaximumEventAgeInSeconds", ds[0].Attributes.Get("EXHAUSTED_RETRY_CONDITION"))
			assert.Equal(t, fmt.Sprint(len(calls)-1), ds[0].Attributes.Get("RETRY_ATTEMPTS"))
		})
	})
	t.Run("Defaults", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newBus(t, memory.BusOptions{})
			var rec calls
			start := time.Now()
			rule(t, b, "r", `{"source":["com.example.shop"]}`, eventbus.Target{ID: "fn", Func: rec.fail})
			require.NoError(t, b.Put(ctx, orderEvent("a", `{}`)))
			time.Sleep(72 * time.Hour)
			synctest.Wait()
			n, last := len(rec.get()), rec.get()[len(rec.get())-1]
			assert.LessOrEqual(t, n, 186, "at most 185 retries")
			assert.Greater(t, n, 100)
			assert.LessOrEqual(t, last.Sub(start), 24*time.Hour, "within 24 hours")
			assert.Greater(t, last.Sub(start), 12*time.Hour)
		})
	})
	t.Run("SucceedsOnRetry", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newBus(t, memory.BusOptions{})
			dlq := newQueue(t, "func-dlq", memory.QueueOptions{})
			var mu sync.Mutex
			var n int
			var panicked bool
			flaky := func(ctx context.Context, in []byte) error {
				mu.Lock()
				defer mu.Unlock()
				n++
				switch n {
				case 1:
					return errors.New("not yet")
				case 2:
					panicked = true
					panic("still not")
				}
				return nil
			}
			rule(t, b, "r", `{"source":["com.example.shop"]}`, eventbus.Target{ID: "fn", Func: flaky, DeadLetter: dlq})
			require.NoError(t, b.Put(ctx, orderEvent("a", `{}`)))
			time.Sleep(time.Minute)
			synctest.Wait()
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, 3, n)
			assert.True(t, panicked, "a panic counts as a failure")
			assert.Empty(t, recv(t, dlq, 10))
		})
	})
	t.Run("Close", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b, err := memory.NewBus("closing", memory.BusOptions{})
			require.NoError(t, err)
			dlq := newQueue(t, "func-dlq", memory.QueueOptions{})
			started := make(chan struct{})
			var ctxErr error
			rule(t, b, "slow", `{"detail-type":["slow"]}`, eventbus.Target{ID: "fn", Func: func(ctx context.Context, in []byte) error {
				close(started)
				<-ctx.Done()
				ctxErr = ctx.Err()
				return nil
			}})
			rule(t, b, "failing", `{"detail-type":["fail"]}`, eventbus.Target{ID: "fn", DeadLetter: dlq,
				Func: func(ctx context.Context, in []byte) error { return errors.New("boom") }})
			require.NoError(t, b.Put(ctx, orderEvent("slow", `{}`), orderEvent("fail", `{}`)))
			<-started
			synctest.Wait()
			require.NoError(t, b.Close(), "Close cancels and waits for the running function")
			assert.ErrorIs(t, ctxErr, context.Canceled)
			ds := recv(t, dlq, 10)
			require.Len(t, ds, 1, "a pending retry gives up at Close")
			assert.Contains(t, ds[0].Attributes.Get("ERROR_MESSAGE"), "bus closed")
		})
	})
}

// eventID returns the id of an event body.
func eventID(t *testing.T, body []byte) string {
	t.Helper()
	var e struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &e))
	return e.ID
}

// TestBusClosed checks every method after Close.
func TestBusClosed(t *testing.T) {
	b, err := memory.NewBus("closed", memory.BusOptions{})
	require.NoError(t, err)
	rule(t, b, "r", `{"source":["x"]}`)
	require.NoError(t, b.Close())
	for name, err := range map[string]error{
		"put":           b.Put(ctx, orderEvent("a", `{}`)),
		"putrule":       b.PutRule(ctx, eventbus.Rule{Name: "r", EventPattern: `{"source":["x"]}`}),
		"deleterule":    b.DeleteRule(ctx, "r"),
		"puttargets":    b.PutTargets(ctx, "r", eventbus.Target{ID: "t", ARN: "x"}),
		"removetargets": b.RemoveTargets(ctx, "r", "t"),
		"createarchive": b.CreateArchive(ctx, "a", eventbus.ArchiveOptions{}),
	} {
		assert.ErrorIs(t, err, postroom.ErrClosed, name)
	}
	_, err = b.ListRules(ctx, "")
	assert.ErrorIs(t, err, postroom.ErrClosed)
	_, err = b.StartReplay(ctx, eventbus.ReplayOptions{Name: "r", Archive: "a", Start: time.Unix(0, 0), End: time.Now()})
	assert.ErrorIs(t, err, postroom.ErrClosed)
}

// TestBusOpenURL checks the mem:// opener of buses.
func TestBusOpenURL(t *testing.T) {
	b1, err := eventbus.Open(ctx, "mem://url-bus")
	require.NoError(t, err)
	defer b1.Close()
	b2, err := eventbus.Open(ctx, "mem://url-bus?max_entry_size=1048576")
	require.NoError(t, err)
	assert.Same(t, b1, b2, "one bus per name")
	_, err = eventbus.Open(ctx, "mem://url-bus?max_entry_size=262144")
	assert.ErrorIs(t, err, postroom.ErrExists)
	_, err = eventbus.Open(ctx, "mem://url-bus?color=red")
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	small, err := eventbus.Open(ctx, "mem://url-bus-small?max_entry_size=262144")
	require.NoError(t, err)
	defer small.Close()
	big := orderEvent("a", `{"p":"`+strings.Repeat("x", 300<<10)+`"}`)
	assert.ErrorIs(t, small.Put(ctx, big), postroom.ErrTooLarge)
	require.NoError(t, b1.Close())
	b3, err := eventbus.Open(ctx, "mem://url-bus")
	require.NoError(t, err)
	defer b3.Close()
	assert.NotSame(t, b1, b3, "a closed bus is replaced")
	_, err = eventbus.Open(ctx, "mem://bad name")
	assert.Error(t, err)
}

// flakySender fails its first sends with an error a retry can fix.
type flakySender struct {
	mu    sync.Mutex
	fails int
	got   []string
}

func (s *flakySender) Send(ctx context.Context, msgs ...*queue.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails > 0 {
		s.fails--
		return errors.New("throttled")
	}
	for _, m := range msgs {
		s.got = append(s.got, string(m.Body))
	}
	return nil
}

// TestBusQueueRetry checks that a queue target failing with an error that
// is not permanent is retried in the background.
func TestBusQueueRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, memory.BusOptions{})
		dlq := newQueue(t, "retry-dlq", memory.QueueOptions{})
		s := &flakySender{fails: 2}
		rule(t, b, "r", `{"source":["com.example.shop"]}`, eventbus.Target{ID: "q", Queue: s, DeadLetter: dlq, InputPath: "$.detail"})
		require.NoError(t, b.Put(ctx, orderEvent("a", `{"n":1}`)))
		time.Sleep(time.Minute)
		synctest.Wait()
		s.mu.Lock()
		assert.Equal(t, []string{`{"n":1}`}, s.got, "delivered on the second retry")
		s.mu.Unlock()
		assert.Empty(t, recv(t, dlq, 10))

		s.mu.Lock()
		s.fails = 1000
		s.mu.Unlock()
		require.NoError(t, b.PutTargets(ctx, "r", eventbus.Target{ID: "q", Queue: s, DeadLetter: dlq,
			RetryPolicy: eventbus.RetryPolicy{MaximumRetryAttempts: ptr(0)}}))
		require.NoError(t, b.Put(ctx, orderEvent("a", `{"n":2}`)))
		synctest.Wait()
		ds := recv(t, dlq, 10)
		require.Len(t, ds, 1, "no retry allowed")
		assert.Equal(t, "MaximumRetryAttempts", ds[0].Attributes.Get("EXHAUSTED_RETRY_CONDITION"))
		assert.Equal(t, "SDK_CLIENT_ERROR", ds[0].Attributes.Get("ERROR_CODE"))
		assert.Equal(t, "throttled", ds[0].Attributes.Get("ERROR_MESSAGE"))
	})
}
