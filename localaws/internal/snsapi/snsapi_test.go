package snsapi_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/localaws/internal/snsapi"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// router is a tiny stand-in for the endpoint's router: SNS Query requests
// to Serve.
func router(w *memory.World) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		if r.PostForm.Get("Version") != "2010-03-31" {
			http.Error(rw, "not sns", http.StatusBadRequest)
			return
		}
		snsapi.Serve(r.Context(), rw, r, r.PostForm, w, "us-east-1", "000000000000")
	})
}

func setup(t *testing.T) (*sns.Client, *memory.World, *httptest.Server) {
	t.Helper()
	w := memory.NewWorld(memory.WorldOptions{})
	srv := httptest.NewServer(router(w))
	t.Cleanup(func() { srv.Close(); w.Close() })
	c := sns.New(sns.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
	})
	return c, w, srv
}

func receive(t *testing.T, q *memory.Queue) []*queue.Delivery {
	t.Helper()
	ds, err := q.Receive(t.Context(), queue.ReceiveOptions{MaxMessages: 10})
	require.NoError(t, err)
	for _, d := range ds {
		require.NoError(t, q.Ack(t.Context(), d))
	}
	return ds
}

func TestTopicLifecycle(t *testing.T) {
	c, _, _ := setup(t)
	ctx := t.Context()
	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events"),
		Attributes: map[string]string{"DisplayName": "Events"}, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}})
	require.NoError(t, err)
	arn := aws.ToString(out.TopicArn)
	assert.Equal(t, "arn:aws:sns:us-east-1:000000000000:events", arn)

	again, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
	require.NoError(t, err, "CreateTopic is idempotent")
	assert.Equal(t, arn, aws.ToString(again.TopicArn))
	_, err = c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events"), Attributes: map[string]string{"DisplayName": "Other"}})
	var ip *types.InvalidParameterException
	require.ErrorAs(t, err, &ip)

	ga, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn})
	require.NoError(t, err)
	assert.Equal(t, "Events", ga.Attributes["DisplayName"])
	assert.Equal(t, arn, ga.Attributes["TopicArn"])
	assert.Equal(t, "000000000000", ga.Attributes["Owner"])
	_, err = c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: out.TopicArn, AttributeName: aws.String("DisplayName"), AttributeValue: aws.String("New <&> name")})
	require.NoError(t, err)
	ga, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn})
	require.NoError(t, err)
	assert.Equal(t, "New <&> name", ga.Attributes["DisplayName"])
	_, err = c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: out.TopicArn, AttributeName: aws.String("Bogus"), AttributeValue: aws.String("x")})
	require.ErrorAs(t, err, &ip)

	tags, err := c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: out.TopicArn})
	require.NoError(t, err)
	require.Len(t, tags.Tags, 1)
	assert.Equal(t, "env", aws.ToString(tags.Tags[0].Key))
	_, err = c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: out.TopicArn, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	require.NoError(t, err)
	_, err = c.UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: out.TopicArn, TagKeys: []string{"env"}})
	require.NoError(t, err)
	tags, err = c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: out.TopicArn})
	require.NoError(t, err)
	require.Len(t, tags.Tags, 1)
	assert.Equal(t, "team", aws.ToString(tags.Tags[0].Key))

	for i := range 150 {
		_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)))})
		require.NoError(t, err)
	}
	var all []string
	pages := 0
	p := sns.NewListTopicsPaginator(c, &sns.ListTopicsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, tp := range page.Topics {
			all = append(all, aws.ToString(tp.TopicArn))
		}
	}
	assert.Len(t, all, 151)
	assert.Equal(t, 2, pages)

	_, err = c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: out.TopicArn})
	require.NoError(t, err)
	_, err = c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: out.TopicArn})
	require.NoError(t, err, "DeleteTopic is idempotent")
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn})
	var nf *types.NotFoundException
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "NotFound", nf.ErrorCode())
}

