package eventsapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/localaws/internal/eventsapi"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// setup starts a test router that hands AWSEvents.* requests to Serve.
func setup(t *testing.T) (*eventbridge.Client, *memory.World) {
	t.Helper()
	w := memory.NewWorld(memory.WorldOptions{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		action, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSEvents.")
		if !ok {
			http.Error(rw, "not events", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		eventsapi.Serve(r.Context(), rw, r, action, body, w, "us-east-1", "000000000000")
	}))
	t.Cleanup(func() { srv.Close(); w.Close() })
	c := eventbridge.New(eventbridge.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
	})
	return c, w
}

func receive(t *testing.T, q *memory.Queue) []string {
	t.Helper()
	ds, err := q.Receive(t.Context(), queue.ReceiveOptions{MaxMessages: 10})
	require.NoError(t, err)
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Body))
		require.NoError(t, q.Ack(t.Context(), d))
	}
	return out
}

func TestRuleTargetsDeliverToQueue(t *testing.T) {
	c, w := setup(t)
	ctx := t.Context()
	q, err := w.NewQueue("orders", memory.QueueOptions{})
	require.NoError(t, err)
	dlq, err := w.NewQueue("orders-dlq", memory.QueueOptions{})
	require.NoError(t, err)

	bus, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("app-bus")})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:events:us-east-1:000000000000:event-bus/app-bus", aws.ToString(bus.EventBusArn))

	rule, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders-created"), EventBusName: aws.String("app-bus"),
		EventPattern: aws.String(`{"source":["app.orders"],"detail-type":["OrderCreated"]}`), Description: aws.String("d")})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:events:us-east-1:000000000000:rule/app-bus/orders-created", aws.ToString(rule.RuleArn))

	pt, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders-created"), EventBusName: bus.EventBusArn,
		Targets: []types.Target{{Id: aws.String("q"), Arn: aws.String(q.ARN()), InputPath: aws.String("$.detail"),
			RetryPolicy:      &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(3), MaximumEventAgeInSeconds: aws.Int32(120)},
			DeadLetterConfig: &types.DeadLetterConfig{Arn: aws.String(dlq.ARN())}}}})
	require.NoError(t, err)
	assert.Zero(t, pt.FailedEntryCount)

	out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("app.orders"), DetailType: aws.String("OrderCreated"), Detail: aws.String(`{"id":1}`), EventBusName: aws.String("app-bus")},
		{Source: aws.String("app.orders"), DetailType: aws.String("OrderCreated"), Detail: aws.String(`not json`), EventBusName: aws.String("app-bus")},
		{Source: aws.String("app.other"), DetailType: aws.String("OrderCreated"), Detail: aws.String(`{"id":2}`), EventBusName: aws.String("app-bus")},
	}})
	require.NoError(t, err)
	assert.Equal(t, int32(1), out.FailedEntryCount)
	require.Len(t, out.Entries, 3)
	assert.NotEmpty(t, aws.ToString(out.Entries[0].EventId))
	assert.Equal(t, "MalformedDetail", aws.ToString(out.Entries[1].ErrorCode))
	assert.Equal(t, []string{`{"id":1}`}, receive(t, q))

	lt, err := c.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("orders-created"), EventBusName: aws.String("app-bus")})
	require.NoError(t, err)
	require.Len(t, lt.Targets, 1)
	got := lt.Targets[0]
	assert.Equal(t, q.ARN(), aws.ToString(got.Arn))
	assert.Equal(t, "$.detail", aws.ToString(got.InputPath))
	assert.Equal(t, int32(3), aws.ToInt32(got.RetryPolicy.MaximumRetryAttempts))
	assert.Equal(t, int32(120), aws.ToInt32(got.RetryPolicy.MaximumEventAgeInSeconds))
	assert.Equal(t, dlq.ARN(), aws.ToString(got.DeadLetterConfig.Arn))

	names, err := c.ListRuleNamesByTarget(ctx, &eventbridge.ListRuleNamesByTargetInput{TargetArn: aws.String(q.ARN()), EventBusName: aws.String("app-bus")})
	require.NoError(t, err)
	assert.Equal(t, []string{"orders-created"}, names.RuleNames)

	// A disabled rule routes nothing; enabling it again restores routing.
	_, err = c.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String("orders-created"), EventBusName: aws.String("app-bus")})
	require.NoError(t, err)
	d, err := c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("orders-created"), EventBusName: aws.String("app-bus")})
	require.NoError(t, err)
	assert.Equal(t, types.RuleStateDisabled, d.State)
	assert.Equal(t, "d", aws.ToString(d.Description))
	put := func(id int) {
		_, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("app.orders"),
			DetailType: aws.String("OrderCreated"), Detail: aws.String(`{"id":` + string(rune('0'+id)) + `}`), EventBusName: aws.String("app-bus")}}})
		require.NoError(t, err)
	}
	put(3)
	assert.Empty(t, receive(t, q))
	_, err = c.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: aws.String("orders-created"), EventBusName: aws.String("app-bus")})
	require.NoError(t, err)
	put(4)
	assert.Equal(t, []string{`{"id":4}`}, receive(t, q))

	// A rule with targets cannot be deleted; without them it can.
	_, err = c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("orders-created"), EventBusName: aws.String("app-bus")})
	require.Error(t, err)
	_, err = c.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("orders-created"), EventBusName: aws.String("app-bus"), Ids: []string{"q"}})
	require.NoError(t, err)
	_, err = c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("orders-created"), EventBusName: aws.String("app-bus")})
	require.NoError(t, err)
	_, err = c.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String("app-bus")})
	require.NoError(t, err)
}

