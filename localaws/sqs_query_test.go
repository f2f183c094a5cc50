package localaws

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/postroom/postroom/internal/sqsmd5"
	"github.com/postroom/postroom/queue"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeQueryInput(t *testing.T) {
	// Recorded from AWS CLI 2.9.19.
	form, err := url.ParseQuery("Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2F127.0.0.1%3A4566%2F000000000000%2Forders&MessageBody=hello+world&MessageAttribute.1.Name=trace&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=abc-123&MessageAttribute.2.Name=count&MessageAttribute.2.Value.DataType=Number&MessageAttribute.2.Value.StringValue=42&MessageAttribute.3.Name=blob&MessageAttribute.3.Value.DataType=Binary&MessageAttribute.3.Value.BinaryValue=AQL%2F")
	require.NoError(t, err)
	in, e := decodeQueryInput(form)
	require.Nil(t, e)
	assert.Equal(t, "http://127.0.0.1:4566/000000000000/orders", in.QueueURL)
	assert.Equal(t, "hello world", *in.MessageBody)
	assert.Equal(t, "abc-123", *in.MessageAttributes["trace"].StringValue)
	assert.Equal(t, "Number", in.MessageAttributes["count"].DataType)
	assert.Equal(t, []byte{1, 2, 0xff}, in.MessageAttributes["blob"].BinaryValue)
	attrs, e := toAttributes(in.MessageAttributes)
	require.Nil(t, e)
	assert.Equal(t, "8a8d7bd307da644820059f5979a058f0", sqsmd5.Attributes(attrs))

	form, _ = url.ParseQuery("Action=CreateQueue&Version=2012-11-05&QueueName=orders&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=30&Attribute.2.Name=ReceiveMessageWaitTimeSeconds&Attribute.2.Value=0&Tag.1.Key=env&Tag.1.Value=dev")
	in, e = decodeQueryInput(form)
	require.Nil(t, e)
	assert.Equal(t, map[string]string{"VisibilityTimeout": "30", "ReceiveMessageWaitTimeSeconds": "0"}, in.Attributes)
	assert.Equal(t, map[string]string{"env": "dev"}, in.Tags)

	form, _ = url.ParseQuery("Action=SendMessageBatch&Version=2012-11-05&QueueUrl=q&SendMessageBatchRequestEntry.1.Id=m1&SendMessageBatchRequestEntry.1.MessageBody=one&SendMessageBatchRequestEntry.2.Id=m2&SendMessageBatchRequestEntry.2.MessageBody=two&SendMessageBatchRequestEntry.2.DelaySeconds=5&SendMessageBatchRequestEntry.2.MessageAttribute.1.Name=k&SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType=String&SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue=v&SendMessageBatchRequestEntry.10.Id=m10&SendMessageBatchRequestEntry.10.MessageBody=ten")
	in, e = decodeQueryInput(form)
	require.Nil(t, e)
	require.Len(t, in.Entries, 3)
	assert.Equal(t, []string{"m1", "m2", "m10"}, []string{in.Entries[0].ID, in.Entries[1].ID, in.Entries[2].ID}, "by index, not by string order")
	n, given, _ := intParam(in.Entries[1].DelaySeconds, "DelaySeconds")
	assert.True(t, given)
	assert.Equal(t, int64(5), n)
	assert.Equal(t, "v", *in.Entries[1].MessageAttributes["k"].StringValue)

	form, _ = url.ParseQuery("Action=ReceiveMessage&Version=2012-11-05&QueueUrl=q&AttributeName.1=All&MessageAttributeName.1=All&MaxNumberOfMessages=10&VisibilityTimeout=20&WaitTimeSeconds=1")
	in, e = decodeQueryInput(form)
	require.Nil(t, e)
	assert.Equal(t, []string{"All"}, in.AttributeNames)
	assert.Equal(t, []string{"All"}, in.MessageAttributeNames)
	n, _, _ = intParam(in.MaxNumberOfMessages, "MaxNumberOfMessages")
	assert.Equal(t, int64(10), n)

	form, _ = url.ParseQuery("Action=ReceiveMessage&MaxNumberOfMessages=ten")
	in, e = decodeQueryInput(form)
	require.Nil(t, e)
	_, _, e = intParam(in.MaxNumberOfMessages, "MaxNumberOfMessages")
	require.NotNil(t, e)
	assert.Equal(t, "InvalidParameterValue", e.QueryCode)
}

