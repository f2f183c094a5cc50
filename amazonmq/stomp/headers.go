package stomp

import (
	"github.com/postroom/postroom"

	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-stomp/stomp/v3/frame"

	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// Headers this driver writes for itself. They never show up as attributes.
const (
	hdrPrefix        = "x-postroom-"
	hdrID            = "x-postroom-id"             // Message.ID
	hdrTypes         = "x-postroom-types"          // the types of the attributes that are not plain String
	hdrReceiveCount  = "x-postroom-receive-count"  // receives before a Nack sent the message again
	hdrFirstReceived = "x-postroom-first-received" // Unix milliseconds of the first receive
	hdrSentAt        = "x-postroom-sent-at"        // Unix milliseconds of the first send
	hdrGroupID       = "x-postroom-group-id"       // Message.GroupID (ActiveMQ does not echo JMSXGroupID)
	hdrSubject       = "x-postroom-subject"        // pubsub.Message.Subject

	hdrPersistent     = "persistent"
	hdrRedelivered    = "redelivered"
	hdrTimestamp      = "timestamp"
	hdrGroupAMQ       = "JMSXGroupID"
	hdrScheduledDelay = "AMQ_SCHEDULED_DELAY"
	hdrPrefetch       = "activemq.prefetchSize"
	hdrSubName        = "activemq.subscriptionName"
	hdrClientID       = "client-id"
)

// protocolHeaders are the headers STOMP and ActiveMQ give a meaning to.
// They are not attributes: Send refuses attributes of these names, and
// Receive leaves them out.
var protocolHeaders = map[string]bool{
	"message-id": true, "destination": true, "subscription": true, "ack": true,
	"content-length": true, "content-type": true, "receipt": true, "receipt-id": true,
	"transaction": true, "expires": true, "priority": true, "timestamp": true,
	"persistent": true, "redelivered": true, "correlation-id": true, "reply-to": true,
	"type": true, "id": true, "selector": true, "message": true, "host": true,
	"login": true, "passcode": true, "heart-beat": true, "version": true,
	"session": true, "server": true, "accept-version": true, "client-id": true,
}

// reservedHeader reports whether name is no attribute name: a protocol
// header, or one with a prefix STOMP brokers or this driver use.
func reservedHeader(name string) bool {
	return protocolHeaders[name] || strings.HasPrefix(name, hdrPrefix) ||
		strings.HasPrefix(name, "activemq.") || strings.HasPrefix(name, "AMQ_") ||
		strings.HasPrefix(name, "JMS")
}

// outMessage is what one SEND frame carries.
type outMessage struct {
	id         string
	body       []byte
	attrs      queue.Attributes
	groupID    string
	subject    string
	delay      time.Duration // > 0 only with scheduled delivery
	sentAt     time.Time
	receiveCnt int       // receives so far (a Nack sending the message again)
	firstRecv  time.Time // first receive (a Nack sending the message again)
	err        error     // why the driver refuses the message, checked before sending
}

// sendFrame builds the SEND frame of m to dest. Attributes become headers
// of their name; their value is the text of String and Number attributes,
// the JSON array of String.Array ones and the standard base64 of Binary
// ones, and one x-postroom-types header lists the type of every attribute
// that is not a plain String, as a URL query (name=type&…).
func sendFrame(op, dest string, m *outMessage) (*frame.Frame, error) {
	h := make([]string, 0, 2*(8+len(m.attrs)))
	h = append(h,
		frame.Destination, dest,
		frame.ContentLength, strconv.Itoa(len(m.body)),
		hdrPersistent, "true",
		hdrID, m.id,
		hdrSentAt, strconv.FormatInt(m.sentAt.UnixMilli(), 10))
	if m.groupID != "" {
		h = append(h, hdrGroupAMQ, m.groupID, hdrGroupID, m.groupID)
	}
	if m.subject != "" {
		h = append(h, hdrSubject, m.subject)
	}
	if m.delay > 0 {
		h = append(h, hdrScheduledDelay, strconv.FormatInt(max(m.delay.Milliseconds(), 1), 10))
	}
	if m.receiveCnt > 0 {
		h = append(h, hdrReceiveCount, strconv.Itoa(m.receiveCnt),
			hdrFirstReceived, strconv.FormatInt(m.firstRecv.UnixMilli(), 10))
	}
	var types strings.Builder
	for name, a := range m.attrs {
		v, err := encodeAttribute(op, name, a)
		if err != nil {
			return nil, err
		}
		h = append(h, name, v)
		if a.Type != queue.TypeString {
			if types.Len() > 0 {
				types.WriteByte('&')
			}
			types.WriteString(url.QueryEscape(name))
			types.WriteByte('=')
			types.WriteString(url.QueryEscape(a.Type))
		}
	}
	if types.Len() > 0 {
		h = append(h, hdrTypes, types.String())
	}
	f := &frame.Frame{Command: frame.SEND, Header: frame.NewHeader(h...), Body: m.body}
	return f, nil
}

func encodeAttribute(op, name string, a queue.Attribute) (string, error) {
	switch {
	case name == "":
		return "", ek.Errorf(postroom.ErrInvalid, op, "empty attribute name")
	case reservedHeader(name):
		return "", ek.Errorf(postroom.ErrInvalid, op, "attribute name %q is a STOMP or ActiveMQ header, or has a reserved prefix", name)
	}
	switch a.BaseType() {
	case queue.TypeString:
		return a.Value, nil
	case queue.TypeNumber:
		if !validate.Number(a.Value) {
			return "", ek.Errorf(postroom.ErrInvalid, op, "attribute %q: %q is not a number", name, a.Value)
		}
		return a.Value, nil
	case queue.TypeBinary:
		return base64.StdEncoding.EncodeToString(a.Binary), nil
	case queue.TypeStringArray:
		var vs []string
		if err := json.Unmarshal([]byte(a.Value), &vs); err != nil {
			return "", ek.Errorf(postroom.ErrInvalid, op, "attribute %q: String.Array value is not a JSON array of strings", name)
		}
		return a.Value, nil
	}
	return "", ek.Errorf(postroom.ErrInvalid, op, "attribute %q: unknown type %q", name, a.Type)
}

// received is what decodeFrame reads from a MESSAGE frame.
type received struct {
	msg          queue.Message
	receiveCount int // receives before this one, as counted by the sender of a Nack
	redelivered  bool
	sentAt       time.Time
	firstRecv    time.Time
	subject      string
}

// decodeFrame reads a MESSAGE frame. Headers that are no protocol header
// become attributes: String unless x-postroom-types says otherwise; a
// Binary value that is not valid base64 stays a String.
func decodeFrame(f *frame.Frame) received {
	var r received
	r.msg.Body = f.Body
	var types url.Values
	if t, ok := f.Header.Contains(hdrTypes); ok {
		types, _ = url.ParseQuery(t)
	}
	for i := range f.Header.Len() {
		k, v := f.Header.GetAt(i)
		switch k {
		case hdrID:
			r.msg.ID = v
			continue
		case hdrGroupID:
			r.msg.GroupID = v
			continue
		case hdrSubject:
			r.subject = v
			continue
		case hdrReceiveCount:
			r.receiveCount, _ = strconv.Atoi(v)
			continue
		case hdrFirstReceived:
			r.firstRecv = unixMilli(v)
			continue
		case hdrSentAt:
			r.sentAt = unixMilli(v)
			continue
		case hdrRedelivered:
			r.redelivered = v == "true"
			continue
		case hdrTimestamp:
			if r.sentAt.IsZero() {
				r.sentAt = unixMilli(v)
			}
			continue
		case frame.MessageId:
			if r.msg.ID == "" {
				r.msg.ID = v
			}
			continue
		}
		if reservedHeader(k) {
			continue
		}
		if _, dup := r.msg.Attributes[k]; dup {
			continue // the first of repeated headers counts
		}
		if r.msg.Attributes == nil {
			r.msg.Attributes = make(queue.Attributes)
		}
		r.msg.Attributes[k] = decodeAttribute(types.Get(k), v)
	}
	if r.subject != "" {
		if _, taken := r.msg.Attributes[pubsub.SubjectAttribute]; !taken {
			if r.msg.Attributes == nil {
				r.msg.Attributes = make(queue.Attributes)
			}
			r.msg.Attributes[pubsub.SubjectAttribute] = queue.String(r.subject)
		}
	}
	return r
}

func decodeAttribute(typ, v string) queue.Attribute {
	if typ == "" {
		return queue.String(v)
	}
	a := queue.Attribute{Type: typ, Value: v}
	if a.BaseType() == queue.TypeBinary {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return queue.String(v)
		}
		a.Value, a.Binary = "", b
	}
	return a
}