func TestInputTransformerAndTopicTarget(t *testing.T) {
	c, w := setup(t)
	ctx := t.Context()
	q, err := w.NewQueue("sink", memory.QueueOptions{})
	require.NoError(t, err)
	topicQ, err := w.NewQueue("from-topic", memory.QueueOptions{})
	require.NoError(t, err)
	tp, err := w.NewTopic("events", memory.TopicOptions{})
	require.NoError(t, err)
	_, err = tp.SubscribeQueue(topicQ, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{RawDelivery: true}})
	require.NoError(t, err)

	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["s"]}`)})
	require.NoError(t, err)
	_, err = c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{
		{Id: aws.String("q"), Arn: aws.String(q.ARN()), InputTransformer: &types.InputTransformer{
			InputPathsMap: map[string]string{"id": "$.detail.id"}, InputTemplate: aws.String(`{"order":<id>,"rule":"<aws.events.rule-name>"}`)}},
		{Id: aws.String("t"), Arn: aws.String(tp.ARN()), Input: aws.String(`{"constant":true}`)},
	}})
	require.NoError(t, err)
	_, err = c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("s"), DetailType: aws.String("t"), Detail: aws.String(`{"id":"o-1"}`)}}})
	require.NoError(t, err)
	assert.Equal(t, []string{`{"order":"o-1","rule":"r"}`}, receive(t, q))
	assert.Equal(t, []string{`{"constant":true}`}, receive(t, topicQ))
}

func TestTypedErrors(t *testing.T) {
	c, _ := setup(t)
	ctx := t.Context()

	_, err := c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	require.ErrorAs(t, err, &nf)

	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String("nope-bus"), EventPattern: aws.String(`{"source":["s"]}`)})
	require.ErrorAs(t, err, &nf)
	assert.Contains(t, nf.ErrorMessage(), "Event bus nope-bus does not exist.")

	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":"s"}`)})
	var ip *types.InvalidEventPatternException
	require.ErrorAs(t, err, &ip)
	assert.Contains(t, ip.ErrorMessage(), "Event pattern is not valid")

	_, err = c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("b")})
	require.NoError(t, err)
	_, err = c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("b")})
	var ae *types.ResourceAlreadyExistsException
	require.ErrorAs(t, err, &ae)

	_, err = c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("missing"), Targets: []types.Target{{Id: aws.String("x"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:q")}}})
	require.ErrorAs(t, err, &nf)

	_, err = c.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(`[`), Event: aws.String(`{}`)})
	require.ErrorAs(t, err, &ip)
}