func TestSubscribeQueuePublishEnvelope(t *testing.T) {
	c, w, _ := setup(t)
	ctx := t.Context()
	q, err := w.NewQueue("orders", memory.QueueOptions{})
	require.NoError(t, err)
	tp, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
	require.NoError(t, err)

	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(q.ARN()),
		Attributes: map[string]string{"FilterPolicy": `{"kind":["created"]}`}, ReturnSubscriptionArn: true})
	require.NoError(t, err)
	subARN := aws.ToString(sub.SubscriptionArn)
	assert.True(t, strings.HasPrefix(subARN, aws.ToString(tp.TopicArn)+":"), subARN)

	attrs := map[string]types.MessageAttributeValue{
		"kind": {DataType: aws.String("String"), StringValue: aws.String("created")},
		"n":    {DataType: aws.String("Number"), StringValue: aws.String("7")},
		"bin":  {DataType: aws.String("Binary"), BinaryValue: []byte("hi")},
		"tags": {DataType: aws.String("String.Array"), StringValue: aws.String(`["a","b"]`)},
	}
	pub, err := c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String(`{"id":1}`), Subject: aws.String("subj"), MessageAttributes: attrs})
	require.NoError(t, err)
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String("filtered out"),
		MessageAttributes: map[string]types.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("deleted")}}})
	require.NoError(t, err)

	ds := receive(t, q)
	require.Len(t, ds, 1)
	var env struct {
		Type, MessageId, TopicArn, Subject, Message, UnsubscribeURL string
		MessageAttributes                                           map[string]struct{ Type, Value string }
	}
	require.NoError(t, json.Unmarshal(ds[0].Body, &env))
	assert.Equal(t, "Notification", env.Type)
	assert.Equal(t, aws.ToString(pub.MessageId), env.MessageId)
	assert.Equal(t, aws.ToString(tp.TopicArn), env.TopicArn)
	assert.Equal(t, "subj", env.Subject)
	assert.Equal(t, `{"id":1}`, env.Message)
	assert.Equal(t, "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="+subARN, env.UnsubscribeURL)
	assert.Equal(t, "Binary", env.MessageAttributes["bin"].Type)
	assert.Equal(t, "aGk=", env.MessageAttributes["bin"].Value)
	assert.Equal(t, "Number", env.MessageAttributes["n"].Type)
	assert.Equal(t, `["a","b"]`, env.MessageAttributes["tags"].Value)

	// Raw delivery and a body filter, set afterwards.
	for k, v := range map[string]string{"RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody", "FilterPolicy": `{"id":[2]}`} {
		_, err = c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn, AttributeName: aws.String(k), AttributeValue: aws.String(v)})
		require.NoError(t, err, k)
	}
	ga, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn})
	require.NoError(t, err)
	assert.Equal(t, "true", ga.Attributes["RawMessageDelivery"])
	assert.Equal(t, "MessageBody", ga.Attributes["FilterPolicyScope"])
	assert.Equal(t, `{"id":[2]}`, ga.Attributes["FilterPolicy"])
	assert.Equal(t, "sqs", ga.Attributes["Protocol"])
	assert.Equal(t, q.ARN(), ga.Attributes["Endpoint"])
	assert.Equal(t, "false", ga.Attributes["PendingConfirmation"])

	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String(`{"id":1}`)})
	require.NoError(t, err)
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String(`{"id":2}`),
		MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}})
	require.NoError(t, err)
	ds = receive(t, q)
	require.Len(t, ds, 1)
	assert.Equal(t, `{"id":2}`, string(ds[0].Body))
	assert.Equal(t, "v", ds[0].Attributes.Get("k"))

	lst, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: tp.TopicArn})
	require.NoError(t, err)
	require.Len(t, lst.Subscriptions, 1)
	assert.Equal(t, subARN, aws.ToString(lst.Subscriptions[0].SubscriptionArn))
	assert.Equal(t, q.ARN(), aws.ToString(lst.Subscriptions[0].Endpoint))
	assert.Equal(t, "000000000000", aws.ToString(lst.Subscriptions[0].Owner))
	all, err := c.ListSubscriptions(ctx, &sns.ListSubscriptionsInput{})
	require.NoError(t, err)
	assert.Len(t, all.Subscriptions, 1)

	_, err = c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: sub.SubscriptionArn})
	require.NoError(t, err)
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String(`{"id":2}`)})
	require.NoError(t, err)
	assert.Empty(t, receive(t, q))
	_, err = c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn})
	var nf *types.NotFoundException
	require.ErrorAs(t, err, &nf)
}

