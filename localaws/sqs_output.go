package localaws

import (
	"bytes"
	"encoding/base64"
	"sort"
	"strconv"

	"github.com/postroom/postroom/localaws/internal/awsreq"
)

// sqsOutput is an action's result: JSON members by struct tags, XML by
// writeXML (the inner XML of <{Action}Result>).
type sqsOutput interface {
	writeXML(b *bytes.Buffer)
}

func elem(b *bytes.Buffer, name, value string) {
	b.WriteString("<" + name + ">")
	awsreq.EscapeXML(b, value)
	b.WriteString("</" + name + ">")
}

func elemIf(b *bytes.Buffer, name, value string) {
	if value != "" {
		elem(b, name, value)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type queueURLOutput struct {
	QueueURL string `json:"QueueUrl"`
}

func (o *queueURLOutput) writeXML(b *bytes.Buffer) { elem(b, "QueueUrl", o.QueueURL) }

type listQueuesOutput struct {
	QueueURLs []string `json:"QueueUrls,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

func (o *listQueuesOutput) writeXML(b *bytes.Buffer) {
	for _, u := range o.QueueURLs {
		elem(b, "QueueUrl", u)
	}
	elemIf(b, "NextToken", o.NextToken)
}

type deadLetterSourcesOutput struct {
	QueueURLs []string `json:"queueUrls"`
	NextToken string   `json:"NextToken,omitempty"`
}

func (o *deadLetterSourcesOutput) writeXML(b *bytes.Buffer) {
	for _, u := range o.QueueURLs {
		elem(b, "QueueUrl", u)
	}
	elemIf(b, "NextToken", o.NextToken)
}

type attributesOutput struct {
	Attributes map[string]string `json:"Attributes,omitempty"`
}

func (o *attributesOutput) writeXML(b *bytes.Buffer) {
	for _, k := range sortedKeys(o.Attributes) {
		b.WriteString("<Attribute>")
		elem(b, "Name", k)
		elem(b, "Value", o.Attributes[k])
		b.WriteString("</Attribute>")
	}
}

type tagsOutput struct {
	Tags map[string]string `json:"Tags,omitempty"`
}

func (o *tagsOutput) writeXML(b *bytes.Buffer) {
	for _, k := range sortedKeys(o.Tags) {
		b.WriteString("<Tag>")
		elem(b, "Key", k)
		elem(b, "Value", o.Tags[k])
		b.WriteString("</Tag>")
	}
}

type sendOutput struct {
	ID                     string `json:"Id,omitempty"`
	MessageID              string `json:"MessageId"`
	MD5OfMessageBody       string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes string `json:"MD5OfMessageAttributes,omitempty"`
	MD5OfSystemAttributes  string `json:"MD5OfMessageSystemAttributes,omitempty"`
	SequenceNumber         string `json:"SequenceNumber,omitempty"`
}

func (o *sendOutput) writeXML(b *bytes.Buffer) {
	elemIf(b, "Id", o.ID)
	elem(b, "MessageId", o.MessageID)
	elem(b, "MD5OfMessageBody", o.MD5OfMessageBody)
	elemIf(b, "MD5OfMessageAttributes", o.MD5OfMessageAttributes)
	elemIf(b, "MD5OfMessageSystemAttributes", o.MD5OfSystemAttributes)
	elemIf(b, "SequenceNumber", o.SequenceNumber)
}

// batchFailure is a BatchResultErrorEntry.
type batchFailure struct {
	ID          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
}

func writeFailures(b *bytes.Buffer, fs []batchFailure) {
	for _, f := range fs {
		b.WriteString("<BatchResultErrorEntry>")
		elem(b, "Id", f.ID)
		elem(b, "SenderFault", strconv.FormatBool(f.SenderFault))
		elem(b, "Code", f.Code)
		elemIf(b, "Message", f.Message)
		b.WriteString("</BatchResultErrorEntry>")
	}
}

type sendBatchOutput struct {
	Successful []*sendOutput  `json:"Successful"`
	Failed     []batchFailure `json:"Failed"`
}

func (o *sendBatchOutput) writeXML(b *bytes.Buffer) {
	for _, s := range o.Successful {
		b.WriteString("<SendMessageBatchResultEntry>")
		s.writeXML(b)
		b.WriteString("</SendMessageBatchResultEntry>")
	}
	writeFailures(b, o.Failed)
}

type batchID struct {
	ID string `json:"Id"`
}

// idBatchOutput answers DeleteMessageBatch and ChangeMessageVisibilityBatch.
type idBatchOutput struct {
	entry      string         // XML element of a successful entry
	Successful []batchID      `json:"Successful"`
	Failed     []batchFailure `json:"Failed"`
}

func (o *idBatchOutput) writeXML(b *bytes.Buffer) {
	for _, s := range o.Successful {
		b.WriteString("<" + o.entry + ">")
		elem(b, "Id", s.ID)
		b.WriteString("</" + o.entry + ">")
	}
	writeFailures(b, o.Failed)
}

type outAttrValue struct {
	DataType    string  `json:"DataType"`
	StringValue *string `json:"StringValue,omitempty"`
	BinaryValue []byte  `json:"BinaryValue,omitempty"`
}

type outMessage struct {
	MessageID              string                  `json:"MessageId"`
	ReceiptHandle          string                  `json:"ReceiptHandle"`
	MD5OfBody              string                  `json:"MD5OfBody"`
	Body                   string                  `json:"Body"`
	Attributes             map[string]string       `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                  `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]outAttrValue `json:"MessageAttributes,omitempty"`
}

type receiveOutput struct {
	Messages []*outMessage `json:"Messages,omitempty"`
}

func (o *receiveOutput) writeXML(b *bytes.Buffer) {
	for _, m := range o.Messages {
		b.WriteString("<Message>")
		elem(b, "MessageId", m.MessageID)
		elem(b, "ReceiptHandle", m.ReceiptHandle)
		elem(b, "MD5OfBody", m.MD5OfBody)
		elem(b, "Body", m.Body)
		for _, k := range sortedKeys(m.Attributes) {
			b.WriteString("<Attribute>")
			elem(b, "Name", k)
			elem(b, "Value", m.Attributes[k])
			b.WriteString("</Attribute>")
		}
		elemIf(b, "MD5OfMessageAttributes", m.MD5OfMessageAttributes)
		for _, k := range sortedKeys(m.MessageAttributes) {
			a := m.MessageAttributes[k]
			b.WriteString("<MessageAttribute>")
			elem(b, "Name", k)
			b.WriteString("<Value>")
			if a.StringValue != nil {
				elem(b, "StringValue", *a.StringValue)
			}
			if a.BinaryValue != nil {
				elem(b, "BinaryValue", base64.StdEncoding.EncodeToString(a.BinaryValue))
			}
			elem(b, "DataType", a.DataType)
			b.WriteString("</Value></MessageAttribute>")
		}
		b.WriteString("</Message>")
	}
}

type taskHandleOutput struct {
	TaskHandle string `json:"TaskHandle"`
}

func (o *taskHandleOutput) writeXML(b *bytes.Buffer) { elem(b, "TaskHandle", o.TaskHandle) }

type cancelTaskOutput struct {
	Moved int64 `json:"ApproximateNumberOfMessagesMoved"`
}

func (o *cancelTaskOutput) writeXML(b *bytes.Buffer) {
	elem(b, "ApproximateNumberOfMessagesMoved", strconv.FormatInt(o.Moved, 10))
}

type moveTaskEntry struct {
	TaskHandle     string `json:"TaskHandle,omitempty"`
	Status         string `json:"Status"`
	SourceArn      string `json:"SourceArn"`
	DestinationArn string `json:"DestinationArn,omitempty"`
	MaxPerSecond   *int64 `json:"MaxNumberOfMessagesPerSecond,omitempty"`
	Moved          int64  `json:"ApproximateNumberOfMessagesMoved"`
	ToMove         int64  `json:"ApproximateNumberOfMessagesToMove"`
	FailureReason  string `json:"FailureReason,omitempty"`
	Started        int64  `json:"StartedTimestamp"`
}

type listTasksOutput struct {
	Results []moveTaskEntry `json:"Results,omitempty"`
}

func (o *listTasksOutput) writeXML(b *bytes.Buffer) {
	for _, t := range o.Results {
		b.WriteString("<ListMessageMoveTasksResultEntry>")
		elemIf(b, "TaskHandle", t.TaskHandle)
		elem(b, "Status", t.Status)
		elem(b, "SourceArn", t.SourceArn)
		elemIf(b, "DestinationArn", t.DestinationArn)
		if t.MaxPerSecond != nil {
			elem(b, "MaxNumberOfMessagesPerSecond", strconv.FormatInt(*t.MaxPerSecond, 10))
		}
		elem(b, "ApproximateNumberOfMessagesMoved", strconv.FormatInt(t.Moved, 10))
		elem(b, "ApproximateNumberOfMessagesToMove", strconv.FormatInt(t.ToMove, 10))
		elemIf(b, "FailureReason", t.FailureReason)
		elem(b, "StartedTimestamp", strconv.FormatInt(t.Started, 10))
		b.WriteString("</ListMessageMoveTasksResultEntry>")
	}
}
