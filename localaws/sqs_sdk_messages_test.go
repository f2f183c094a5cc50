package localaws

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/postroom/postroom/internal/sqsmd5"
	"github.com/postroom/postroom/queue"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSDKBatches(t *testing.T) {
	ctx := context.Background()
	_, c := newSQS(t, Options{})
	url := createQueue(t, c, "orders", nil)
	out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("m1"), MessageBody: aws.String("one")},
		{Id: aws.String("m2"), MessageBody: aws.String("two"), MessageAttributes: map[string]types.MessageAttributeValue{
			"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}},
		{Id: aws.String("bad"), MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{
			"AWS.reserved": {DataType: aws.String("String"), StringValue: aws.String("v")}}},
	}})
	require.NoError(t, err) // the SDK checks each body digest
	require.Len(t, out.Successful, 2)
	assert.Equal(t, "f97c5d29941bfb1b2fdab0874906ab82", *out.Successful[0].MD5OfMessageBody)
	assert.Equal(t, "0a77b0642718c3d9dd47090567d11e0d", *out.Successful[1].MD5OfMessageAttributes)
	require.Len(t, out.Failed, 1)
	assert.Equal(t, "bad", *out.Failed[0].Id)
	assert.Equal(t, "InvalidParameterValue", *out.Failed[0].Code)
	assert.True(t, out.Failed[0].SenderFault)

	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
	require.NoError(t, err)
	require.Len(t, got.Messages, 2)

	// Visibility: one back at once, one kept; a bogus handle fails alone.
	cv, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &url,
		Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
			{Id: aws.String("a"), ReceiptHandle: got.Messages[0].ReceiptHandle, VisibilityTimeout: 0},
			{Id: aws.String("b"), ReceiptHandle: got.Messages[1].ReceiptHandle, VisibilityTimeout: 600},
			{Id: aws.String("c"), ReceiptHandle: aws.String("bogus"), VisibilityTimeout: 60},
		}})
	require.NoError(t, err)
	assert.Len(t, cv.Successful, 2)
	require.Len(t, cv.Failed, 1)
	assert.Equal(t, "ReceiptHandleIsInvalid", *cv.Failed[0].Code)
	again, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount"}})
	require.NoError(t, err)
	require.Len(t, again.Messages, 1)
	assert.Equal(t, *got.Messages[0].MessageId, *again.Messages[0].MessageId)
	assert.Equal(t, map[string]string{"ApproximateReceiveCount": "2"}, again.Messages[0].Attributes)

	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: again.Messages[0].ReceiptHandle, VisibilityTimeout: 100})
	require.NoError(t, err)
	del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("d0"), ReceiptHandle: again.Messages[0].ReceiptHandle},
		{Id: aws.String("d1"), ReceiptHandle: got.Messages[1].ReceiptHandle},
		{Id: aws.String("d2"), ReceiptHandle: aws.String("bogus")},
	}})
	require.NoError(t, err)
	assert.Len(t, del.Successful, 2)
	require.Len(t, del.Failed, 1)
	assert.Equal(t, "d2", *del.Failed[0].Id)
	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"All"}})
	require.NoError(t, err)
	assert.Equal(t, "0", ga.Attributes["ApproximateNumberOfMessages"])
	assert.Equal(t, "0", ga.Attributes["ApproximateNumberOfMessagesNotVisible"])

	// Request-level batch errors are typed.
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{}})
	var empty *types.EmptyBatchRequest
	assert.True(t, errors.As(err, &empty), "%v", err)
	var many []types.SendMessageBatchRequestEntry
	for i := range 11 {
		many = append(many, types.SendMessageBatchRequestEntry{Id: aws.String(string(rune('a' + i))), MessageBody: aws.String("x")})
	}
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: many})
	var tooMany *types.TooManyEntriesInBatchRequest
	assert.True(t, errors.As(err, &tooMany), "%v", err)
	_, err = c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("x"), ReceiptHandle: aws.String("h")}, {Id: aws.String("x"), ReceiptHandle: aws.String("h")}}})
	var notDistinct *types.BatchEntryIdsNotDistinct
	assert.True(t, errors.As(err, &notDistinct), "%v", err)
	_, err = c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("no spaces"), ReceiptHandle: aws.String("h")}}})
	var badID *types.InvalidBatchEntryId
	assert.True(t, errors.As(err, &badID), "%v", err)
	big := strings.Repeat("x", 600<<10)
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: &big}, {Id: aws.String("b"), MessageBody: &big}}})
	var tooLong *types.BatchRequestTooLong
	assert.True(t, errors.As(err, &tooLong), "%v", err)
}

