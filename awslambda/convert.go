package awslambda

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/internal/rawvalue"
	"github.com/postroom/postroom/internal/sqsmd5"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// The SQS system attributes Lambda puts in a record's "attributes".
const (
	attrReceiveCount    = "ApproximateReceiveCount"
	attrSentTimestamp   = "SentTimestamp"
	attrFirstReceive    = "ApproximateFirstReceiveTimestamp"
	attrGroupID         = "MessageGroupId"
	attrDeduplicationID = "MessageDeduplicationId"
	attrSequenceNumber  = "SequenceNumber"
	attrDeadLetterSrc   = "DeadLetterQueueSourceArn"
)

// SQSDelivery converts one record of an SQS event into the delivery a
// queue driver gives for the same message: id, body, typed attributes,
// receipt, receive count, sent and first-receive times, FIFO group,
// deduplication id and sequence number, and the dead-letter source. Its As
// reaches the record, an events.SQSMessage. receivedAt is the delivery's
// ReceivedAt (the time of the invocation).
func SQSDelivery(m events.SQSMessage, receivedAt time.Time) *queue.Delivery {
	a := m.Attributes
	d := &queue.Delivery{
		Message: queue.Message{
			ID:              m.MessageId,
			Body:            []byte(m.Body),
			Attributes:      fromSQSAttributes(m.MessageAttributes),
			GroupID:         a[attrGroupID],
			DeduplicationID: a[attrDeduplicationID],
		},
		Receipt:          m.ReceiptHandle,
		SentAt:           millis(a[attrSentTimestamp]),
		FirstReceivedAt:  millis(a[attrFirstReceive]),
		ReceivedAt:       receivedAt,
		SequenceNumber:   a[attrSequenceNumber],
		DeadLetterSource: a[attrDeadLetterSrc],
	}
	d.ReceiveCount, _ = strconv.Atoi(a[attrReceiveCount])
	rawvalue.Set(d, m)
	return d
}

func fromSQSAttributes(in map[string]events.SQSMessageAttribute) queue.Attributes {
	if len(in) == 0 {
		return nil
	}
	out := make(queue.Attributes, len(in))
	for name, v := range in {
		at := queue.Attribute{Type: v.DataType}
		if at.BaseType() == queue.TypeBinary {
			at.Binary = v.BinaryValue
			if at.Binary == nil {
				at.Binary = []byte{}
			}
		} else if v.StringValue != nil {
			at.Value = *v.StringValue
		}
		out[name] = at
	}
	return out
}

