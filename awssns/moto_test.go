package awssns_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/awssns"
	"github.com/postroom/postroom/internal/testsupport/awstest"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

func receiveOne(t *testing.T, sub pubsub.Subscription) *queue.Delivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ds, err := sub.Receive(context.Background(), queue.ReceiveOptions{WaitTime: 2 * time.Second})
		require.NoError(t, err)
		if len(ds) > 0 {
			require.NoError(t, sub.Ack(context.Background(), ds...))
			return ds[0]
		}
	}
	t.Fatal("no message")
	return nil
}

// The envelope moto delivers unwraps into the published body, subject and
// typed attributes.
func TestUnwrapMotoEnvelope(t *testing.T) {
	cfg := awstest.Moto(t)
	tp := newTopic(t, sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg), false)
	sub, err := tp.Subscribe(context.Background(), pubsub.SubscribeOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Close() })
	m := &pubsub.Message{Body: []byte(`{"order":7}`), Subject: "new order",
		Attributes: queue.Attributes{"amount": queue.Int(42), "kind": queue.String("order"), "tags": queue.StringArray("a", "b")}}
	require.NoError(t, tp.Publish(context.Background(), m))
	d := receiveOne(t, sub)

	u, env, err := awssns.Unwrap(context.Background(), d, awssns.UnwrapOptions{TopicARN: tp.ARN()})
	require.NoError(t, err)
	require.NotNil(t, env, "moto's body is an envelope")
	assert.Equal(t, `{"order":7}`, string(u.Body))
	assert.Equal(t, "new order", env.Subject)
	assert.Equal(t, m.ID, u.ID)
	assert.Equal(t, queue.Number("42"), u.Attributes["amount"])
	assert.Equal(t, queue.String("order"), u.Attributes["kind"])
	assert.Equal(t, queue.TypeStringArray, u.Attributes["tags"].Type)
	assert.JSONEq(t, `["a","b"]`, u.Attributes["tags"].Value)
}

// Subscribing merges the topic's permission into a queue policy that
// exists, keeping its statements.
func TestSubscribeMergesQueuePolicyMoto(t *testing.T) {
	cfg := awstest.Moto(t)
	sc, qc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	tp := newTopic(t, sc, qc, false)
	ctx := context.Background()
	name := "pr-policy-" + time.Now().Format("150405.000000")
	name = name[:len(name)-7] + name[len(name)-6:]
	existing := `{"Version":"2012-10-17","Statement":[{"Sid":"keep-me","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sqs:ReceiveMessage","Resource":"*"}]}`
	out, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: map[string]string{"Policy": existing}})
	require.NoError(t, err)
	sub, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{Name: name, RawDelivery: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.(pubsub.Unsubscriber).Unsubscribe(context.Background()) })

	attrs, err := qc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"Policy"}})
	require.NoError(t, err)
	var doc struct{ Statement []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(attrs.Attributes["Policy"]), &doc))
	require.Len(t, doc.Statement, 2)
	assert.Equal(t, "keep-me", doc.Statement[0]["Sid"])
	assert.Equal(t, "sqs:SendMessage", doc.Statement[1]["Action"])

	require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte("through")}))
	assert.Equal(t, "through", string(receiveOne(t, sub).Body))

}
