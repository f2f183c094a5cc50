package awseventbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
)

// fake answers PutEvents positionally; fail decides an entry's error code.
type fake struct {
	api                   // the methods the tests do not call panic
	latency time.Duration // how long a PutEvents call takes
	mu      sync.Mutex
	calls   [][]string // DetailType of each call's entries
	tries   map[string]int
	fail    func(dt string, attempt int) string
}

func (f *fake) DescribeEventBus(_ context.Context, in *eventbridge.DescribeEventBusInput, _ ...func(*eventbridge.Options)) (*eventbridge.DescribeEventBusOutput, error) {
	return &eventbridge.DescribeEventBusOutput{Name: in.Name, Arn: aws.String("arn:aws:events:us-east-1:123456789012:event-bus/" + aws.ToString(in.Name))}, nil
}

func (f *fake) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	time.Sleep(f.latency)
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &eventbridge.PutEventsOutput{}
	var dts []string
	for _, e := range in.Entries {
		dt := aws.ToString(e.DetailType)
		dts = append(dts, dt)
		attempt := f.tries[dt]
		f.tries[dt]++
		if code := f.fail(dt, attempt); code != "" {
			out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("no")})
			out.FailedEntryCount++
			continue
		}
		out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String("id-" + dt)})
	}
	f.calls = append(f.calls, dts)
	return out, nil
}

func newFake(fail func(string, int) string) *fake {
	if fail == nil {
		fail = func(string, int) string { return "" }
	}
	return &fake{tries: map[string]int{}, fail: fail}
}

func tenEvents() []*eventbus.Event {
	es := make([]*eventbus.Event, 10)
	for i := range es {
		es[i] = &eventbus.Event{Source: "s", DetailType: fmt.Sprint("e", i), Detail: json.RawMessage(`{}`)}
	}
	return es
}

func TestPutRetriesOnlyThrottledEntries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(func(dt string, attempt int) string {
			switch {
			case (dt == "e3" || dt == "e7") && attempt == 0:
				return "ThrottlingException"
			case dt == "e5":
				return "MalformedDetail"
			}
			return ""
		})
		b, err := open(context.Background(), f, "orders", Options{})
		require.NoError(t, err)
		es := tenEvents()
		err = b.Put(context.Background(), es...)
		var be *postroom.BatchError
		require.ErrorAs(t, err, &be)
		assert.Equal(t, []int{5}, be.Failed(), "the non-retryable entry is reported")
		assert.ErrorIs(t, be.Errs[5], postroom.ErrInvalid)
		require.Len(t, f.calls, 2)
		assert.Equal(t, []string{"e3", "e7"}, f.calls[1], "only the throttled entries are put again")
		assert.Equal(t, "id-e3", es[3].ID)
		assert.Equal(t, 1, f.tries["e0"])
		assert.Equal(t, 1, f.tries["e5"], "a malformed entry is not retried")
	})
}

func TestPutCoalescesSingleEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(nil)
		f.latency = time.Millisecond
		b, err := open(context.Background(), f, "orders", Options{})
		require.NoError(t, err)
		var wg sync.WaitGroup
		for i := range 25 {
			wg.Go(func() {
				e := &eventbus.Event{Source: "s", DetailType: fmt.Sprint("e", i), Detail: json.RawMessage(`{}`)}
				assert.NoError(t, b.Put(context.Background(), e))
				assert.Equal(t, fmt.Sprint("id-e", i), e.ID)
			})
		}
		wg.Wait()
		// The first Put, alone, is made at once; the 24 others wait for
		// each other while it is in flight.
		assert.LessOrEqual(t, len(f.calls), 4, "25 concurrent Puts in calls of 10: %v", f.calls)
		n := 0
		for _, c := range f.calls {
			assert.LessOrEqual(t, len(c), MaxBatch)
			n += len(c)
		}
		assert.Equal(t, 25, n)
	})
}

func TestPutSizeAndCount(t *testing.T) {
	f := newFake(nil)
	b, err := open(context.Background(), f, "orders", Options{MaxEntrySize: 100})
	require.NoError(t, err)
	assert.ErrorIs(t, b.Put(context.Background()), postroom.ErrTooManyEntries)
	assert.ErrorIs(t, b.Put(context.Background(), append(tenEvents(), tenEvents()[0])...), postroom.ErrTooManyEntries)
	e := &eventbus.Event{Source: "src", DetailType: "dt", Detail: json.RawMessage(`{"pad":"` + string(make([]byte, 0)) + `"}`), Resources: []string{"r1"}}
	assert.Equal(t, 3+2+len(`{"pad":""}`)+2, EntrySize(e))
	e.Time = time.Now()
	assert.Equal(t, 3+2+len(`{"pad":""}`)+2+14, EntrySize(e), "a Time counts 14 bytes")
	big := &eventbus.Event{Source: "s", DetailType: "d", Detail: json.RawMessage(`{"x":"` + string(make([]byte, 100)) + `"}`)}
	assert.ErrorIs(t, b.Put(context.Background(), big), postroom.ErrTooLarge)
	assert.Empty(t, f.calls, "nothing put")
}

func TestTargetConversion(t *testing.T) {
	n := 4
	bt, err := toTarget("put targets", 0, eventbus.Target{ID: "t1", ARN: "arn:aws:sqs:us-east-1:1:q", MessageGroupID: "g",
		InputTransformer: &eventbus.InputTransformer{InputPathsMap: map[string]string{"id": "$.detail.id"}, InputTemplate: `{"id": <id>, "rule": <aws.events.rule-name>}`},
		RetryPolicy:      eventbus.RetryPolicy{MaximumRetryAttempts: &n, MaximumEventAge: time.Hour}})
	require.NoError(t, err)
	assert.Equal(t, "g", aws.ToString(bt.SqsParameters.MessageGroupId))
	assert.Equal(t, int32(4), aws.ToInt32(bt.RetryPolicy.MaximumRetryAttempts))
	assert.Equal(t, int32(3600), aws.ToInt32(bt.RetryPolicy.MaximumEventAgeInSeconds))

	for name, tg := range map[string]eventbus.Target{
		"bad id":      {ID: "a b", ARN: "arn"},
		"no arn":      {ID: "t"},
		"two inputs":  {ID: "t", ARN: "arn", Input: `{}`, InputPath: "$.detail"},
		"placeholder": {ID: "t", ARN: "arn", InputTransformer: &eventbus.InputTransformer{InputTemplate: `"<nope>"`}},
		"input json":  {ID: "t", ARN: "arn", Input: `{`},
	} {
		_, err := toTarget("put targets", 0, tg)
		assert.ErrorIs(t, err, postroom.ErrInvalid, name)
	}
	_, err = toTarget("put targets", 0, eventbus.Target{ID: "f", Func: func(context.Context, []byte) error { return nil }})
	assert.ErrorIs(t, err, postroom.ErrUnsupported)
}