func TestPublishMessageStructureJSON(t *testing.T) {
	c, w, _ := setup(t)
	ctx := t.Context()
	q, err := w.NewQueue("structured", memory.QueueOptions{})
	require.NoError(t, err)
	tp, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
	require.NoError(t, err)
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(q.ARN()),
		Attributes: map[string]string{"RawMessageDelivery": "true"}})
	require.NoError(t, err)
	for _, m := range []string{`{"default":"d","sqs":"for sqs","email":"e"}`, `{"default":"only default"}`} {
		_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String(m), MessageStructure: aws.String("json")})
		require.NoError(t, err)
	}
	ds := receive(t, q)
	require.Len(t, ds, 2)
	assert.Equal(t, "for sqs", string(ds[0].Body))
	assert.Equal(t, "only default", string(ds[1].Body))
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String(`{"sqs":"x"}`), MessageStructure: aws.String("json")})
	var ip *types.InvalidParameterException
	require.ErrorAs(t, err, &ip)
	assert.Contains(t, ip.ErrorMessage(), "No default entry")
}

func TestSubscriptionRedrivePolicy(t *testing.T) {
	c, w, _ := setup(t)
	ctx := t.Context()
	q, err := w.NewQueue("raw", memory.QueueOptions{})
	require.NoError(t, err)
	dlq, err := w.NewQueue("raw-dlq", memory.QueueOptions{})
	require.NoError(t, err)
	tp, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
	require.NoError(t, err)
	policy := `{"deadLetterTargetArn":"` + dlq.ARN() + `"}`
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(q.ARN()),
		Attributes: map[string]string{"RawMessageDelivery": "true", "RedrivePolicy": policy}, ReturnSubscriptionArn: true})
	require.NoError(t, err)
	ga, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn})
	require.NoError(t, err)
	assert.Equal(t, policy, ga.Attributes["RedrivePolicy"])

	// Raw delivery takes at most 10 attributes: the 11-attribute message
	// goes to the dead-letter queue.
	attrs := map[string]types.MessageAttributeValue{}
	for i := range 11 {
		attrs[string(rune('a'+i))] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("v")}
	}
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String("m"), MessageAttributes: attrs})
	require.NoError(t, err)
	assert.Empty(t, receive(t, q))
	assert.Len(t, receive(t, dlq), 1)

	_, err = c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn,
		AttributeName: aws.String("RedrivePolicy"), AttributeValue: aws.String(`{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:nope"}`)})
	var ip *types.InvalidParameterException
	require.ErrorAs(t, err, &ip)
}

func TestFIFOTopicToFIFOQueue(t *testing.T) {
	c, w, _ := setup(t)
	ctx := t.Context()
	q, err := w.NewQueue("orders.fifo", memory.QueueOptions{})
	require.NoError(t, err)
	_, err = c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events.fifo")})
	require.ErrorAs(t, err, new(*types.InvalidParameterException), "a .fifo name needs FifoTopic=true")
	tp, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events.fifo"), Attributes: map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"}})
	require.NoError(t, err)
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(q.ARN())})
	require.NoError(t, err)
	for _, body := range []string{"one", "two", "one"} {
		_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String(body), MessageGroupId: aws.String("g")})
		require.NoError(t, err)
	}
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String("x")})
	require.ErrorAs(t, err, new(*types.InvalidParameterException), "FIFO needs a group id")

	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10})
	require.NoError(t, err)
	require.Len(t, ds, 2, "the duplicate is dropped")
	var m0 struct{ Message, SequenceNumber string }
	require.NoError(t, json.Unmarshal(ds[0].Body, &m0))
	assert.Equal(t, "one", m0.Message)
	assert.NotEmpty(t, m0.SequenceNumber)
	assert.Equal(t, "g", ds[0].GroupID)
}

