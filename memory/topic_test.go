package memory_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postroom/postroom/backoff"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/pubsub/pubsubtest"
	"github.com/postroom/postroom/queue"
)

var testTopics int

func newTopic(t *testing.T, name string, opts memory.TopicOptions) *memory.Topic {
	t.Helper()
	tp, err := memory.NewTopic(name, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tp.Close() })
	return tp
}

func TestTopicConformance(t *testing.T) {
	var mu sync.Mutex
	pubsubtest.Run(t, pubsubtest.Harness{
		Pkg: "memory",
		New: func(t *testing.T, cfg pubsubtest.Config) pubsub.Topic {
			mu.Lock()
			testTopics++
			name := fmt.Sprintf("topic%d", testTopics)
			mu.Unlock()
			opts := memory.TopicOptions{}
			if cfg.FIFO {
				name += ".fifo"
				opts.ContentBasedDeduplication = true
			}
			tp, err := memory.NewTopic(name, opts)
			require.NoError(t, err)
			return tp
		},
		Invalid: func() (*pubsub.Message, error) {
			return &pubsub.Message{Body: []byte("x"), Subject: "line\nbreak"}, postroom.ErrInvalid
		},
		Caps: pubsubtest.Capabilities{
			Synctest: true, Filter: true, Envelope: true, Durable: true, Attributes: true, FIFO: true, MaxBatch: 10,
		},
	})
}

// subscriber is a queue subscribed to a topic with a filter policy.
type subscriber struct {
	q   *memory.Queue
	sub *memory.Subscription
}

func subscribeQueue(t *testing.T, tp *memory.Topic, name string, opts memory.SubscriptionOptions) subscriber {
	t.Helper()
	q := newQueue(t, name, memory.QueueOptions{})
	s, err := tp.SubscribeQueue(q, opts)
	require.NoError(t, err)
	return subscriber{q, s}
}

func drain(t *testing.T, q *memory.Queue) []string {
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

// TestFilterPolicyFanOut publishes one set of messages to a topic with one
// subscription per operator, on each scope, and checks that every queue got
// exactly what its policy admits.
func TestFilterPolicyFanOut(t *testing.T) {
	type msg struct {
		name  string
		attrs queue.Attributes
		body  string
	}
	msgs := []msg{
		{"red-5", queue.Attributes{"color": queue.String("red"), "size": queue.Int(5), "ip": queue.String("10.0.0.7"), "tags": queue.StringArray("a", "b")}, `{"color":"red","size":5,"ip":"10.0.0.7","tags":["a","b"]}`},
		{"Red-50", queue.Attributes{"color": queue.String("Red"), "size": queue.Int(50), "ip": queue.String("192.168.1.1")}, `{"color":"Red","size":50,"ip":"192.168.1.1"}`},
		{"blue-500", queue.Attributes{"color": queue.String("blue"), "size": queue.Float(500.0), "tags": queue.StringArray("c")}, `{"color":"blue","size":500.0,"tags":["c"]}`},
		{"darkred", queue.Attributes{"color": queue.String("darkred"), "size": queue.String("5")}, `{"color":"darkred","size":"5"}`},
		{"bare", queue.Attributes{"other": queue.Binary([]byte{1})}, `{"other":true}`},
	}
	tests := []struct {
		name   string
		policy string
		want   []string
	}{
		{"exact string", `{"color":["red","blue"]}`, []string{"red-5", "blue-500"}},
		{"exact number", `{"size":[500]}`, []string{"blue-500"}},
		{"prefix", `{"color":[{"prefix":"re"}]}`, []string{"red-5"}},
		{"suffix", `{"color":[{"suffix":"red"}]}`, []string{"red-5", "darkred"}},
		{"equals-ignore-case", `{"color":[{"equals-ignore-case":"RED"}]}`, []string{"red-5", "Red-50"}},
		{"anything-but value", `{"color":[{"anything-but":"red"}]}`, []string{"Red-50", "blue-500", "darkred"}},
		{"anything-but list", `{"color":[{"anything-but":["red","blue"]}]}`, []string{"Red-50", "darkred"}},
		{"anything-but prefix", `{"color":[{"anything-but":{"prefix":"r"}}]}`, []string{"Red-50", "blue-500", "darkred"}},
		{"numeric range", `{"size":[{"numeric":[">",5,"<=",500]}]}`, []string{"Red-50", "blue-500"}},
		{"exists", `{"size":[{"exists":true}]}`, []string{"red-5", "Red-50", "blue-500", "darkred"}},
		{"not exists", `{"size":[{"exists":false}]}`, []string{"bare"}},
		{"cidr", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, []string{"red-5"}},
		{"array intersects", `{"tags":["b","z"]}`, []string{"red-5"}},
		{"or", `{"$or":[{"color":["blue"]},{"size":[{"numeric":["<",10]}]}]}`, []string{"red-5", "blue-500"}},
		{"and of keys", `{"color":[{"prefix":"r"}],"size":[{"numeric":["=",5]}]}`, []string{"red-5"}},
	}
	for _, scope := range []pubsub.Scope{pubsub.ScopeMessageAttributes, pubsub.ScopeMessageBody} {
		t.Run(scope.String(), func(t *testing.T) {
			tp := newTopic(t, "fanout-"+scope.String(), memory.TopicOptions{})
			subs := make([]subscriber, len(tests))
			for i, tc := range tests {
				subs[i] = subscribeQueue(t, tp, fmt.Sprintf("%s-%d", scope, i), memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{FilterPolicy: tc.policy, FilterPolicyScope: scope, RawDelivery: true}})
			}
			for _, m := range msgs {
				pm := &pubsub.Message{Body: []byte(m.name), Attributes: m.attrs}
				if scope == pubsub.ScopeMessageBody {
					pm = &pubsub.Message{Body: []byte(m.body)}
				}
				require.NoError(t, tp.Publish(ctx, pm))
			}
			for i, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					got := drain(t, subs[i].q)
					if scope == pubsub.ScopeMessageBody {
						for j, b := range got {
							for _, m := range msgs {
								if m.body == b {
									got[j] = m.name
								}
							}
						}
					}
					assert.Equal(t, tc.want, got)
				})
			}
		})
	}
}

