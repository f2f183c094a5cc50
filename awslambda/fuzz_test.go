package awslambda_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postroom/postroom/awslambda"
	"github.com/postroom/postroom/queue"
)

func seedFixtures(f *testing.F, names ...string) {
	for _, name := range names {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// Any SQS event JSON converts without panicking, into deliveries that keep
// the record's id, body and attributes.
func FuzzSQSEvent(f *testing.F) {
	seedFixtures(f, "sqs-standard.json", "sqs-fifo.json")
	f.Add([]byte(`{"Records":[{"messageId":"x","messageAttributes":{"a":{"dataType":"Binary"}},"attributes":{"SentTimestamp":"-1"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev events.SQSEvent
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		for _, m := range ev.Records {
			d := awslambda.SQSDelivery(m, time.Time{})
			if d.ID != m.MessageId || string(d.Body) != m.Body || len(d.Attributes) != len(m.MessageAttributes) {
				t.Fatalf("delivery %+v does not keep record %+v", d, m)
			}
			for name, a := range m.MessageAttributes {
				got := d.Attributes[name]
				if got.Type != a.DataType {
					t.Fatalf("attribute %q: type %q, want %q", name, got.Type, a.DataType)
				}
				if got.BaseType() == queue.TypeBinary && !bytes.Equal(got.Binary, a.BinaryValue) {
					t.Fatalf("attribute %q: binary %x, want %x", name, got.Binary, a.BinaryValue)
				}
			}
			var raw events.SQSMessage
			if !d.As(&raw) || raw.MessageId != m.MessageId {
				t.Fatal("As does not reach the record")
			}
		}
	})
}

// Any SNS event JSON converts or fails with an error, never a panic.
func FuzzSNSEvent(f *testing.F) {
	seedFixtures(f, "sns.json")
	f.Add([]byte(`{"Records":[{"Sns":{"MessageAttributes":{"a":{"Type":"Binary","Value":"!!"}}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev events.SNSEvent
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		for _, r := range ev.Records {
			d, err := awslambda.SNSDelivery(r, time.Time{})
			if err != nil {
				continue
			}
			if d.ID != r.SNS.MessageID || string(d.Body) != r.SNS.Message {
				t.Fatalf("delivery %+v does not keep record %+v", d, r)
			}
			if len(d.Attributes) < len(r.SNS.MessageAttributes) {
				t.Fatalf("lost attributes: %v from %v", d.Attributes, r.SNS.MessageAttributes)
			}
		}
	})
}

// Any JSON parses into an event with a source and detail type, or fails.
func FuzzParseEvent(f *testing.F) {
	seedFixtures(f, "eventbridge.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := awslambda.ParseEvent(data)
		if err != nil {
			return
		}
		if ev.Source == "" || ev.DetailType == "" || !json.Valid(ev.Detail) {
			t.Fatalf("parsed an invalid event: %+v", ev)
		}
	})
}