func TestPublishBatch(t *testing.T) {
	c, w, _ := setup(t)
	ctx := t.Context()
	q, err := w.NewQueue("batch", memory.QueueOptions{})
	require.NoError(t, err)
	tp, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
	require.NoError(t, err)
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(q.ARN()),
		Attributes: map[string]string{"RawMessageDelivery": "true"}})
	require.NoError(t, err)

	out, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: tp.TopicArn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("e1"), Message: aws.String("one")},
		{Id: aws.String("bad"), Message: aws.String("x"), Subject: aws.String("line\nbreak")},
		{Id: aws.String("e2"), Message: aws.String("two"), MessageAttributes: map[string]types.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("x")}}},
	}})
	require.NoError(t, err)
	require.Len(t, out.Successful, 2)
	assert.Equal(t, "e1", aws.ToString(out.Successful[0].Id))
	assert.Equal(t, "e2", aws.ToString(out.Successful[1].Id))
	require.Len(t, out.Failed, 1)
	assert.Equal(t, "bad", aws.ToString(out.Failed[0].Id))
	assert.Equal(t, "InvalidParameter", aws.ToString(out.Failed[0].Code))
	assert.True(t, out.Failed[0].SenderFault)
	ds := receive(t, q)
	require.Len(t, ds, 2)
	assert.Equal(t, "one", string(ds[0].Body))
	assert.Equal(t, "x", ds[1].Attributes.Get("kind"))

	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: tp.TopicArn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{}})
	require.ErrorAs(t, err, new(*types.EmptyBatchRequestException))
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: tp.TopicArn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("a"), Message: aws.String("1")}, {Id: aws.String("a"), Message: aws.String("2")}}})
	require.ErrorAs(t, err, new(*types.BatchEntryIdsNotDistinctException))
	var many []types.PublishBatchRequestEntry
	for i := range 11 {
		many = append(many, types.PublishBatchRequestEntry{Id: aws.String(string(rune('a' + i))), Message: aws.String("m")})
	}
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: tp.TopicArn, PublishBatchRequestEntries: many})
	require.ErrorAs(t, err, new(*types.TooManyEntriesInBatchRequestException))
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: tp.TopicArn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{{Id: aws.String("a.b"), Message: aws.String("1")}}})
	require.ErrorAs(t, err, new(*types.InvalidBatchEntryIdException))
}

func TestEndpointSubscriptionPendingThenConfirmed(t *testing.T) {
	c, w, _ := setup(t)
	ctx := t.Context()
	tp, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
	require.NoError(t, err)
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("https"), Endpoint: aws.String("https://example.com/hook")})
	require.NoError(t, err)
	assert.Equal(t, "pending confirmation", aws.ToString(sub.SubscriptionArn))
	lst, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: tp.TopicArn})
	require.NoError(t, err)
	require.Len(t, lst.Subscriptions, 1)
	assert.Equal(t, "PendingConfirmation", aws.ToString(lst.Subscriptions[0].SubscriptionArn))
	assert.Equal(t, "https", aws.ToString(lst.Subscriptions[0].Protocol))

	// The confirmation token is what SNS would send the endpoint.
	mt, err := w.Topic("events")
	require.NoError(t, err)
	info, token, err := mt.SubscribeEndpoint("https", "https://example.com/hook", nil)
	require.NoError(t, err)
	_, err = c.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: tp.TopicArn, Token: aws.String("wrong")})
	require.ErrorAs(t, err, new(*types.InvalidParameterException))
	conf, err := c.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: tp.TopicArn, Token: aws.String(token)})
	require.NoError(t, err)
	assert.Equal(t, info.ARN, aws.ToString(conf.SubscriptionArn))
	ga, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: conf.SubscriptionArn})
	require.NoError(t, err)
	assert.Equal(t, "false", ga.Attributes["PendingConfirmation"])

	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("a@example.com"), ReturnSubscriptionArn: true})
	require.NoError(t, err)
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("gopher"), Endpoint: aws.String("x")})
	require.ErrorAs(t, err, new(*types.InvalidParameterException))
}

func TestListSubscriptionsPages(t *testing.T) {
	c, _, _ := setup(t)
	ctx := t.Context()
	tp, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
	require.NoError(t, err)
	for i := range 130 {
		_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sms"), Endpoint: aws.String("+1555555" + strconv.Itoa(1000+i))})
		require.NoError(t, err)
	}
	seen := map[string]bool{}
	pages := 0
	p := sns.NewListSubscriptionsByTopicPaginator(c, &sns.ListSubscriptionsByTopicInput{TopicArn: tp.TopicArn})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, s := range page.Subscriptions {
			seen[aws.ToString(s.SubscriptionArn)] = true
		}
	}
	assert.Len(t, seen, 130)
	assert.Equal(t, 2, pages)
	all, err := c.ListSubscriptions(ctx, &sns.ListSubscriptionsInput{})
	require.NoError(t, err)
	assert.Len(t, all.Subscriptions, 100)
	assert.NotNil(t, all.NextToken)
}

