package localaws

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// fuzzServer has one queue for fuzzed requests to reach.
func fuzzServer(f *testing.F) *Server {
	s := New(Options{})
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"QueueName":"q"}`))
	r.Header.Set("X-Amz-Target", "AmazonSQS.CreateQueue")
	s.ServeHTTP(httptest.NewRecorder(), r)
	f.Cleanup(func() { _ = s.Close() })
	return s
}

func FuzzQueryRequest(f *testing.F) {
	for _, seed := range []string{
		"Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Fh%2F000000000000%2Fq&MessageBody=hello+world&MessageAttribute.1.Name=trace&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=abc-123",
		"Action=SendMessageBatch&QueueUrl=/000000000000/q&SendMessageBatchRequestEntry.1.Id=m1&SendMessageBatchRequestEntry.1.MessageBody=one&SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.BinaryValue=AQL%2F",
		"Action=CreateQueue&QueueName=x&Attribute.1.Name=RedrivePolicy&Attribute.1.Value=%7B%7D&Tag.1.Key=k",
		"Action=ReceiveMessage&QueueUrl=/000000000000/q&AttributeName.1=All&MaxNumberOfMessages=10&WaitTimeSeconds=0",
		"Action=ChangeMessageVisibilityBatch&QueueUrl=/000000000000/q&ChangeMessageVisibilityBatchRequestEntry.1.Id=a&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=x",
		"A.1.B.2.C=&A.x.y=1&.=&..1=2",
	} {
		f.Add(seed)
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body string) {
		if strings.Contains(body, "Wait") {
			return // a fuzzed long poll would only wait
		}
		form, err := url.ParseQuery(body)
		if err == nil {
			in, e := decodeQueryInput(form)
			if (in == nil) == (e == nil) {
				t.Fatalf("decodeQueryInput: input %v and error %v", in, e)
			}
		}
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
	})
}

func FuzzJSONRequest(f *testing.F) {
	for _, seed := range []struct{ action, body string }{
		{"SendMessage", `{"MessageAttributes":{"blob":{"BinaryValue":"AQL/","DataType":"Binary"}},"MessageBody":"hello","QueueUrl":"http://h/000000000000/q"}`},
		{"SendMessageBatch", `{"Entries":[{"Id":"m1","MessageBody":"one"},{"DelaySeconds":5,"Id":"m2","MessageBody":"two"}],"QueueUrl":"/000000000000/q"}`},
		{"ReceiveMessage", `{"MaxNumberOfMessages":10,"MessageAttributeNames":["All"],"QueueUrl":"/000000000000/q","VisibilityTimeout":"20"}`},
		{"CreateQueue", `{"Attributes":{"FifoQueue":"true"},"QueueName":"x.fifo","tags":{"a":"b"}}`},
		{"DeleteMessageBatch", `{"Entries":[{"Id":"d","ReceiptHandle":"x"}],"QueueUrl":"/000000000000/q"}`},
		{"ListQueues", `{"MaxResults":1,"NextToken":"!!"}`},
		{"GetQueueAttributes", `[1,2]`},
	} {
		f.Add(seed.action, seed.body)
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, action, body string) {
		if action == "ReceiveMessage" && strings.Contains(body, "WaitTimeSeconds") {
			return // a fuzzed long poll would only wait
		}
		if _, e := decodeJSONInput([]byte(body)); e != nil && e.Code != "SerializationException" {
			t.Fatalf("decodeJSONInput: %v", e)
		}
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", sqsJSONType)
		r.Header.Set("X-Amz-Target", "AmazonSQS."+action)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %s %q: %s", w.Code, action, body, w.Body)
		}
	})
}
