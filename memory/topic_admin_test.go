package memory_test

import (
	"context"
	"testing"

	"github.com/postroom/postroom"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

func TestTopicAttributesAndTags(t *testing.T) {
	tp, err := memory.NewTopic("admin-attrs.fifo", memory.TopicOptions{})
	require.NoError(t, err)
	defer tp.Close()

	a := tp.Attributes()
	assert.Equal(t, tp.ARN(), a["TopicArn"])
	assert.Equal(t, "000000000000", a["Owner"])
	assert.Equal(t, "true", a["FifoTopic"])
	assert.Equal(t, "false", a["ContentBasedDeduplication"])
	assert.Equal(t, "0", a["SubscriptionsConfirmed"])
	assert.Contains(t, a["Policy"], tp.ARN())

	require.NoError(t, tp.SetAttribute("DisplayName", "Orders"))
	require.NoError(t, tp.SetAttribute("ContentBasedDeduplication", "true"))
	err = tp.SetAttribute("TopicArn", "x")
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	err = tp.SetAttribute("FifoThroughputScope", "Account")
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	a = tp.Attributes()
	assert.Equal(t, "Orders", a["DisplayName"])
	assert.Equal(t, "true", a["ContentBasedDeduplication"])

	// Content-based deduplication now applies to publishes.
	q, err := memory.NewQueue("admin-attrs-q.fifo", memory.QueueOptions{ContentBasedDeduplication: true})
	require.NoError(t, err)
	defer q.Close()
	_, err = tp.SubscribeQueue(q, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{RawDelivery: true}})
	require.NoError(t, err)
	for range 2 {
		require.NoError(t, tp.Publish(t.Context(), &pubsub.Message{Body: []byte("same"), GroupID: "g"}))
	}
	ds, err := q.Receive(t.Context(), queue.ReceiveOptions{MaxMessages: 10})
	require.NoError(t, err)
	assert.Len(t, ds, 1)

	require.NoError(t, tp.Tag(map[string]string{"env": "dev", "team": "a"}))
	tp.Untag("team", "absent")
	assert.Equal(t, map[string]string{"env": "dev"}, tp.Tags())
	many := map[string]string{}
	for i := range 50 {
		many[string(rune('A'+i%26))+string(rune('a'+i/26))] = "v"
	}
	err = tp.Tag(many)
	var qe *postroom.Error
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, "TagLimitExceeded", qe.Code)
}

func TestTopicEndpointSubscriptions(t *testing.T) {
	tp, err := memory.NewTopic("admin-endpoints", memory.TopicOptions{})
	require.NoError(t, err)
	defer tp.Close()

	info, token, err := tp.SubscribeEndpoint("https", "https://example.com/hook", map[string]string{"FilterPolicy": `{"kind":["a"]}`})
	require.NoError(t, err)
	assert.True(t, info.Pending)
	assert.NotEmpty(t, token)
	assert.Equal(t, "true", info.Attributes["PendingConfirmation"])
	assert.Equal(t, "MessageAttributes", info.Attributes["FilterPolicyScope"])
	again, _, err := tp.SubscribeEndpoint("https", "https://example.com/hook", nil)
	require.NoError(t, err)
	assert.Equal(t, info.ARN, again.ARN, "subscribing an endpoint again returns its subscription")

	sms, token2, err := tp.SubscribeEndpoint("sms", "+15555550100", nil)
	require.NoError(t, err)
	assert.False(t, sms.Pending)
	assert.Empty(t, token2)

	_, _, err = tp.SubscribeEndpoint("http", "ftp://x", nil)
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	_, _, err = tp.SubscribeEndpoint("carrier-pigeon", "x", nil)
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	_, _, err = tp.SubscribeEndpoint("email", "a@example.com", map[string]string{"FilterPolicy": `{"kind":"a"}`})
	assert.ErrorIs(t, err, postroom.ErrInvalid)

	a := tp.Attributes()
	assert.Equal(t, "1", a["SubscriptionsPending"])
	assert.Equal(t, "1", a["SubscriptionsConfirmed"])

	_, err = tp.ConfirmSubscription("bad")
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	arn, err := tp.ConfirmSubscription(token)
	require.NoError(t, err)
	assert.Equal(t, info.ARN, arn)
	got, ok := tp.SubscriptionInfo(arn)
	require.True(t, ok)
	assert.False(t, got.Pending)

	require.NoError(t, tp.SetSubscriptionAttribute(arn, "RawMessageDelivery", "true", nil))
	got, _ = tp.SubscriptionInfo(arn)
	assert.Equal(t, "true", got.Attributes["RawMessageDelivery"])

	assert.Len(t, tp.Subscriptions(), 2)
	require.NoError(t, tp.UnsubscribeARN(arn))
	assert.ErrorIs(t, tp.UnsubscribeARN(arn), postroom.ErrNotFound)
	assert.Len(t, tp.Subscriptions(), 1)
	assert.Equal(t, "1", tp.Attributes()["SubscriptionsDeleted"])
}