func TestTypedErrors(t *testing.T) {
	c, w, _ := setup(t)
	ctx := t.Context()
	missing := aws.String("arn:aws:sns:us-east-1:000000000000:missing")
	_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: missing, Message: aws.String("x")})
	var nf *types.NotFoundException
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "Topic does not exist", nf.ErrorMessage())

	tp, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
	require.NoError(t, err)
	q, err := w.NewQueue("q", memory.QueueOptions{})
	require.NoError(t, err)
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(q.ARN()),
		Attributes: map[string]string{"FilterPolicy": `{"kind":"created"}`}})
	var ip *types.InvalidParameterException
	require.ErrorAs(t, err, &ip)
	assert.Contains(t, ip.ErrorMessage(), "FilterPolicy")
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(q.ARN()),
		Attributes: map[string]string{"FilterPolicyScope": "Everything"}})
	require.ErrorAs(t, err, &ip)
	_, err = c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(aws.ToString(tp.TopicArn) + ":0e876e59-5ea1-4474-923a-849f87e2d116"),
		AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true")})
	require.ErrorAs(t, err, &nf)
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String("x"),
		MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("String")}}})
	var pv *types.InvalidParameterValueException
	require.ErrorAs(t, err, &pv)
	_, err = c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: missing})
	require.ErrorAs(t, err, new(*types.ResourceNotFoundException))
}

// TestWireShapes checks the raw XML: the error document, an output-less
// action's envelope, and escaping of carriage returns.
func TestWireShapes(t *testing.T) {
	_, _, srv := setup(t)
	post := func(form url.Values) (*http.Response, string) {
		form.Set("Version", "2010-03-31")
		resp, err := http.PostForm(srv.URL, form)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b strings.Builder
		_, err = io.Copy(&b, resp.Body)
		require.NoError(t, err)
		return resp, b.String()
	}
	resp, body := post(url.Values{"Action": {"FlyToTheMoon"}})
	assert.Equal(t, 400, resp.StatusCode)
	var e struct {
		Error     struct{ Type, Code, Message string }
		RequestId string
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &e))
	assert.Equal(t, "Sender", e.Error.Type)
	assert.Equal(t, "InvalidAction", e.Error.Code)
	assert.NotEmpty(t, e.RequestId)
	assert.Equal(t, e.RequestId, resp.Header.Get("X-Amzn-Requestid"))

	resp, body = post(url.Values{"Action": {"GetTopicAttributes"}, "TopicArn": {"arn:aws:sns:us-east-1:000000000000:nope"}})
	assert.Equal(t, 404, resp.StatusCode)
	assert.Contains(t, body, "<Code>NotFound</Code>")

	resp, body = post(url.Values{"Action": {"CreateTopic"}, "Name": {"cr"}, "Attributes.entry.1.key": {"DisplayName"}, "Attributes.entry.1.value": {"a\r\nb"}})
	require.Equal(t, 200, resp.StatusCode, body)
	resp, body = post(url.Values{"Action": {"GetTopicAttributes"}, "TopicArn": {"arn:aws:sns:us-east-1:000000000000:cr"}})
	require.Equal(t, 200, resp.StatusCode, body)
	assert.Contains(t, body, "a&#xD;&#xA;b")
	assert.True(t, strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<GetTopicAttributesResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><GetTopicAttributesResult>`), body)

	resp, body = post(url.Values{"Action": {"DeleteTopic"}, "TopicArn": {"arn:aws:sns:us-east-1:000000000000:cr"}})
	require.Equal(t, 200, resp.StatusCode)
	assert.Regexp(t, `^<\?xml[^>]*>\n<DeleteTopicResponse xmlns="[^"]+"><ResponseMetadata><RequestId>[0-9a-f-]{36}</RequestId></ResponseMetadata></DeleteTopicResponse>$`, body)

	resp, body = post(url.Values{"Action": {"CreateTopic"}, "Name": {"t"}, "Tags.member.99999.Key": {"a"}})
	assert.Equal(t, 400, resp.StatusCode)
	assert.Contains(t, body, "<Code>InvalidParameter</Code>")
}