// queryCall posts a Query form to the server and returns the status and
// body.
func queryCall(t *testing.T, base, form string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/", strings.NewReader(form))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261126/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

type xmlMessage struct {
	MessageID     string `xml:"MessageId"`
	ReceiptHandle string
	MD5OfBody     string
	Body          string
	Attribute     []struct{ Name, Value string }
	MD5Attrs      string `xml:"MD5OfMessageAttributes"`
	MessageAttr   []struct {
		Name  string
		Value struct{ StringValue, BinaryValue, DataType string }
	} `xml:"MessageAttribute"`
}

func TestQueryProtocol(t *testing.T) {
	s := New(Options{})
	hs := httptest.NewServer(s)
	defer hs.Close()
	defer s.Close()
	queueURL := hs.URL + "/000000000000/orders"
	qu := url.QueryEscape(queueURL)

	code, body := queryCall(t, hs.URL, "Action=CreateQueue&Version=2012-11-05&QueueName=orders&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=30&Tag.1.Key=env&Tag.1.Value=dev")
	require.Equal(t, 200, code, body)
	var created struct {
		XMLName  xml.Name `xml:"CreateQueueResponse"`
		QueueURL string   `xml:"CreateQueueResult>QueueUrl"`
		ReqID    string   `xml:"ResponseMetadata>RequestId"`
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &created))
	assert.Equal(t, queueURL, created.QueueURL)
	assert.NotEmpty(t, created.ReqID)

	code, body = queryCall(t, hs.URL, "Action=SendMessage&Version=2012-11-05&QueueUrl="+qu+"&MessageBody=a%0D%0Ab%3C%26%3E%22&MessageAttribute.1.Name=trace&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=abc-123&MessageAttribute.2.Name=count&MessageAttribute.2.Value.DataType=Number&MessageAttribute.2.Value.StringValue=42&MessageAttribute.3.Name=blob&MessageAttribute.3.Value.DataType=Binary&MessageAttribute.3.Value.BinaryValue=AQL%2F")
	require.Equal(t, 200, code, body)
	var sent struct {
		MessageID string `xml:"SendMessageResult>MessageId"`
		MD5Body   string `xml:"SendMessageResult>MD5OfMessageBody"`
		MD5Attrs  string `xml:"SendMessageResult>MD5OfMessageAttributes"`
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &sent))
	assert.Equal(t, sqsmd5.Body([]byte("a\r\nb<&>\"")), sent.MD5Body)
	assert.Equal(t, "8a8d7bd307da644820059f5979a058f0", sent.MD5Attrs)

	code, body = queryCall(t, hs.URL, "Action=ReceiveMessage&Version=2012-11-05&QueueUrl="+qu+"&AttributeName.1=All&MessageAttributeName.1=All&MaxNumberOfMessages=10")
	require.Equal(t, 200, code, body)
	assert.Contains(t, body, "a&#xD;\nb&lt;&amp;&gt;&quot;", "CR survives XML parsers")
	var recv struct {
		Messages []xmlMessage `xml:"ReceiveMessageResult>Message"`
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &recv))
	require.Len(t, recv.Messages, 1)
	m := recv.Messages[0]
	assert.Equal(t, "a\r\nb<&>\"", m.Body)
	assert.Equal(t, sent.MessageID, m.MessageID)
	assert.Equal(t, sent.MD5Body, m.MD5OfBody)
	assert.Equal(t, "8a8d7bd307da644820059f5979a058f0", m.MD5Attrs)
	require.Len(t, m.MessageAttr, 3)
	assert.Equal(t, "blob", m.MessageAttr[0].Name)
	assert.Equal(t, "AQL/", m.MessageAttr[0].Value.BinaryValue)
	names := map[string]string{}
	for _, a := range m.Attribute {
		names[a.Name] = a.Value
	}
	assert.Equal(t, "1", names["ApproximateReceiveCount"])

	code, body = queryCall(t, hs.URL, "Action=DeleteMessage&Version=2012-11-05&QueueUrl="+qu+"&ReceiptHandle="+url.QueryEscape(m.ReceiptHandle))
	require.Equal(t, 200, code, body)
	assert.Contains(t, body, "<DeleteMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><ResponseMetadata><RequestId>")

	code, body = queryCall(t, hs.URL, "Action=ReceiveMessage&Version=2012-11-05&QueueUrl="+qu)
	require.Equal(t, 200, code, body)
	assert.Contains(t, body, "<ReceiveMessageResult></ReceiveMessageResult>", "an empty result is still there")

	code, body = queryCall(t, hs.URL, "Action=DeleteMessageBatch&Version=2012-11-05&QueueUrl="+qu+"&DeleteMessageBatchRequestEntry.1.Id=d0&DeleteMessageBatchRequestEntry.1.ReceiptHandle=bogus")
	require.Equal(t, 200, code, body)
	assert.Contains(t, body, "<BatchResultErrorEntry><Id>d0</Id><SenderFault>true</SenderFault><Code>ReceiptHandleIsInvalid</Code><Message>The input receipt handle &quot;bogus&quot; is not a valid receipt handle.</Message></BatchResultErrorEntry>")

	code, body = queryCall(t, hs.URL, "Action=GetQueueAttributes&Version=2012-11-05&QueueUrl="+qu+"&AttributeName.1=VisibilityTimeout&AttributeName.2=QueueArn")
	require.Equal(t, 200, code, body)
	assert.Contains(t, body, "<Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:us-east-1:000000000000:orders</Value></Attribute><Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute>")

	code, body = queryCall(t, hs.URL, "Action=ListQueueTags&Version=2012-11-05&QueueUrl="+qu)
	require.Equal(t, 200, code, body)
	assert.Contains(t, body, "<ListQueueTagsResult><Tag><Key>env</Key><Value>dev</Value></Tag></ListQueueTagsResult>")

	code, body = queryCall(t, hs.URL, "Action=ListQueues&Version=2012-11-05&QueueNamePrefix=ord")
	require.Equal(t, 200, code, body)
	assert.Contains(t, body, "<ListQueuesResult><QueueUrl>"+queueURL+"</QueueUrl></ListQueuesResult>")

	// Errors: ErrorResponse with the Query code and the model's status.
	code, body = queryCall(t, hs.URL, "Action=GetQueueUrl&Version=2012-11-05&QueueName=nope")
	assert.Equal(t, 400, code)
	var er struct {
		Type    string `xml:"Error>Type"`
		Code    string `xml:"Error>Code"`
		Message string `xml:"Error>Message"`
		ReqID   string `xml:"RequestId"`
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &er))
	assert.Equal(t, "Sender", er.Type)
	assert.Equal(t, "AWS.SimpleQueueService.NonExistentQueue", er.Code)
	assert.Equal(t, "The specified queue does not exist.", er.Message)
	assert.NotEmpty(t, er.ReqID)

	code, body = queryCall(t, hs.URL, "Action=DeleteMessage&Version=2012-11-05&QueueUrl="+qu+"&ReceiptHandle=rh-dummy")
	assert.Equal(t, 404, code)
	assert.Contains(t, body, "<Code>ReceiptHandleIsInvalid</Code>")
	code, body = queryCall(t, hs.URL, "Action=Frobnicate&Version=2012-11-05")
	assert.Equal(t, 400, code)
	assert.Contains(t, body, "<Code>InvalidAction</Code>")
	code, body = queryCall(t, hs.URL, "Action=SendMessage&Version=2012-11-05&QueueUrl="+qu)
	assert.Equal(t, 400, code)
	assert.Contains(t, body, "<Code>MissingParameter</Code>")
	code, body = queryCall(t, hs.URL, "Action=SendMessage&Version=2012-11-05&QueueUrl="+qu+"&MessageBody=x&DelaySeconds=soon")
	assert.Equal(t, 400, code)
	assert.Contains(t, body, "<Code>InvalidParameterValue</Code>")

	// Older clients post to the queue URL without QueueUrl.
	req, _ := http.NewRequest("POST", queueURL, strings.NewReader("Action=SendMessage&MessageBody=path"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

func TestRouting(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	do := func(ct, target, body, auth string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		if target != "" {
			r.Header.Set("X-Amz-Target", target)
		}
		if auth != "" {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=K/20261126/us-east-1/"+auth+"/aws4_request, SignedHeaders=host, Signature=00")
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	w := do(sqsJSONType, "AmazonSQS.Nope", "{}", "")
	assert.Equal(t, 400, w.Code)
	assert.JSONEq(t, `{"__type":"UnknownOperationException","message":""}`, w.Body.String())
	w = do(sqsJSONType, "AmazonSQS.ListQueues", "{not json", "")
	assert.Equal(t, 400, w.Code)
	assert.Contains(t, w.Body.String(), `"__type":"SerializationException"`)
	w = do("application/x-amz-json-1.1", "AWSEvents.ListRules", "{}", "events")
	assert.Equal(t, "application/x-amz-json-1.1", w.Header().Get("Content-Type"), "EventBridge answers in JSON 1.1")
	// SNS by Version, by scope, by action; SQS otherwise.
	for _, tc := range []struct{ body, auth string }{
		{"Action=ListTopics&Version=2010-03-31", ""},
		{"Action=AddPermission", "sns"},
		{"Action=Publish", ""},
	} {
		w = do("application/x-www-form-urlencoded", "", tc.body, tc.auth)
		assert.Contains(t, w.Body.String(), "http://sns.amazonaws.com/doc/2010-03-31/", tc.body)
	}
	w = do("application/x-www-form-urlencoded", "", "Action=ListQueues", "sqs")
	assert.Equal(t, 200, w.Code)
	assert.Contains(t, w.Body.String(), "<ListQueuesResponse")
	w = do("text/plain", "", "hello", "")
	assert.Equal(t, 400, w.Code)
	big := do(sqsJSONType, "AmazonSQS.ListQueues", strings.Repeat(" ", 9<<20), "")
	assert.Equal(t, 413, big.Code)
	get := httptest.NewRecorder()
	s.ServeHTTP(get, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, 200, get.Code)
}

func TestQueryFIFOSystemAttributes(t *testing.T) {
	s := New(Options{})
	hs := httptest.NewServer(s)
	defer hs.Close()
	defer s.Close()
	qu := url.QueryEscape(hs.URL + "/000000000000/q.fifo")
	code, body := queryCall(t, hs.URL, "Action=CreateQueue&Version=2012-11-05&QueueName=q.fifo&Attribute.1.Name=FifoQueue&Attribute.1.Value=true")
	require.Equal(t, 200, code, body)
	code, body = queryCall(t, hs.URL, "Action=SendMessage&Version=2012-11-05&QueueUrl="+qu+"&MessageBody=a&MessageGroupId=g&MessageDeduplicationId=1"+
		"&MessageSystemAttribute.1.Name=AWSTraceHeader&MessageSystemAttribute.1.Value.DataType=String&MessageSystemAttribute.1.Value.StringValue=Root%3D1-q")
	require.Equal(t, 200, code, body)
	var sent struct {
		Seq     string `xml:"SendMessageResult>SequenceNumber"`
		MD5Sys  string `xml:"SendMessageResult>MD5OfMessageSystemAttributes"`
		Message string `xml:"SendMessageResult>MessageId"`
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &sent))
	assert.NotEmpty(t, sent.Seq)
	assert.Equal(t, sqsmd5.Attributes(queue.Attributes{"AWSTraceHeader": queue.String("Root=1-q")}), sent.MD5Sys)

	receive := func() []xmlMessage {
		code, body := queryCall(t, hs.URL, "Action=ReceiveMessage&Version=2012-11-05&QueueUrl="+qu+"&AttributeName.1=All&ReceiveRequestAttemptId=try-1")
		require.Equal(t, 200, code, body)
		var recv struct {
			Messages []xmlMessage `xml:"ReceiveMessageResult>Message"`
		}
		require.NoError(t, xml.Unmarshal([]byte(body), &recv))
		return recv.Messages
	}
	first, again := receive(), receive()
	require.Len(t, first, 1)
	require.Len(t, again, 1)
	assert.Equal(t, first[0].ReceiptHandle, again[0].ReceiptHandle, "the retry returns the same receipt")
	attrs := map[string]string{}
	for _, a := range first[0].Attribute {
		attrs[a.Name] = a.Value
	}
	assert.Equal(t, sent.Seq, attrs["SequenceNumber"])
	assert.Equal(t, "Root=1-q", attrs["AWSTraceHeader"])
}