func TestSDKMessageErrors(t *testing.T) {
	ctx := context.Background()
	_, c := newSQS(t, Options{})
	url := createQueue(t, c, "orders", nil)
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("bad \x00 char")})
	var contents *types.InvalidMessageContents
	assert.True(t, errors.As(err, &contents), "%v", err)
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: aws.String("rh-dummy")})
	var handle *types.ReceiptHandleIsInvalid
	assert.True(t, errors.As(err, &handle), "%v", err)
	_, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 11})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(strings.Repeat("x", 1<<20+1))})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
	_, err = c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:nope")})
	var rnf *types.ResourceNotFoundException
	assert.True(t, errors.As(err, &rnf), "%v", err)
	_, err = c.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: &url, Label: aws.String("l"), AWSAccountIds: []string{"1"}, Actions: []string{"SendMessage"}})
	var unsupported *types.UnsupportedOperation
	assert.True(t, errors.As(err, &unsupported), "%v", err)
}

func TestSDKReceiveAttributes(t *testing.T) {
	ctx := context.Background()
	_, c := newSQS(t, Options{})
	url := createQueue(t, c, "orders", nil)
	sv := func(s string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
	}
	for _, tc := range []struct {
		names []string
		want  []string
	}{
		{[]string{"All"}, []string{"a.x", "a.y", "b"}},
		{[]string{".*"}, []string{"a.x", "a.y", "b"}},
		{[]string{"a.*"}, []string{"a.x", "a.y"}},
		{[]string{"b", "nope"}, []string{"b"}},
		{nil, nil},
	} {
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("m"),
			MessageAttributes: map[string]types.MessageAttributeValue{"a.x": sv("1"), "a.y": sv("2"), "b": sv("3")}})
		require.NoError(t, err)
		got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MessageAttributeNames: tc.names})
		require.NoError(t, err)
		require.Len(t, got.Messages, 1)
		m := got.Messages[0]
		var names []string
		sel := map[string]types.MessageAttributeValue{}
		for k, v := range m.MessageAttributes {
			names = append(names, k)
			sel[k] = v
		}
		assert.ElementsMatch(t, tc.want, names, "%v", tc.names)
		if len(tc.want) == 0 {
			assert.Nil(t, m.MD5OfMessageAttributes)
		} else {
			assert.Equal(t, sqsmd5.Attributes(toQueueAttrs(sel)), *m.MD5OfMessageAttributes, "digest of what is returned")
		}
		_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle})
		require.NoError(t, err)
	}
}

func TestSDKFIFO(t *testing.T) {
	ctx := context.Background()
	_, c := newSQS(t, Options{})
	_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders.fifo")})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err), "a .fifo name needs FifoQueue")
	url := createQueue(t, c, "orders.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	for _, b := range []string{"g1-a", "g1-b", "g2-a", "g1-a"} { // the last is a duplicate
		out, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(b), MessageGroupId: aws.String(b[:2])})
		require.NoError(t, err)
		assert.NotEmpty(t, *out.MessageId)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x")})
	assert.Equal(t, "MissingParameter", apiCode(t, err))
	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}, ReceiveRequestAttemptId: aws.String("attempt-1")})
	require.NoError(t, err)
	var bodies []string
	for _, m := range got.Messages {
		bodies = append(bodies, *m.Body)
		assert.NotEmpty(t, m.Attributes["SequenceNumber"])
		assert.Equal(t, (*m.Body)[:2], m.Attributes["MessageGroupId"])
		assert.NotEmpty(t, m.Attributes["MessageDeduplicationId"])
	}
	assert.Equal(t, []string{"g1-a", "g1-b", "g2-a"}, bodies, "in order per group, the duplicate dropped")
	// The groups are locked while in flight.
	more, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url})
	require.NoError(t, err)
	assert.Empty(t, more.Messages)
	// An expired FIFO receipt (here: made visible again) cannot delete.
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: got.Messages[0].ReceiptHandle, VisibilityTimeout: 0})
	require.NoError(t, err)
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: got.Messages[0].ReceiptHandle})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
}