func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		"Action=Publish&Message=%7B%22kind%22%3A%22created%22%7D&MessageAttributes.entry.1.Name=bin&MessageAttributes.entry.1.Value.BinaryValue=aGk%3D&MessageAttributes.entry.1.Value.DataType=Binary&MessageAttributes.entry.2.Name=tags&MessageAttributes.entry.2.Value.DataType=String.Array&MessageAttributes.entry.2.Value.StringValue=%5B%22a%22%5D&Subject=subj&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aevents",
		"Action=PublishBatch&PublishBatchRequestEntries.member.1.Id=e1&PublishBatchRequestEntries.member.1.Message=one&PublishBatchRequestEntries.member.2.Id=e2&PublishBatchRequestEntries.member.2.Message=two&PublishBatchRequestEntries.member.2.MessageAttributes.entry.1.Name=kind&PublishBatchRequestEntries.member.2.MessageAttributes.entry.1.Value.DataType=String&PublishBatchRequestEntries.member.2.MessageAttributes.entry.1.Value.StringValue=x&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aevents",
		"Action=CreateTopic&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=Events&Name=events&Tags.member.1.Key=env&Tags.member.1.Value=dev",
		"Action=Subscribe&Attributes.entry.1.key=FilterPolicy&Attributes.entry.1.value=%7B%22kind%22%3A%5B%22created%22%5D%7D&Endpoint=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Aq&Protocol=sqs&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aevents",
		"Action=SetSubscriptionAttributes&AttributeName=FilterPolicyScope&AttributeValue=MessageBody&SubscriptionArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aevents%3A00000001-0000-4000-8000-000000000001",
	} {
		f.Add(s)
	}
	w := memory.NewWorld(memory.WorldOptions{})
	defer w.Close()
	if _, err := w.NewQueue("q", memory.QueueOptions{}); err != nil {
		f.Fatal(err)
	}
	if _, err := w.NewTopic("events", memory.TopicOptions{}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		out, err := snsapi.Handle(context.Background(), form, w, "us-east-1", "000000000000", "req")
		if err != nil {
			e := snsapi.ErrorOf(err)
			if e.Status >= 500 {
				t.Fatalf("%q: server fault %v", raw, e)
			}
			if err := xml.Unmarshal([]byte(snsapi.ErrorXML(e, "req")), new(any)); err != nil {
				t.Fatalf("%q: error document is not XML: %v", raw, err)
			}
			return
		}
		if err := xml.Unmarshal(out, new(any)); err != nil {
			t.Fatalf("%q: response is not XML: %v", raw, err)
		}
	})
}

// TestWorldRegionAndLateQueue runs against a world of another account and
// region, and subscribes a queue that is made only after the subscription:
// SNS finds a subscribed queue by its ARN at each delivery.
func TestWorldRegionAndLateQueue(t *testing.T) {
	w := memory.NewWorld(memory.WorldOptions{AccountID: "123456789012", Region: "eu-west-1"})
	srv := httptest.NewServer(router(w))
	t.Cleanup(func() { srv.Close(); w.Close() })
	c := sns.New(sns.Options{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("123456789012", "secret", ""),
		BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client()})
	ctx := t.Context()
	tp, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sns:eu-west-1:123456789012:events", aws.ToString(tp.TopicArn))
	qarn := "arn:aws:sqs:eu-west-1:123456789012:later"
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qarn),
		Attributes: map[string]string{"RawMessageDelivery": "true"}, ReturnSubscriptionArn: true})
	require.NoError(t, err)
	ga, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn})
	require.NoError(t, err)
	assert.Equal(t, qarn, ga.Attributes["Endpoint"])
	assert.Equal(t, "123456789012", ga.Attributes["Owner"])

	q, err := w.NewQueue("later", memory.QueueOptions{})
	require.NoError(t, err)
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String("hello")})
	require.NoError(t, err)
	ds := receive(t, q)
	require.Len(t, ds, 1)
	assert.Equal(t, "hello", string(ds[0].Body))

	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:elsewhere")})
	require.ErrorAs(t, err, new(*types.InvalidParameterException), "a queue ARN outside the world")
}
