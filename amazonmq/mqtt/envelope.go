package mqtt

import (
	"github.com/postroom/postroom"

	"bytes"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/queue"
)

// envelopeMagic opens every envelope: a NUL byte (so that no text payload
// looks like one), "pr", and the format version.
var envelopeMagic = []byte{0x00, 'p', 'r', 0x01}

// envelope is what one MQTT payload carries besides the body.
type envelope struct {
	id      string
	sentAt  time.Time
	subject string
	groupID string
	attrs   queue.Attributes
}

// appendEnvelope appends the envelope of e and body to dst. The format
// (version 1) is
//
//	magic    4 bytes: 0x00 'p' 'r' 0x01
//	id       uvarint length, bytes
//	sent at  uvarint Unix milliseconds (0: unknown)
//	subject  uvarint length, bytes
//	group id uvarint length, bytes
//	count    uvarint number of attributes
//	each     name, type, value: each a uvarint length and bytes (the
//	         raw bytes of a Binary value, the text of the others)
//	body     the rest of the payload
func appendEnvelope(dst []byte, e *envelope, body []byte) []byte {
	dst = append(dst, envelopeMagic...)
	dst = appendString(dst, e.id)
	var ms uint64
	if !e.sentAt.IsZero() && e.sentAt.UnixMilli() > 0 {
		ms = uint64(e.sentAt.UnixMilli())
	}
	dst = binary.AppendUvarint(dst, ms)
	dst = appendString(dst, e.subject)
	dst = appendString(dst, e.groupID)
	dst = binary.AppendUvarint(dst, uint64(len(e.attrs)))
	for name, a := range e.attrs {
		dst = appendString(dst, name)
		dst = appendString(dst, a.Type)
		if a.BaseType() == queue.TypeBinary {
			dst = binary.AppendUvarint(dst, uint64(len(a.Binary)))
			dst = append(dst, a.Binary...)
		} else {
			dst = appendString(dst, a.Value)
		}
	}
	return append(dst, body...)
}

// envelopeSize is an upper bound of the length of e's envelope.
func envelopeSize(e *envelope) int {
	n := len(envelopeMagic) + 4*binary.MaxVarintLen64 + len(e.id) + len(e.subject) + len(e.groupID)
	for name, a := range e.attrs {
		n += 3*binary.MaxVarintLen64 + len(name) + len(a.Type) + len(a.Value) + len(a.Binary)
	}
	return n
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// openEnvelope splits payload into its envelope and body. A payload that
// is no well-formed envelope is a body of its own, published by a client
// that is not postroom: ok is false then.
func openEnvelope(payload []byte) (e envelope, body []byte, ok bool) {
	if !bytes.HasPrefix(payload, envelopeMagic) {
		return envelope{}, payload, false
	}
	r := reader{b: payload[len(envelopeMagic):]}
	e.id = r.string()
	if ms := r.uvarint(); ms > 0 && ms < 1<<62 {
		e.sentAt = time.UnixMilli(int64(ms))
	}
	e.subject = r.string()
	e.groupID = r.string()
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		return envelope{}, payload, false
	}
	if n > 0 {
		e.attrs = make(queue.Attributes, n)
	}
	for range n {
		name, typ, value := r.string(), r.string(), r.bytes()
		if r.bad {
			return envelope{}, payload, false
		}
		a := queue.Attribute{Type: typ}
		if a.BaseType() == queue.TypeBinary {
			a.Binary = value
		} else {
			a.Value = string(value)
		}
		e.attrs[name] = a
	}
	return e, r.b, true
}

// reader reads an envelope; bad is set on the first malformed field.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) uvarint() uint64 {
	if r.bad {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string { return string(r.bytes()) }

// checkAttributes checks the attributes of one message: names are not
// empty, types are String, Number, Binary or String.Array (with an
// optional label), Numbers are numbers and String.Arrays JSON arrays of
// strings.
func checkAttributes(op string, attrs queue.Attributes) error {
	for name, a := range attrs {
		if name == "" {
			return ek.Errorf(postroom.ErrInvalid, op, "empty attribute name")
		}
		switch a.BaseType() {
		case queue.TypeString, queue.TypeBinary:
		case queue.TypeNumber:
			if !validate.Number(a.Value) {
				return ek.Errorf(postroom.ErrInvalid, op, "attribute %q: %q is not a number", name, a.Value)
			}
		case queue.TypeStringArray:
			var vs []string
			if err := json.Unmarshal([]byte(a.Value), &vs); err != nil {
				return ek.Errorf(postroom.ErrInvalid, op, "attribute %q: String.Array value is not a JSON array of strings", name)
			}
		default:
			return ek.Errorf(postroom.ErrInvalid, op, "attribute %q: unknown type %q", name, a.Type)
		}
	}
	return nil
}