func TestTestEventPattern(t *testing.T) {
	c, _ := setup(t)
	ev := `{"id":"1","account":"000000000000","source":"app.orders","time":"2024-01-02T03:04:05Z","region":"us-east-1","resources":[],"detail-type":"OrderCreated","detail":{"n":5}}`
	for pat, want := range map[string]bool{
		`{"source":["app.orders"]}`:                      true,
		`{"source":["other"]}`:                           false,
		`{"detail":{"n":[{"numeric":[">",3]}]}}`:         true,
		`{"detail-type":[{"prefix":"Order"}],"x":["y"]}`: false,
	} {
		out, err := c.TestEventPattern(t.Context(), &eventbridge.TestEventPatternInput{EventPattern: aws.String(pat), Event: aws.String(ev)})
		require.NoError(t, err, pat)
		assert.Equal(t, want, out.Result, pat)
	}
	_, err := c.TestEventPattern(t.Context(), &eventbridge.TestEventPatternInput{EventPattern: aws.String(`{"source":["s"]}`), Event: aws.String(`{"source":"s"}`)})
	var ge interface{ ErrorCode() string }
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "ValidationException", ge.ErrorCode())
}

func TestListPagination(t *testing.T) {
	c, _ := setup(t)
	ctx := t.Context()
	for _, n := range []string{"a1", "a2", "a3", "b1"} {
		_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(n), EventPattern: aws.String(`{"source":["s"]}`)})
		require.NoError(t, err)
	}
	var names []string
	p := &eventbridge.ListRulesInput{NamePrefix: aws.String("a"), Limit: aws.Int32(2)}
	pages := 0
	for {
		out, err := c.ListRules(ctx, p)
		require.NoError(t, err)
		pages++
		for _, r := range out.Rules {
			names = append(names, aws.ToString(r.Name))
			assert.Equal(t, "default", aws.ToString(r.EventBusName))
			assert.Equal(t, "arn:aws:events:us-east-1:000000000000:rule/"+aws.ToString(r.Name), aws.ToString(r.Arn))
		}
		if out.NextToken == nil {
			break
		}
		p.NextToken = out.NextToken
	}
	assert.Equal(t, []string{"a1", "a2", "a3"}, names)
	assert.Equal(t, 2, pages)

	for _, n := range []string{"x", "y"} {
		_, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(n)})
		require.NoError(t, err)
	}
	lb, err := c.ListEventBuses(ctx, &eventbridge.ListEventBusesInput{})
	require.NoError(t, err)
	var buses []string
	for _, b := range lb.EventBuses {
		buses = append(buses, aws.ToString(b.Name))
	}
	assert.Equal(t, []string{"default", "x", "y"}, buses)
	db, err := c.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String("x")})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:events:us-east-1:000000000000:event-bus/x", aws.ToString(db.Arn))
}