func unixMilli(v string) time.Time {
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// resendFrame builds the SEND frame with which Nack gives a queue message
// back: the received frame's own headers (so attributes travel byte for
// byte), without those the broker set on delivery, plus the receive count
// and the first receive time.
func resendFrame(f *frame.Frame, dest string, receives int, firstRecv time.Time, delay time.Duration) *frame.Frame {
	h := make([]string, 0, 2*(f.Header.Len()+4))
	h = append(h,
		frame.Destination, dest,
		frame.ContentLength, strconv.Itoa(len(f.Body)),
		hdrPersistent, "true",
		hdrReceiveCount, strconv.Itoa(receives),
		hdrFirstReceived, strconv.FormatInt(firstRecv.UnixMilli(), 10))
	if delay > 0 {
		h = append(h, hdrScheduledDelay, strconv.FormatInt(max(delay.Milliseconds(), 1), 10))
	}
	hasSentAt := false
	for i := range f.Header.Len() {
		k, v := f.Header.GetAt(i)
		switch {
		case k == hdrSentAt:
			hasSentAt = true
		case k == hdrGroupID:
			h = append(h, hdrGroupAMQ, v)
		case k == hdrTypes || k == hdrID || k == hdrSubject:
		case reservedHeader(k):
			continue
		}
		h = append(h, k, v)
	}
	if !hasSentAt {
		if ts, ok := f.Header.Contains(hdrTimestamp); ok {
			h = append(h, hdrSentAt, ts)
		}
	}
	if _, ok := f.Header.Contains(hdrID); !ok {
		h = append(h, hdrID, f.Header.Get(frame.MessageId))
	}
	return &frame.Frame{Command: frame.SEND, Header: frame.NewHeader(h...), Body: f.Body}
}