func TestSDKRedriveAndMoveTask(t *testing.T) {
	ctx := context.Background()
	s, c := newSQS(t, Options{})
	dlq := createQueue(t, c, "orders-dlq", nil)
	src := createQueue(t, c, "orders", map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:orders-dlq","maxReceiveCount":"1"}`})
	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &src, AttributeNames: []types.QueueAttributeName{"RedrivePolicy"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:orders-dlq","maxReceiveCount":1}`, ga.Attributes["RedrivePolicy"])
	srcs, err := c.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: &dlq})
	require.NoError(t, err)
	assert.Equal(t, []string{src}, srcs.QueueUrls)

	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &src, MessageBody: aws.String("poison")})
	require.NoError(t, err)
	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &src})
	require.NoError(t, err)
	require.Len(t, got.Messages, 1)
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &src, ReceiptHandle: got.Messages[0].ReceiptHandle})
	require.NoError(t, err)
	again, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &src})
	require.NoError(t, err)
	assert.Empty(t, again.Messages, "moved to the dead-letter queue")
	dead, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlq, VisibilityTimeout: 1,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"DeadLetterQueueSourceArn"}})
	require.NoError(t, err)
	require.Len(t, dead.Messages, 1)
	assert.Equal(t, "poison", *dead.Messages[0].Body)
	assert.Equal(t, "arn:aws:sqs:us-east-1:000000000000:orders", dead.Messages[0].Attributes["DeadLetterQueueSourceArn"])
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &dlq, ReceiptHandle: dead.Messages[0].ReceiptHandle})
	require.NoError(t, err)

	// Redrive back to the source queue.
	task, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:orders-dlq")})
	require.NoError(t, err)
	require.NotEmpty(t, *task.TaskHandle)
	reg := s.region("us-east-1")
	reg.mu.Lock()
	done := reg.tasks[0].done
	reg.mu.Unlock()
	<-done
	tasks, err := c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:orders-dlq")})
	require.NoError(t, err)
	require.Len(t, tasks.Results, 1)
	assert.Equal(t, "COMPLETED", *tasks.Results[0].Status)
	assert.Equal(t, int64(1), tasks.Results[0].ApproximateNumberOfMessagesMoved)
	_, err = c.CancelMessageMoveTask(ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: task.TaskHandle})
	var rnf *types.ResourceNotFoundException
	assert.True(t, errors.As(err, &rnf), "a finished task cannot be canceled: %v", err)
	back, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &src})
	require.NoError(t, err)
	require.Len(t, back.Messages, 1)
	assert.Equal(t, "poison", *back.Messages[0].Body)
	assert.NotEqual(t, *got.Messages[0].MessageId, *back.Messages[0].MessageId, "a redriven message is a new message")

	// RedriveAllowPolicy denyAll refuses new sources.
	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &dlq, Attributes: map[string]string{
		"RedriveAllowPolicy": `{"redrivePermission":"denyAll"}`}})
	require.NoError(t, err)
	_, err = c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("other"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:orders-dlq","maxReceiveCount":"1"}`}})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
	_, err = c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:other")})
	var rnf2 *types.ResourceNotFoundException
	assert.True(t, errors.As(err, &rnf2), "%v", err)
}

// enter wraps h to report each request's X-Amz-Target as it arrives.
func enter(h http.Handler, arrived chan<- string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get("X-Amz-Target")
		h.ServeHTTP(w, r)
	})
}

