package memory

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"github.com/postroom/postroom/internal/snsmsg"
	"github.com/postroom/postroom/queue"
)

// Notification is the JSON document SNS delivers: the body of an SQS
// message when raw delivery is off, and what a subscribed function gets.
// Its fields marshal in SNS's order. A FIFO topic's notification has a
// SequenceNumber and no signature fields.
type Notification struct {
	Type              string                           `json:"Type"`
	MessageID         string                           `json:"MessageId"`
	SequenceNumber    string                           `json:"SequenceNumber,omitempty"`
	TopicARN          string                           `json:"TopicArn"`
	Subject           string                           `json:"Subject,omitempty"`
	Message           string                           `json:"Message"`
	Timestamp         string                           `json:"Timestamp"`
	SignatureVersion  string                           `json:"SignatureVersion,omitempty"`
	Signature         string                           `json:"Signature,omitempty"`
	SigningCertURL    string                           `json:"SigningCertURL,omitempty"`
	UnsubscribeURL    string                           `json:"UnsubscribeURL"`
	MessageAttributes map[string]NotificationAttribute `json:"MessageAttributes,omitempty"`
}

// NotificationAttribute is a message attribute in a Notification: the
// value as a string, base64 for Binary.
type NotificationAttribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// signingKey signs notifications. The signature has SNS's form but is not
// verifiable with AWS's certificates: a test can check that it is there
// and stable, not that AWS made it.
var signingKey = []byte("postroom memory topic")

// public builds the Notification of n for the subscription subARN.
func (n *notification) public(subARN string) *Notification {
	doc := &Notification{
		Type:           "Notification",
		MessageID:      n.id,
		SequenceNumber: n.seq,
		TopicARN:       n.topic.ARN(),
		Subject:        n.subject,
		Message:        string(n.body),
		Timestamp:      n.time.UTC().Format("2006-01-02T15:04:05.000Z"),
		UnsubscribeURL: "https://sns." + n.topic.world.region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + subARN,
	}
	if len(n.attrs) > 0 {
		doc.MessageAttributes = make(map[string]NotificationAttribute, len(n.attrs))
		for k, a := range n.attrs {
			v := a.Value
			if a.BaseType() == queue.TypeBinary {
				v = base64.StdEncoding.EncodeToString(a.Binary)
			}
			doc.MessageAttributes[k] = NotificationAttribute{Type: a.Type, Value: v}
		}
	}
	if !n.topic.fifo {
		doc.SignatureVersion = "1"
		doc.Signature = sign(doc)
		doc.SigningCertURL = "https://sns." + n.topic.world.region + ".amazonaws.com/SimpleNotificationService-00000000000000000000000000000000.pem"
	}
	return doc
}

// sign computes a signature over the fields SNS signs, in SNS's
// string-to-sign layout.
func sign(d *Notification) string {
	mac := hmac.New(sha256.New, signingKey)
	mac.Write([]byte(snsmsg.StringToSign(&snsmsg.Envelope{Type: d.Type, MessageID: d.MessageID, Subject: d.Subject,
		Message: d.Message, Timestamp: d.Timestamp, TopicARN: d.TopicARN})))
	sum := mac.Sum(nil)
	// RSA-2048 signatures are 256 bytes: stretch the MAC to that size.
	sig := make([]byte, 0, 256)
	for len(sig) < 256 {
		sig = append(sig, sum...)
		sum = sha256.New().Sum(sum)[:32]
	}
	return base64.StdEncoding.EncodeToString(sig[:256])
}

// envelope is the JSON body delivered to a queue subscription.
func (n *notification) envelope(subARN string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(n.public(subARN)) // a Notification always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