func TestFilterPolicyErrors(t *testing.T) {
	tp := newTopic(t, "policies", memory.TopicOptions{})
	q := newQueue(t, "policies-q", memory.QueueOptions{})
	for policy, scope := range map[string]pubsub.Scope{
		`{"a":"b"}`:                 pubsub.ScopeMessageAttributes,
		`{"a":[{"wildcard":"x*"}]}`: pubsub.ScopeMessageAttributes,
		`{"a":{"b":["c"]}}`:         pubsub.ScopeMessageAttributes,
		`{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}`: pubsub.ScopeMessageBody,
		`not json`: pubsub.ScopeMessageBody,
	} {
		_, err := tp.SubscribeQueue(q, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{FilterPolicy: policy, FilterPolicyScope: scope}})
		require.ErrorIs(t, err, postroom.ErrInvalid, policy)
		var qe *postroom.Error
		require.ErrorAs(t, err, &qe)
		assert.Equal(t, "InvalidParameter", qe.Code)
	}
	s, err := tp.SubscribeQueue(q, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{FilterPolicy: `{"k":["a"]}`, RawDelivery: true}})
	require.NoError(t, err)
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("b"), Attributes: queue.Attributes{"k": queue.String("b")}}))
	require.NoError(t, s.SetFilterPolicy(ctx, `{"k":["b"]}`, pubsub.ScopeMessageAttributes), "the policy can change later")
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("b again"), Attributes: queue.Attributes{"k": queue.String("b")}}))
	assert.Equal(t, []string{"b again"}, drain(t, q))
}

