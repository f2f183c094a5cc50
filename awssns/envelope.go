package awssns

import (
	"context"

	"github.com/postroom/postroom/internal/snsmsg"
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
	SubscribeURL      string                       `json:"SubscribeURL,omitempty"`
	Timestamp         string                       `json:"Timestamp"`
	SequenceNumber    string                       `json:"SequenceNumber,omitempty"`
	SignatureVersion  string                       `json:"SignatureVersion,omitempty"`
	Signature         string                       `json:"Signature,omitempty"`
	SigningCertURL    string                       `json:"SigningCertURL,omitempty"`
	UnsubscribeURL    string                       `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]EnvelopeAttribute `json:"MessageAttributes,omitempty"`
}

// EnvelopeAttribute is a message attribute in an envelope: its value as a
// string, base64 for Binary.
type EnvelopeAttribute = snsmsg.Attribute

// inner returns e as the shared envelope type, which has the same fields.
func (e *Envelope) inner() *snsmsg.Envelope { return (*snsmsg.Envelope)(e) }

// ParseEnvelope returns the envelope body holds, and false when body is not
// one: a JSON object whose Type is Notification, SubscriptionConfirmation
// or UnsubscribeConfirmation, with a MessageId, an SNS topic ARN, a
// Timestamp in RFC 3339 form and a Message string. A raw JSON body that
// merely has some of these fields is not taken for an envelope.
func ParseEnvelope(body []byte) (*Envelope, bool) {
	e, ok := snsmsg.Parse(body)
	return (*Envelope)(e), ok
}

// isTopicARN reports whether s looks like arn:<partition>:sns:<region>:<account>:<name>.
func isTopicARN(s string) bool { return snsmsg.IsTopicARN(s) }

// Attributes returns the envelope's message attributes typed, Binary ones
// decoded from base64.
func (e *Envelope) Attributes() (queue.Attributes, error) {
	return snsmsg.Attributes(pkgName, e.inner())
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
