// Package snsmsg is SNS's JSON message format for HTTP/S endpoints and SQS
// envelopes: the document, its parser, the text SNS signs, signing and the
// verification of signatures with SNS's signing certificates. Packages
// awssns, memory and snshttp share it; each names itself in the errors it
// returns.
package snsmsg

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/errkit"
	"github.com/postroom/postroom/queue"
)

// Message types.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// TimeFormat is how SNS writes Timestamp: RFC 3339 in UTC with
// milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Envelope is the JSON document SNS sends: a Notification, or a
// SubscriptionConfirmation or UnsubscribeConfirmation (to HTTP/S
// endpoints). Its fields marshal in the order SNS writes them.
type Envelope struct {
	Type              string               `json:"Type"`
	MessageID         string               `json:"MessageId"`
	Token             string               `json:"Token,omitempty"`
	TopicARN          string               `json:"TopicArn"`
	Subject           string               `json:"Subject,omitempty"`
	Message           string               `json:"Message"`
	SubscribeURL      string               `json:"SubscribeURL,omitempty"`
	Timestamp         string               `json:"Timestamp"`
	SequenceNumber    string               `json:"SequenceNumber,omitempty"`
	SignatureVersion  string               `json:"SignatureVersion,omitempty"`
	Signature         string               `json:"Signature,omitempty"`
	SigningCertURL    string               `json:"SigningCertURL,omitempty"`
	UnsubscribeURL    string               `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]Attribute `json:"MessageAttributes,omitempty"`
}

// Attribute is a message attribute in an envelope: its value as a string,
// base64 for Binary.
type Attribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// Parse returns the envelope body holds, and false when body is not one: a
// JSON object whose Type is Notification, SubscriptionConfirmation or
// UnsubscribeConfirmation, with a MessageId, an SNS topic ARN, a Timestamp
// in RFC 3339 form and a Message string. A raw JSON body that merely has
// some of these fields is not taken for an envelope.
func Parse(body []byte) (*Envelope, bool) {
	body = bytes.TrimSpace(body)
	if len(body) < 2 || body[0] != '{' {
		return nil, false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) != nil {
		return nil, false
	}
	for _, k := range []string{"Type", "MessageId", "TopicArn", "Timestamp", "Message"} {
		v, ok := probe[k]
		if !ok || len(v) == 0 || v[0] != '"' {
			return nil, false
		}
	}
	var e Envelope
	if json.Unmarshal(body, &e) != nil {
		return nil, false
	}
	switch e.Type {
	case TypeNotification, TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
	default:
		return nil, false
	}
	if e.MessageID == "" || !IsTopicARN(e.TopicARN) {
		return nil, false
	}
	if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
		return nil, false
	}
	for _, a := range e.MessageAttributes {
		if a.Type == "" {
			return nil, false
		}
	}
	return &e, true
}

// IsTopicARN reports whether s looks like
// arn:<partition>:sns:<region>:<account>:<name>.
func IsTopicARN(s string) bool {
	p := strings.Split(s, ":")
	return len(p) == 6 && p[0] == "arn" && p[1] != "" && p[2] == "sns" && p[3] != "" && p[4] != "" && p[5] != ""
}

// Attributes returns e's message attributes typed, Binary ones decoded
// from base64; errors name pkg.
func Attributes(pkg errkit.Pkg, e *Envelope) (queue.Attributes, error) {
	if len(e.MessageAttributes) == 0 {
		return nil, nil
	}
	out := make(queue.Attributes, len(e.MessageAttributes))
	for name, a := range e.MessageAttributes {
		at := queue.Attribute{Type: a.Type}
		if at.BaseType() == queue.TypeBinary {
			b, err := base64.StdEncoding.DecodeString(a.Value)
			if err != nil {
				return nil, &postroom.Error{Pkg: string(pkg), Op: "unwrap", Message: "attribute " + name + " is not base64", Kind: postroom.ErrInvalid, Err: err}
			}
			at.Binary = b
		} else {
			at.Value = a.Value
		}
		out[name] = at
	}
	return out, nil
}

// FromAttributes returns attrs as envelope attributes, Binary ones in
// base64.
func FromAttributes(attrs queue.Attributes) map[string]Attribute {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]Attribute, len(attrs))
	for k, a := range attrs {
		v := a.Value
		if a.BaseType() == queue.TypeBinary {
			v = base64.StdEncoding.EncodeToString(a.Binary)
		}
		out[k] = Attribute{Type: a.Type, Value: v}
	}
	return out
}

// Marshal returns e as SNS writes it: JSON without HTML escaping.
func Marshal(e *Envelope) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(e) // strings and maps of strings always encode
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