func TestArchiveAndReplay(t *testing.T) {
	c, w := setup(t)
	ctx := t.Context()
	q, err := w.NewQueue("replayed", memory.QueueOptions{})
	require.NoError(t, err)
	b, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("app-bus")})
	require.NoError(t, err)
	ca, err := c.CreateArchive(ctx, &eventbridge.CreateArchiveInput{ArchiveName: aws.String("arch"), EventSourceArn: b.EventBusArn,
		EventPattern: aws.String(`{"source":["app.orders"]}`), RetentionDays: aws.Int32(7)})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:events:us-east-1:000000000000:archive/arch", aws.ToString(ca.ArchiveArn))
	assert.Equal(t, types.ArchiveStateEnabled, ca.State)
	assert.WithinDuration(t, time.Now(), aws.ToTime(ca.CreationTime), time.Minute)

	_, err = c.CreateArchive(ctx, &eventbridge.CreateArchiveInput{ArchiveName: aws.String("arch"), EventSourceArn: b.EventBusArn})
	var ae *types.ResourceAlreadyExistsException
	require.ErrorAs(t, err, &ae)

	evTime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	_, err = c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("app.orders"), DetailType: aws.String("t"), Detail: aws.String(`{"n":1}`), EventBusName: aws.String("app-bus"), Time: aws.Time(evTime)},
		{Source: aws.String("app.other"), DetailType: aws.String("t"), Detail: aws.String(`{"n":2}`), EventBusName: aws.String("app-bus"), Time: aws.Time(evTime)},
	}})
	require.NoError(t, err)
	da, err := c.DescribeArchive(ctx, &eventbridge.DescribeArchiveInput{ArchiveName: aws.String("arch")})
	require.NoError(t, err)
	assert.Equal(t, int64(1), da.EventCount)
	assert.Equal(t, int32(7), aws.ToInt32(da.RetentionDays))
	la, err := c.ListArchives(ctx, &eventbridge.ListArchivesInput{})
	require.NoError(t, err)
	require.Len(t, la.Archives, 1)

	// A rule added after the events were put sees them only by replay.
	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String("app-bus"), EventPattern: aws.String(`{"source":["app.orders"]}`)})
	require.NoError(t, err)
	_, err = c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), EventBusName: aws.String("app-bus"),
		Targets: []types.Target{{Id: aws.String("q"), Arn: aws.String(q.ARN())}}})
	require.NoError(t, err)
	sr, err := c.StartReplay(ctx, &eventbridge.StartReplayInput{ReplayName: aws.String("r1"), EventSourceArn: ca.ArchiveArn,
		EventStartTime: aws.Time(evTime.Add(-time.Hour)), EventEndTime: aws.Time(evTime.Add(time.Hour)),
		Destination: &types.ReplayDestination{Arn: b.EventBusArn}})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:events:us-east-1:000000000000:replay/r1", aws.ToString(sr.ReplayArn))
	bodies := receive(t, q)
	require.Len(t, bodies, 1)
	var env map[string]any
	require.NoError(t, json.Unmarshal([]byte(bodies[0]), &env))
	assert.Equal(t, "r1", env["replay-name"])
	assert.Equal(t, "2024-01-02T03:04:05Z", env["time"])

	dr, err := c.DescribeReplay(ctx, &eventbridge.DescribeReplayInput{ReplayName: aws.String("r1")})
	require.NoError(t, err)
	assert.Equal(t, types.ReplayStateCompleted, dr.State)
	assert.Equal(t, aws.ToString(ca.ArchiveArn), aws.ToString(dr.EventSourceArn))
	_, err = c.CancelReplay(ctx, &eventbridge.CancelReplayInput{ReplayName: aws.String("r1")})
	require.ErrorAs(t, err, new(*types.IllegalStatusException), "a completed replay cannot be cancelled")
	lr, err := c.ListReplays(ctx, &eventbridge.ListReplaysInput{})
	require.NoError(t, err)
	require.Len(t, lr.Replays, 1)

	_, err = c.DeleteArchive(ctx, &eventbridge.DeleteArchiveInput{ArchiveName: aws.String("arch")})
	require.NoError(t, err)
	_, err = c.DescribeArchive(ctx, &eventbridge.DescribeArchiveInput{ArchiveName: aws.String("arch")})
	var nf *types.ResourceNotFoundException
	require.ErrorAs(t, err, &nf)
}

