package memory_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

// TestBusTransform checks each input form of a target: Input, InputPath and
// InputTransformer, with string and JSON templates, missing paths and the
// predefined variables. The expectations follow EventBridge's documented
// examples and the AWS-recorded outputs of LocalStack's
// test_events_inputs.py: values are not escaped, a string in a JSON
// template outside quotes takes its quotes, a missing path is empty.
func TestBusTransform(t *testing.T) {
	const detail = `{"instance-id":"i-0123456789","state":"RUNNING","n":7,"ok":true,"none":null,` +
		`"tags":["a","b"],"order":{"id":"o-1","lines":[{"sku":"s1"},{"sku":"s2"}]},"quote":"say \"hi\"","k\u0065y":"escaped key"}`
	tests := []struct {
		name   string
		target eventbus.Target
		want   string // "" means nothing is delivered
	}{
		{"no transformation", eventbus.Target{}, "ENVELOPE"},
		{"Input", eventbus.Target{Input: `{"constant": [1, 2]}`}, `{"constant": [1, 2]}`},
		{"InputPath detail", eventbus.Target{InputPath: "$.detail"}, detail},
		{"InputPath nested", eventbus.Target{InputPath: "$.detail.order"}, `{"id":"o-1","lines":[{"sku":"s1"},{"sku":"s2"}]}`},
		{"InputPath string", eventbus.Target{InputPath: "$.detail.state"}, `"RUNNING"`},
		{"InputPath index", eventbus.Target{InputPath: "$.detail.order.lines[0]"}, `{"sku":"s1"}`},
		{"InputPath whole", eventbus.Target{InputPath: "$"}, "ENVELOPE"},
		{"InputPath missing", eventbus.Target{InputPath: "$.detail.not-there"}, ""},
		{"simple string", tmpl(`"instance <instance> is in <state>"`), `"instance i-0123456789 is in RUNNING"`},
		{"string with escaped quotes", tmpl(`"instance \"<instance>\" is in <state>"`), `"instance \"i-0123456789\" is in RUNNING"`},
		{"plain text", tmpl(`<instance> is in state <state>`), `i-0123456789 is in state RUNNING`},
		{"string with missing path", tmpl(`"Event of <dt> type, at time <time>, info extracted from detail <missing>"`),
			`"Event of Instance Changed type, at time 2024-05-06T07:08:09Z, info extracted from detail "`},
		{"simple JSON", tmpl(`{"instance" : <instance>, "state": <state>}`), `{"instance":"i-0123456789","state":"RUNNING"}`},
		{"JSON with strings and variables", tmpl(`{
				"instance" : <instance>,
				"state": "<state>",
				"instanceStatus": "instance \"<instance>\" is in <state>"
			}`), `{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \"i-0123456789\" is in RUNNING"}`},
		{"JSON mix of variables and constants", tmpl(`{"instance": <instance>, "state": [9, <state>, true], "Transformed": "Yes"}`),
			`{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}`},
		{"JSON values of every type", tmpl(`{"n": <n>, "ok": <ok>, "none": <none>, "tags": <tags>, "order": <order>, "sku": <sku>}`),
			`{"n":7,"ok":true,"none":null,"tags":["a","b"],"order":{"id":"o-1","lines":[{"sku":"s1"},{"sku":"s2"}]},"sku":"s2"}`},
		{"JSON non-strings inside quotes", tmpl(`{"text": "<n> <ok> <none>"}`), `{"text":"7 true null"}`},
		{"an array inside quotes is not escaped", tmpl(`{"text": "<tags>"}`), `{"text":"["a","b"]"}`},
		{"JSON with missing path", tmpl(`{"detailType": <dt>, "time": <time>, "command": <missing>, "text": "[<missing>]"}`),
			`{"detailType":"Instance Changed","time":"2024-05-06T07:08:09Z","command":"","text":"[]"}`},
		{"values are not escaped", tmpl(`{"quote": "<quote>"}`), `{"quote":"say "hi""}`},
		{"an unquoted string keeps its JSON escapes", tmpl(`{"quote": <quote>}`), `{"quote":"say \"hi\""}`},
		{"a key written with escapes", tmpl(`"<key>"`), `"escaped key"`},
		{"JSON array template", tmpl(`[<instance>, <n>]`), `["i-0123456789",7]`},
		{"predefined in a string", tmplOnly(`"<aws.events.rule-name> triggered by <aws.events.rule-arn> at <aws.events.event.ingestion-time>"`),
			`"transform triggered by arn:aws:events:us-east-1:000000000000:rule/transforms/transform at 2000-01-01T00:00:00Z"`},
		{"predefined in JSON", tmplOnly(`{"ruleArn": <aws.events.rule-arn>, "ruleName": <aws.events.rule-name>, "at": <aws.events.event.ingestion-time>}`),
			`{"ruleArn":"arn:aws:events:us-east-1:000000000000:rule/transforms/transform","ruleName":"transform","at":"2000-01-01T00:00:00Z"}`},
		{"original event", tmplOnly(`{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}`),
			`{"originalEvent":ENVELOPE_NO_DETAIL,"originalEventJson":ENVELOPE}`},
		{"angle brackets that are not placeholders", tmpl(`"a < b and <state> > c"`), `"a < b and RUNNING > c"`},
	}
	synctest.Test(t, func(t *testing.T) {
		b, err := memory.NewBus("transforms", memory.BusOptions{})
		require.NoError(t, err)
		defer b.Close()
		require.NoError(t, b.PutRule(ctx, eventbus.Rule{Name: "transform", EventPattern: `{"source":["aws.ec2"]}`}))
		for i, tc := range tests {
			q := newQueue(t, fmt.Sprintf("transform%d", i), memory.QueueOptions{})
			ts, err := b.ListTargets(ctx, "transform")
			require.NoError(t, err)
			for _, old := range ts {
				require.NoError(t, b.RemoveTargets(ctx, "transform", old.ID))
			}
			tg := tc.target
			tg.ID, tg.Queue = fmt.Sprint("t", i), q
			require.NoError(t, b.PutTargets(ctx, "transform", tg), tc.name)
			e := &eventbus.Event{Source: "aws.ec2", DetailType: "Instance Changed", Detail: json.RawMessage(detail),
				Time: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), Resources: []string{"arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789"}}
			require.NoError(t, b.Put(ctx, e))
			envelope := `{"version":"0","id":"` + e.ID + `","detail-type":"Instance Changed","source":"aws.ec2","account":"000000000000",` +
				`"time":"2024-05-06T07:08:09Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789"]`
			want := tc.want
			switch want {
			case "ENVELOPE":
				want = envelope + `,"detail":` + detail + `}`
			case "":
			default:
				want = strings.ReplaceAll(want, "ENVELOPE_NO_DETAIL", envelope+`}`)
				want = strings.ReplaceAll(want, "ENVELOPE", envelope+`,"detail":`+detail+`}`)
			}
			got := drainBodies(t, q)
			if want == "" {
				assert.Empty(t, got, tc.name)
				continue
			}
			if assert.Len(t, got, 1, tc.name) {
				assert.Equal(t, want, got[0], tc.name)
			}
		}
	})
}