func millis(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// sqsRecord builds the record Lambda's SQS poller puts in an event for d.
func sqsRecord(d *queue.Delivery, arn, region string) events.SQSMessage {
	attrs := map[string]string{
		attrReceiveCount:  strconv.Itoa(d.ReceiveCount),
		attrSentTimestamp: strconv.FormatInt(d.SentAt.UnixMilli(), 10),
		attrFirstReceive:  strconv.FormatInt(d.FirstReceivedAt.UnixMilli(), 10),
	}
	set := func(k, v string) {
		if v != "" {
			attrs[k] = v
		}
	}
	set(attrGroupID, d.GroupID)
	set(attrDeduplicationID, d.DeduplicationID)
	set(attrSequenceNumber, d.SequenceNumber)
	set(attrDeadLetterSrc, d.DeadLetterSource)
	m := events.SQSMessage{
		MessageId:              d.ID,
		ReceiptHandle:          d.Receipt,
		Body:                   string(d.Body),
		Md5OfBody:              sqsmd5.Body(d.Body),
		Md5OfMessageAttributes: sqsmd5.Attributes(d.Attributes),
		Attributes:             attrs,
		MessageAttributes:      map[string]events.SQSMessageAttribute{},
		EventSourceARN:         arn,
		EventSource:            "aws:sqs",
		AWSRegion:              region,
	}
	for name, a := range d.Attributes {
		v := events.SQSMessageAttribute{DataType: a.Type, StringListValues: []string{}, BinaryListValues: [][]byte{}}
		if a.BaseType() == queue.TypeBinary {
			v.BinaryValue = a.Binary
		} else {
			s := a.Value
			v.StringValue = &s
		}
		m.MessageAttributes[name] = v
	}
	return m
}

// SNSDelivery converts one record of an SNS event into the delivery a
// subscription with raw message delivery gives: the notification's id and
// message, its attributes with their SNS types (String, Number, Binary
// decoded from base64, String.Array as its JSON array), and the subject,
// when there is one, as the String attribute "Subject"
// (pubsub.SubjectAttribute) unless the message has an attribute of that
// name. SentAt is the notification's timestamp; ReceiveCount is 1, as
// Lambda does not say how often it retried the invocation. Its As reaches
// the record, an events.SNSEventRecord.
//
// An attribute that is not {"Type": …, "Value": …} with string members, or
// a Binary one that is not base64, returns an error matching
// postroom.ErrInvalid.
func SNSDelivery(r events.SNSEventRecord, receivedAt time.Time) (*queue.Delivery, error) {
	n := r.SNS
	d := &queue.Delivery{
		Message: queue.Message{
			ID:   n.MessageID,
			Body: []byte(n.Message),
		},
		ReceiveCount: 1,
		SentAt:       n.Timestamp,
		ReceivedAt:   receivedAt,
	}
	if len(n.MessageAttributes) > 0 || n.Subject != "" {
		d.Attributes = make(queue.Attributes, len(n.MessageAttributes)+1)
	}
	for name, raw := range n.MessageAttributes {
		a, err := snsAttribute(raw)
		if err != nil {
			return nil, e.Errorf(postroom.ErrInvalid, "convert SNS record", "message %s: attribute %q: %v", n.MessageID, name, err)
		}
		d.Attributes[name] = a
	}
	if _, ok := d.Attributes[pubsub.SubjectAttribute]; n.Subject != "" && !ok {
		d.Attributes[pubsub.SubjectAttribute] = queue.String(n.Subject)
	}
	rawvalue.Set(d, r)
	return d, nil
}

// snsAttribute converts an attribute of an SNS notification, which
// aws-lambda-go decodes as a map[string]any.
func snsAttribute(raw any) (queue.Attribute, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return queue.Attribute{}, errString("not an object")
	}
	typ, ok1 := m["Type"].(string)
	val, ok2 := m["Value"].(string)
	if !ok1 || !ok2 || typ == "" {
		return queue.Attribute{}, errString(`want string members "Type" and "Value"`)
	}
	a := queue.Attribute{Type: typ}
	switch a.BaseType() {
	case queue.TypeBinary:
		b, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			return queue.Attribute{}, errString("Binary value is not base64")
		}
		a.Binary = b
	case queue.TypeStringArray:
		if !json.Valid([]byte(val)) || !strings.HasPrefix(strings.TrimSpace(val), "[") {
			return queue.Attribute{}, errString("String.Array value is not a JSON array")
		}
		a.Value = val
	default:
		a.Value = val
	}
	return a, nil
}

type errString string

func (s errString) Error() string { return string(s) }

// Event converts an EventBridge event, as Lambda receives it, into an
// eventbus.Event: id, source, detail type, detail, resources and time. The
// account and region stay in ev.
func Event(ev events.CloudWatchEvent) *eventbus.Event {
	return &eventbus.Event{
		ID:         ev.ID,
		Source:     ev.Source,
		DetailType: ev.DetailType,
		Detail:     ev.Detail,
		Resources:  ev.Resources,
		Time:       ev.Time,
	}
}

// ParseEvent converts an EventBridge event given as JSON, as EventBridge
// invokes a function with it. JSON that is not an event (no source, no
// detail-type, a detail that is not an object) returns an error matching
// postroom.ErrInvalid.
func ParseEvent(data []byte) (*eventbus.Event, error) {
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, e.Wrap(postroom.ErrInvalid, "parse event", err)
	}
	if ev.Source == "" || ev.DetailType == "" {
		return nil, e.New(postroom.ErrInvalid, "parse event", `an event needs "source" and "detail-type"`)
	}
	if d := strings.TrimLeft(string(ev.Detail), " \t\r\n"); !strings.HasPrefix(d, "{") {
		return nil, e.New(postroom.ErrInvalid, "parse event", `"detail" must be a JSON object`)
	}
	return Event(ev), nil
}