func TestSetSubscriptionAttributeChangesDelivery(t *testing.T) {
	ctx := context.Background()
	tp, err := memory.NewTopic("admin-subattrs", memory.TopicOptions{})
	require.NoError(t, err)
	defer tp.Close()
	q, err := memory.NewQueue("admin-subattrs-q", memory.QueueOptions{})
	require.NoError(t, err)
	defer q.Close()
	dlq, err := memory.NewQueue("admin-subattrs-dlq", memory.QueueOptions{})
	require.NoError(t, err)
	defer dlq.Close()
	sub, err := tp.SubscribeQueue(q, memory.SubscriptionOptions{})
	require.NoError(t, err)
	arn := sub.ARN()

	recv := func(q *memory.Queue) []string {
		ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10})
		require.NoError(t, err)
		var out []string
		for _, d := range ds {
			out = append(out, string(d.Body))
			require.NoError(t, q.Ack(ctx, d))
		}
		return out
	}

	require.NoError(t, tp.SetSubscriptionAttribute(arn, "RawMessageDelivery", "true", nil))
	require.NoError(t, tp.SetSubscriptionAttribute(arn, "FilterPolicyScope", "MessageBody", nil))
	require.NoError(t, tp.SetSubscriptionAttribute(arn, "FilterPolicy", `{"kind":["a"]}`, nil))
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte(`{"kind":"a"}`)}, &pubsub.Message{Body: []byte(`{"kind":"b"}`)}))
	assert.Equal(t, []string{`{"kind":"a"}`}, recv(q))

	info, ok := tp.SubscriptionInfo(arn)
	require.True(t, ok)
	assert.Equal(t, `{"kind":["a"]}`, info.Attributes["FilterPolicy"])
	assert.Equal(t, "MessageBody", info.Attributes["FilterPolicyScope"])
	assert.Equal(t, "sqs", info.Protocol)
	assert.Equal(t, q.ARN(), info.Endpoint)

	err = tp.SetSubscriptionAttribute(arn, "FilterPolicy", `{"kind":"a"}`, nil)
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	assert.ErrorIs(t, tp.SetSubscriptionAttribute(arn, "Nope", "x", nil), postroom.ErrInvalid)
	assert.ErrorIs(t, tp.SetSubscriptionAttribute(tp.ARN()+":missing", "RawMessageDelivery", "true", nil), postroom.ErrNotFound)

	// A redrive policy sends what cannot be delivered to its queue: a raw
	// delivery of more than 10 attributes.
	require.NoError(t, tp.SetSubscriptionAttribute(arn, "FilterPolicy", "", nil))
	require.NoError(t, tp.SetSubscriptionAttribute(arn, "RedrivePolicy", `{"deadLetterTargetArn":"`+dlq.ARN()+`"}`, dlq))
	attrs := queue.Attributes{}
	for i := range 11 {
		attrs[string(rune('a'+i))] = queue.String("v")
	}
	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("big"), Attributes: attrs}))
	assert.Empty(t, recv(q))
	assert.Len(t, recv(dlq), 1)
	info, _ = tp.SubscriptionInfo(arn)
	assert.Contains(t, info.Attributes["RedrivePolicy"], dlq.ARN())

	// The Subscription obtained before the changes still unsubscribes.
	require.NoError(t, sub.Unsubscribe(ctx))
	assert.Empty(t, tp.Subscriptions())
}

// TestSetSubscriptionAttributeDuringPublish changes a subscription while
// messages are published: each message is delivered exactly once, raw or
// in the envelope, never lost to the swap.
func TestSetSubscriptionAttributeDuringPublish(t *testing.T) {
	ctx := context.Background()
	tp, err := memory.NewTopic("admin-race", memory.TopicOptions{})
	require.NoError(t, err)
	defer tp.Close()
	q, err := memory.NewQueue("admin-race-q", memory.QueueOptions{})
	require.NoError(t, err)
	defer q.Close()
	sub, err := tp.SubscribeQueue(q, memory.SubscriptionOptions{})
	require.NoError(t, err)

	const n = 200
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n {
			if err := tp.Publish(ctx, &pubsub.Message{Body: []byte("m")}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	raw := false
	for range 50 {
		raw = !raw
		require.NoError(t, tp.SetSubscriptionAttribute(sub.ARN(), "RawMessageDelivery", map[bool]string{true: "true", false: "false"}[raw], nil))
	}
	<-done
	got := 0
	for {
		ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10})
		require.NoError(t, err)
		if len(ds) == 0 {
			break
		}
		got += len(ds)
		require.NoError(t, q.Ack(ctx, ds...))
	}
	assert.Equal(t, n, got)
}