func tmpl(template string) eventbus.Target {
	return eventbus.Target{InputTransformer: &eventbus.InputTransformer{
		InputPathsMap: map[string]string{
			"instance": "$.detail.instance-id",
			"state":    "$.detail.state",
			"n":        "$.detail.n",
			"ok":       "$.detail.ok",
			"none":     "$.detail.none",
			"tags":     "$.detail.tags",
			"order":    "$.detail.order",
			"sku":      "$.detail.order.lines[1].sku",
			"quote":    "$.detail.quote",
			"missing":  "$.detail.not-there",
			"time":     "$.time",
			"dt":       "$.detail-type",
			"key":      "$.detail.key",
		},
		InputTemplate: template,
	}}
}

// tmplOnly is a transformer with only predefined variables.
func tmplOnly(template string) eventbus.Target {
	return eventbus.Target{InputTransformer: &eventbus.InputTransformer{InputTemplate: template}}
}

// FuzzBusTransform compiles arbitrary input transformers and input paths
// and renders them against arbitrary events: whatever PutTargets and Put
// accept must be delivered without panicking.
func FuzzBusTransform(f *testing.F) {
	for _, seed := range []struct{ template, path string }{
		{`{"a": <a>, "b": "<a> x"}`, "$.detail.a"},
		{`"text <a> <aws.events.rule-name>"`, "$.detail.list[1]"},
		{`[<a>, <aws.events.event>, <aws.events.event.json>]`, "$"},
		{`<a> < > <b <a>>`, "$.detail"},
		{`{"x": "\"<a>\\"}`, "$.detail.a.b.c"},
		{``, "$."},
	} {
		f.Add(seed.template, seed.path, `{"a":"v\"q","list":[1,{"k":null}],"n":-1.5e3}`)
	}
	f.Fuzz(func(t *testing.T, template, path, detail string) {
		b, err := memory.NewBus("fuzz", memory.BusOptions{})
		require.NoError(t, err)
		defer b.Close()
		q, err := memory.NewQueue("fuzz", memory.QueueOptions{})
		require.NoError(t, err)
		require.NoError(t, b.PutRule(ctx, eventbus.Rule{Name: "r", EventPattern: `{"source":["s"]}`}))
		_ = b.PutTargets(ctx, "r", eventbus.Target{ID: "tmpl", Queue: q, InputTransformer: &eventbus.InputTransformer{
			InputPathsMap: map[string]string{"a": path}, InputTemplate: template}})
		_ = b.PutTargets(ctx, "r", eventbus.Target{ID: "path", Queue: q, InputPath: path})
		err = b.Put(ctx, &eventbus.Event{Source: "s", DetailType: "d", Detail: json.RawMessage(detail)})
		if err != nil {
			require.ErrorIs(t, err, postroom.ErrInvalid)
			return
		}
		for {
			ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, NoWait: true})
			require.NoError(t, err)
			if len(ds) == 0 {
				break
			}
			require.NoError(t, q.Ack(ctx, ds...))
		}
	})
}