func TestEnvelope(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp := newTopic(t, "orders", memory.TopicOptions{})
		s := subscribeQueue(t, tp, "env", memory.SubscriptionOptions{})
		m := &pubsub.Message{Body: []byte(`He said "hi" & <left>`), Subject: "greeting",
			Attributes: queue.Attributes{"n": queue.Int(1), "b": queue.Binary([]byte("raw")), "s": queue.String("v")}}
		require.NoError(t, tp.Publish(ctx, m))
		d := recv(t, s.q, 1)[0]

		var doc memory.Notification
		require.NoError(t, json.Unmarshal(d.Body, &doc))
		sig, err := base64.StdEncoding.DecodeString(doc.Signature)
		require.NoError(t, err)
		assert.Len(t, sig, 256, "an RSA-2048-sized signature")

		want := `{"Type":"Notification","MessageId":"` + m.ID + `","TopicArn":"arn:aws:sns:us-east-1:000000000000:orders",` +
			`"Subject":"greeting","Message":"He said \"hi\" & <left>","Timestamp":"2000-01-01T00:00:00.000Z",` +
			`"SignatureVersion":"1","Signature":"` + doc.Signature + `",` +
			`"SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-00000000000000000000000000000000.pem",` +
			`"UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=` + s.sub.ARN() + `",` +
			`"MessageAttributes":{"b":{"Type":"Binary","Value":"cmF3"},"n":{"Type":"Number","Value":"1"},"s":{"Type":"String","Value":"v"}}}`
		assert.Equal(t, want, string(d.Body))

		// Without subject and attributes those fields are left out.
		require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("plain")}))
		d = recv(t, s.q, 1)[0]
		assert.NotContains(t, string(d.Body), `"Subject"`)
		assert.NotContains(t, string(d.Body), `"MessageAttributes"`)

		// A FIFO topic: SequenceNumber, no signature fields.
		ft := newTopic(t, "orders.fifo", memory.TopicOptions{ContentBasedDeduplication: true})
		fq := newQueue(t, "env.fifo", memory.QueueOptions{})
		fs, err := ft.SubscribeQueue(fq, memory.SubscriptionOptions{})
		require.NoError(t, err)
		fm := &pubsub.Message{Body: []byte("ordered"), GroupID: "g1"}
		require.NoError(t, ft.Publish(ctx, fm))
		fd := recv(t, fq, 1)[0]
		assert.Equal(t, `{"Type":"Notification","MessageId":"`+fm.ID+`","SequenceNumber":"00000000000000000001",`+
			`"TopicArn":"arn:aws:sns:us-east-1:000000000000:orders.fifo","Message":"ordered","Timestamp":"2000-01-01T00:00:00.000Z",`+
			`"UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=`+fs.ARN()+`"}`, string(fd.Body))
		assert.Equal(t, "g1", fd.GroupID, "the group id reaches a FIFO queue")
	})
}

func TestRawDelivery(t *testing.T) {
	tp := newTopic(t, "raw", memory.TopicOptions{})
	s := subscribeQueue(t, tp, "raw-q", memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{RawDelivery: true}})
	dlq := newQueue(t, "raw-dlq", memory.QueueOptions{})
	_, err := tp.SubscribeQueue(s.q, memory.SubscriptionOptions{
		SubscribeOptions: pubsub.SubscribeOptions{RawDelivery: true, FilterPolicy: `{"many":[{"exists":true}]}`}, DeadLetter: dlq})
	require.NoError(t, err)
	typed := queue.Attributes{"list": queue.StringArray("a", "b"), "n": queue.Number("3")}
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("as published"), Attributes: typed}))
	d := recv(t, s.q, 1)[0]
	assert.Equal(t, "as published", string(d.Body))
	assert.Equal(t, typed, d.Attributes, "attributes become queue attributes, String.Array included")

	many := attrs(11)
	many["many"] = queue.String("x")
	delete(many, "a0")
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("too many attributes"), Attributes: many}))
	assert.Empty(t, drain(t, s.q), "SQS takes at most 10 attributes: neither raw subscription delivers it")
	assert.Len(t, drain(t, dlq), 1, "raw delivery of more than 10 attributes goes to the dead-letter queue")
}

func TestTopicDeduplication(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp := newTopic(t, "dedup.fifo", memory.TopicOptions{})
		fq := newQueue(t, "dedup-sub.fifo", memory.QueueOptions{})
		sq := newQueue(t, "dedup-std", memory.QueueOptions{})
		_, err := tp.SubscribeQueue(fq, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{RawDelivery: true}})
		require.NoError(t, err)
		_, err = tp.SubscribeQueue(sq, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{RawDelivery: true}})
		require.NoError(t, err, "a FIFO topic delivers to standard queues too")
		pub := func(body string) string {
			m := &pubsub.Message{Body: []byte(body), GroupID: "g", DeduplicationID: "same"}
			require.NoError(t, tp.Publish(ctx, m))
			return m.ID
		}
		first := pub("one")
		assert.Equal(t, first, pub("two"), "a duplicate gets the first message's id")
		time.Sleep(5*time.Minute - time.Millisecond)
		pub("three")
		assert.Equal(t, []string{"one"}, drain(t, fq))
		assert.Equal(t, []string{"one"}, drain(t, sq))
		time.Sleep(time.Millisecond)
		pub("four")
		assert.Equal(t, []string{"four"}, drain(t, fq), "outside the window")
		d := newQueue(t, "dedup-std-2", memory.QueueOptions{})
		std := newTopic(t, "plain", memory.TopicOptions{})
		_, err = std.SubscribeQueue(fq, memory.SubscriptionOptions{})
		assert.ErrorIs(t, err, postroom.ErrInvalid, "a standard topic cannot deliver to a FIFO queue")
		_ = d
	})
}

