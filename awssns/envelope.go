package awssns

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

// Envelope is the JSON document SNS delivers to a subscription without raw
// delivery: a Notification, or a SubscriptionConfirmation or
// UnsubscribeConfirmation (to HTTP endpoints).
type Envelope struct {
	Type              string                       `json:"Type"`
	MessageID         string                       `json:"MessageId"`
	Token             string                       `json:"Token,omitempty"`
	TopicARN          string                       `json:"TopicArn"`
	Subject           string                       `json:"Subject,omitempty"`
	Message           string                       `json:"Message"`
	Timestamp         string                       `json:"Timestamp"`
	SequenceNumber    string                       `json:"SequenceNumber,omitempty"`
	SignatureVersion  string                       `json:"SignatureVersion,omitempty"`
	Signature         string                       `json:"Signature,omitempty"`
	SigningCertURL    string                       `json:"SigningCertURL,omitempty"`
	SubscribeURL      string                       `json:"SubscribeURL,omitempty"`
	UnsubscribeURL    string                       `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]EnvelopeAttribute `json:"MessageAttributes,omitempty"`
}

// EnvelopeAttribute is a message attribute in an envelope: its value as a
// string, base64 for Binary.
type EnvelopeAttribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// ParseEnvelope returns the envelope body holds, and false when body is not
// one: a JSON object whose Type is Notification, SubscriptionConfirmation
// or UnsubscribeConfirmation, with a MessageId, an SNS topic ARN, a
// Timestamp in RFC 3339 form and a Message string. A raw JSON body that
// merely has some of these fields is not taken for an envelope.
func ParseEnvelope(body []byte) (*Envelope, bool) {
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
	case "Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation":
	default:
		return nil, false
	}
	if e.MessageID == "" || !isTopicARN(e.TopicARN) {
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

// isTopicARN reports whether s looks like arn:<partition>:sns:<region>:<account>:<name>.
func isTopicARN(s string) bool {
	p := strings.Split(s, ":")
	return len(p) == 6 && p[0] == "arn" && p[1] != "" && p[2] == "sns" && p[3] != "" && p[4] != "" && p[5] != ""
}

// Attributes returns the envelope's message attributes typed, Binary ones
// decoded from base64.
func (e *Envelope) Attributes() (queue.Attributes, error) {
	if len(e.MessageAttributes) == 0 {
		return nil, nil
	}
	out := make(queue.Attributes, len(e.MessageAttributes))
	for name, a := range e.MessageAttributes {
		at := queue.Attribute{Type: a.Type}
		if at.BaseType() == queue.TypeBinary {
			b, err := base64.StdEncoding.DecodeString(a.Value)
			if err != nil {
				return nil, &postroom.Error{Pkg: pkgName, Op: "unwrap", Message: "attribute " + name + " is not base64", Kind: postroom.ErrInvalid, Err: err}
			}
			at.Binary = b
		} else {
			at.Value = a.Value
		}
		out[name] = at
	}
	return out, nil
}

// UnwrapOptions tune [Unwrap].
type UnwrapOptions struct {
	// TopicARN, when set, unwraps only envelopes from this topic; others
	// are left as they are.
	TopicARN string
	// Verifier, when set, checks the envelope's signature; a bad one is an
	// error.
	Verifier *Verifier
}

// Unwrap returns a delivery whose body is the message an SNS notification
// envelope carries and whose attributes are the envelope's, typed, along
// with the envelope; the copy keeps d's receipt, so it acks like d. When
// d's body is not an envelope (or is one from another topic than
// opts.TopicARN), Unwrap returns d itself and a nil envelope.
func Unwrap(ctx context.Context, d *queue.Delivery, opts UnwrapOptions) (*queue.Delivery, *Envelope, error) {
	e, ok := ParseEnvelope(d.Body)
	if !ok || e.Type != "Notification" || (opts.TopicARN != "" && e.TopicARN != opts.TopicARN) {
		return d, nil, nil
	}
	if opts.Verifier != nil {
		if err := opts.Verifier.Verify(ctx, e); err != nil {
			return nil, nil, err
		}
	}
	attrs, err := e.Attributes()
	if err != nil {
		return nil, nil, err
	}
	u := *d
	u.Body = []byte(e.Message)
	u.Attributes = attrs
	u.ID = e.MessageID
	if e.SequenceNumber != "" {
		u.SequenceNumber = e.SequenceNumber
	}
	return &u, e, nil
}