func TestUnknownActionAndMalformedBody(t *testing.T) {
	w := memory.NewWorld(memory.WorldOptions{})
	defer w.Close()
	for _, tc := range []struct{ action, body, want string }{
		{"CreateConnection", `{}`, "UnknownOperationException"},
		{"PutRule", `{"Name":`, "SerializationException"},
		{"PutRule", `{"Name":5}`, "SerializationException"},
		{"PutEvents", `{"Entries":[]}`, "ValidationException"},
	} {
		rec := httptest.NewRecorder()
		eventsapi.Serve(context.Background(), rec, httptest.NewRequest("POST", "/", nil), tc.action, []byte(tc.body), w, "us-east-1", "000000000000")
		assert.Equal(t, http.StatusBadRequest, rec.Code, tc.action)
		assert.Regexp(t, `^[0-9a-f-]{36}$`, rec.Header().Get("X-Amzn-Requestid"))
		assert.Equal(t, "application/x-amz-json-1.1", rec.Header().Get("Content-Type"))
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
		assert.Equal(t, tc.want, e.Type, tc.body)
		assert.NotEmpty(t, e.Message)
	}
}

func FuzzHandle(f *testing.F) {
	f.Add("PutEvents", []byte(`{"Entries":[{"Source":"s","DetailType":"t","Detail":"{}"}]}`))
	f.Add("PutRule", []byte(`{"Name":"r","EventPattern":"{\"source\":[\"s\"]}"}`))
	f.Add("PutTargets", []byte(`{"Rule":"r","Targets":[{"Id":"a","Arn":"arn:aws:sqs:us-east-1:000000000000:q","InputTransformer":{"InputPathsMap":{"a":"$.detail"},"InputTemplate":"<a>"}}]}`))
	f.Add("TestEventPattern", []byte(`{"EventPattern":"{}","Event":"{}"}`))
	f.Add("StartReplay", []byte(`{"ReplayName":"x","EventSourceArn":"arn:aws:events:us-east-1:000000000000:archive/a","EventStartTime":1.5}`))
	w := memory.NewWorld(memory.WorldOptions{})
	defer w.Close()
	if _, err := w.NewQueue("q", memory.QueueOptions{}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, action string, body []byte) {
		out, err := eventsapi.Handle(context.Background(), action, body, w, "us-east-1", "000000000000")
		if err != nil {
			e := eventsapi.ErrorOf(err)
			if e.Status >= 500 {
				t.Fatalf("%s %q: server fault %v", action, body, e)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%s: invalid JSON %q", action, out)
		}
	})
}

func TestFIFOQueueTargetNeedsGroup(t *testing.T) {
	c, w := setup(t)
	ctx := t.Context()
	q, err := w.NewQueue("orders.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
	require.NoError(t, err)
	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["s"]}`)})
	require.NoError(t, err)
	_, err = c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{Id: aws.String("q"), Arn: aws.String(q.ARN())}}})
	var ge interface{ ErrorCode() string }
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "ValidationException", ge.ErrorCode())
	_, err = c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{Id: aws.String("q"), Arn: aws.String(q.ARN()),
		SqsParameters: &types.SqsParameters{MessageGroupId: aws.String("g1")}}}})
	require.NoError(t, err)
	// The bus may be named by ARN.
	_, err = c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("s"), DetailType: aws.String("t"),
		Detail: aws.String(`{}`), EventBusName: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/default")}}})
	require.NoError(t, err)
	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, "g1", ds[0].GroupID)
	lt, err := c.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r")})
	require.NoError(t, err)
	require.Len(t, lt.Targets, 1)
	assert.Equal(t, "g1", aws.ToString(lt.Targets[0].SqsParameters.MessageGroupId))
}

// TestTargetQueueMadeLater puts a target for a queue that does not exist
// yet: EventBridge resolves the target's ARN at each delivery.
func TestTargetQueueMadeLater(t *testing.T) {
	c, w := setup(t)
	ctx := t.Context()
	_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["s"]}`)})
	require.NoError(t, err)
	_, err = c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{Id: aws.String("q"),
		Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:later"), InputPath: aws.String("$.detail")}}})
	require.NoError(t, err)
	q, err := w.NewQueue("later", memory.QueueOptions{})
	require.NoError(t, err)
	_, err = c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("s"), DetailType: aws.String("t"), Detail: aws.String(`{"n":1}`)}}})
	require.NoError(t, err)
	assert.Equal(t, []string{`{"n":1}`}, receive(t, q))
}