func TestSDKLongPoll(t *testing.T) {
	ctx := context.Background()
	s := New(Options{})
	arrived := make(chan string, 10)
	hs := httptest.NewServer(enter(s, arrived))
	defer hs.Close()
	c := sqs.NewFromConfig(s.AWSConfig(hs.URL))
	url := createQueue(t, c, "orders", nil)
	<-arrived

	// A long poll returns as soon as a message arrives.
	var wg sync.WaitGroup
	var got *sqs.ReceiveMessageOutput
	var rerr error
	start := time.Now()
	wg.Go(func() {
		got, rerr = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 20})
	})
	require.Equal(t, "AmazonSQS.ReceiveMessage", <-arrived)
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("wake")})
	<-arrived
	require.NoError(t, err)
	wg.Wait()
	require.NoError(t, rerr)
	require.Len(t, got.Messages, 1)
	assert.Less(t, time.Since(start), 10*time.Second)

	// Close ends a pending long poll with no messages.
	start = time.Now()
	wg.Go(func() {
		got, rerr = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 20})
	})
	<-arrived
	require.NoError(t, s.Close())
	wg.Wait()
	require.NoError(t, rerr)
	assert.Empty(t, got.Messages)
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestSDKFIFOSystemAttributes(t *testing.T) {
	ctx := context.Background()
	_, c := newSQS(t, Options{})
	url := createQueue(t, c, "orders.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})

	// SequenceNumber in SendMessage and SendMessageBatch replies, the
	// original's for a duplicate; AWSTraceHeader from the system
	// attributes or, failing them, the X-Amzn-Trace-Id header.
	traceAttr := map[string]types.MessageSystemAttributeValue{
		"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-attr")}}
	one, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("one"),
		MessageGroupId: aws.String("g"), MessageSystemAttributes: traceAttr})
	require.NoError(t, err)
	require.NotNil(t, one.SequenceNumber)
	assert.Equal(t, sqsmd5.Attributes(queue.Attributes{"AWSTraceHeader": queue.String("Root=1-attr")}), *one.MD5OfMessageSystemAttributes)
	withHeader := func(o *sqs.Options) {
		o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("X-Amzn-Trace-Id", "Root=1-header"))
	}
	batch, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("two"), MessageGroupId: aws.String("g")},
		{Id: aws.String("b"), MessageBody: aws.String("three"), MessageGroupId: aws.String("g"), MessageSystemAttributes: traceAttr},
		{Id: aws.String("dup"), MessageBody: aws.String("one"), MessageGroupId: aws.String("g")},
	}}, withHeader)
	require.NoError(t, err)
	require.Len(t, batch.Successful, 3)
	seqs := map[string]string{}
	for _, e := range batch.Successful {
		require.NotNil(t, e.SequenceNumber, *e.Id)
		seqs[*e.Id] = *e.SequenceNumber
	}
	assert.Less(t, *one.SequenceNumber, seqs["a"])
	assert.Less(t, seqs["a"], seqs["b"])
	assert.Equal(t, *one.SequenceNumber, seqs["dup"], "a duplicate reports the original's sequence number")

	// Standard queues have no sequence numbers.
	std := createQueue(t, c, "plain", nil)
	plain, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &std, MessageBody: aws.String("x")}, withHeader)
	require.NoError(t, err)
	assert.Nil(t, plain.SequenceNumber)
	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &std,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"AWSTraceHeader"}})
	require.NoError(t, err)
	require.Len(t, got.Messages, 1)
	assert.Equal(t, map[string]string{"AWSTraceHeader": "Root=1-header"}, got.Messages[0].Attributes)

	// Received: the same sequence numbers and trace headers, asked for
	// by name or with All; a retry with the same ReceiveRequestAttemptId
	// returns the same messages and receipt handles.
	recv := func(attempt string, names ...types.MessageSystemAttributeName) []types.Message {
		t.Helper()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: names, ReceiveRequestAttemptId: aws.String(attempt)})
		require.NoError(t, err)
		return out.Messages
	}
	first := recv("attempt-1", "All")
	require.Len(t, first, 3)
	wantSeq := []string{*one.SequenceNumber, seqs["a"], seqs["b"]}
	wantTrace := []string{"Root=1-attr", "Root=1-header", "Root=1-attr"}
	for i, m := range first {
		assert.Equal(t, wantSeq[i], m.Attributes["SequenceNumber"], *m.Body)
		assert.Equal(t, wantTrace[i], m.Attributes["AWSTraceHeader"], *m.Body)
	}
	retry := recv("attempt-1", "SequenceNumber")
	require.Len(t, retry, 3)
	for i := range first {
		assert.Equal(t, *first[i].ReceiptHandle, *retry[i].ReceiptHandle)
		assert.Equal(t, *first[i].MessageId, *retry[i].MessageId)
		assert.Equal(t, map[string]string{"SequenceNumber": wantSeq[i]}, retry[i].Attributes)
	}
	assert.Empty(t, recv("attempt-2"), "another attempt id receives anew; the group is locked")

	// After a delete the retry receives anew; the old receipt stays usable
	// for the messages still in flight.
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: first[0].ReceiptHandle})
	require.NoError(t, err)
	assert.Empty(t, recv("attempt-1"))
	_, err = c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: first[1].ReceiptHandle}, {Id: aws.String("b"), ReceiptHandle: first[2].ReceiptHandle}}})
	require.NoError(t, err)

	// A malformed attempt id is refused.
	_, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, ReceiveRequestAttemptId: aws.String("not valid")})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
}