func TestFuncSubscription(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp := newTopic(t, "lambda", memory.TopicOptions{})
		start := time.Now()
		var mu sync.Mutex
		var calls []time.Duration
		var got *memory.Notification
		_, err := tp.SubscribeFunc(func(ctx context.Context, n *memory.Notification) error {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, time.Since(start))
			if len(calls) < 3 {
				return errors.New("not yet")
			}
			got = n
			return nil
		}, memory.SubscriptionOptions{})
		require.NoError(t, err)
		m := &pubsub.Message{Body: []byte("invoke me"), Subject: "s"}
		require.NoError(t, tp.Publish(ctx, m))
		time.Sleep(time.Hour)
		synctest.Wait()
		mu.Lock()
		assert.Equal(t, []time.Duration{0, time.Minute, 3 * time.Minute}, calls, "two retries, after 1 and 2 minutes")
		require.NotNil(t, got)
		assert.Equal(t, "invoke me", got.Message)
		assert.Equal(t, m.ID, got.MessageID)
		assert.Equal(t, "s", got.Subject)
		mu.Unlock()

		dlq := newQueue(t, "lambda-dlq", memory.QueueOptions{})
		_, err = tp.SubscribeFunc(func(ctx context.Context, n *memory.Notification) error {
			panic("boom")
		}, memory.SubscriptionOptions{DeadLetter: dlq, Retry: memory.FuncRetry{Attempts: 2,
			Backoff: backoff.Func(func(int) time.Duration { return time.Second })}})
		require.NoError(t, err)
		require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("poison")}))
		time.Sleep(2 * time.Second)
		synctest.Wait()
		ds := recv(t, dlq, 10)
		require.Len(t, ds, 1, "a function that keeps failing dead-letters the message")
		assert.Contains(t, ds[0].Attributes.Get("ErrorMessage"), "panicked: boom")
		assert.Contains(t, string(ds[0].Body), `"Message":"poison"`)
	})
}

func TestPublishValidation(t *testing.T) {
	tp := newTopic(t, "valid", memory.TopicOptions{})
	ft := newTopic(t, "valid.fifo", memory.TopicOptions{})
	tests := []struct {
		name     string
		tp       *memory.Topic
		m        *pubsub.Message
		sentinel error
		message  string
	}{
		{"empty", tp, &pubsub.Message{}, postroom.ErrInvalid, "Invalid parameter: Empty message"},
		{"over 256 KiB", tp, &pubsub.Message{Body: bytes.Repeat([]byte("x"), 256<<10+1)}, postroom.ErrTooLarge, "Invalid parameter: Message too long"},
		{"attributes count toward the size", tp, &pubsub.Message{Body: bytes.Repeat([]byte("x"), 256<<10-5), Attributes: queue.Attributes{"k": queue.String("v")}}, postroom.ErrTooLarge, "Invalid parameter: Message too long"},
		{"subject with a line break", tp, &pubsub.Message{Body: []byte("x"), Subject: "a\nb"}, postroom.ErrInvalid, "Invalid parameter: Subject"},
		{"subject too long", tp, &pubsub.Message{Body: []byte("x"), Subject: strings.Repeat("s", 100)}, postroom.ErrInvalid, "Invalid parameter: Subject"},
		{"bad string array", tp, &pubsub.Message{Body: []byte("x"), Attributes: queue.Attributes{"l": {Type: "String.Array", Value: `[{"a":1}]`}}}, postroom.ErrInvalid,
			"Invalid parameter: MessageAttributes Reason: Message attribute 'l' with type 'String.Array' must be a JSON array of strings, numbers, booleans or null."},
		{"fifo without group", ft, &pubsub.Message{Body: []byte("x"), DeduplicationID: "d"}, postroom.ErrInvalid, "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"},
		{"fifo without deduplication", ft, &pubsub.Message{Body: []byte("x"), GroupID: "g"}, postroom.ErrInvalid,
			"Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := postroom.EntryErr(tc.tp.Publish(ctx, tc.m), 0)
			sqsError(t, err, tc.sentinel, "InvalidParameter", tc.message)
		})
	}
	big, err := memory.NewTopic("big", memory.TopicOptions{MaxMessageSize: 1 << 20})
	require.NoError(t, err)
	require.NoError(t, big.Publish(ctx, &pubsub.Message{Body: bytes.Repeat([]byte("x"), 1<<20)}), "configurable up to 1 MiB")
	_, err = memory.NewTopic("bigger", memory.TopicOptions{MaxMessageSize: 1<<20 + 1})
	require.ErrorIs(t, err, postroom.ErrInvalid)
}
