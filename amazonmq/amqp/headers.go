package amqp

import (
	"github.com/postroom/postroom"

	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/postroom/postroom/internal/validate"
	"github.com/postroom/postroom/queue"
)

// Headers this driver writes for itself. They never show up as attributes.
const (
	hdrPrefix        = "x-postroom-"
	hdrReceiveCount  = "x-postroom-receive-count"  // receives before a delayed retry republished it
	hdrFirstReceived = "x-postroom-first-received" // Unix milliseconds of the first receive
	hdrGroupID       = "x-postroom-group-id"       // Message.GroupID
	hdrDeliveryCount = "x-delivery-count"          // quorum queues: redeliveries so far
)

// A typed marker is a header whose value is a field table holding the
// attribute's type and value, for the attributes a plain AMQP value cannot
// carry without losing their type: labelled types ("Number.int"), and
// numbers whose decimal text would not survive an int64 or float64.
const (
	markerType  = "postroom-type"
	markerValue = "value"
)

// encodeAttributes maps attributes to AMQP headers, keeping their types:
//
//	String        string
//	Number        int64, or float64, when that prints back as the same text;
//	              a typed marker otherwise
//	Binary        []byte (byte array, the "x" field type)
//	String.Array  array of strings
//	"T.label"     a typed marker
//
// extra is how many more headers the caller will add.
func encodeAttributes(op string, attrs queue.Attributes, extra int) (amqp091.Table, error) {
	if len(attrs)+extra == 0 {
		return nil, nil
	}
	h := make(amqp091.Table, len(attrs)+extra)
	for name, a := range attrs {
		v, err := encodeAttribute(op, name, a)
		if err != nil {
			return nil, err
		}
		h[name] = v
	}
	return h, nil
}

func encodeAttribute(op, name string, a queue.Attribute) (any, error) {
	switch {
	case name == "":
		return nil, ek.Errorf(postroom.ErrInvalid, op, "empty attribute name")
	case len(name) > 255:
		return nil, ek.Errorf(postroom.ErrInvalid, op, "attribute name %.20q… over 255 bytes", name)
	case strings.HasPrefix(name, hdrPrefix):
		return nil, ek.Errorf(postroom.ErrInvalid, op, "attribute name %q: the prefix %q is reserved", name, hdrPrefix)
	}
	labelled := a.Type != a.BaseType()
	switch a.BaseType() {
	case queue.TypeString:
		if !labelled {
			return a.Value, nil
		}
	case queue.TypeNumber:
		if !validate.Number(a.Value) {
			return nil, ek.Errorf(postroom.ErrInvalid, op, "attribute %q: %q is not a number", name, a.Value)
		}
		if labelled {
			break
		}
		if n, err := strconv.ParseInt(a.Value, 10, 64); err == nil && strconv.FormatInt(n, 10) == a.Value {
			return n, nil
		}
		if f, err := strconv.ParseFloat(a.Value, 64); err == nil && !math.IsInf(f, 0) &&
			strconv.FormatFloat(f, 'g', -1, 64) == a.Value && strings.ContainsAny(a.Value, ".eE") {
			return f, nil
		}
	case queue.TypeBinary:
		b := a.Binary
		if b == nil {
			b = []byte{}
		}
		if !labelled {
			return b, nil
		}
		return amqp091.Table{markerType: a.Type, markerValue: b}, nil
	case queue.TypeStringArray:
		var vs []string
		if err := json.Unmarshal([]byte(a.Value), &vs); err != nil {
			return nil, ek.Errorf(postroom.ErrInvalid, op, "attribute %q: String.Array value is not a JSON array of strings", name)
		}
		if labelled {
			break
		}
		arr := make([]any, len(vs))
		for i, v := range vs {
			arr[i] = v
		}
		return arr, nil
	default:
		return nil, ek.Errorf(postroom.ErrInvalid, op, "attribute %q: unknown type %q", name, a.Type)
	}
	return amqp091.Table{markerType: a.Type, markerValue: a.Value}, nil
}

// decodeHeaders maps AMQP headers back to attributes, leaving out the
// headers of this driver and of RabbitMQ's dead-lettering. Headers written
// by other clients map by their AMQP type: strings, booleans and
// timestamps to String, integers, floats and decimals to Number, byte
// arrays to Binary, arrays of strings to String.Array; other values (nested
// tables, mixed arrays, void) are left out and stay reachable through the
// raw delivery.
func decodeHeaders(h amqp091.Table) queue.Attributes {
	var attrs queue.Attributes
	for name, v := range h {
		if internalHeader(name) {
			continue
		}
		a, ok := decodeValue(v)
		if !ok {
			continue
		}
		if attrs == nil {
			attrs = make(queue.Attributes, len(h))
		}
		attrs[name] = a
	}
	return attrs
}

// internalHeader reports the headers that are no attributes.
func internalHeader(name string) bool {
	return strings.HasPrefix(name, hdrPrefix) || name == hdrDeliveryCount || name == "x-death" ||
		strings.HasPrefix(name, "x-first-death-") || strings.HasPrefix(name, "x-last-death-")
}

func decodeValue(v any) (queue.Attribute, bool) {
	switch v := v.(type) {
	case string:
		return queue.String(v), true
	case []byte:
		return queue.Binary(v), true
	case bool:
		return queue.String(strconv.FormatBool(v)), true
	case time.Time:
		return queue.String(v.UTC().Format(time.RFC3339)), true
	case float32:
		return queue.Number(strconv.FormatFloat(float64(v), 'g', -1, 32)), true
	case float64:
		return queue.Float(v), true
	case amqp091.Decimal:
		return queue.Number(decimalString(v)), true
	case amqp091.Table:
		t, ok := v[markerType].(string)
		if !ok {
			return queue.Attribute{}, false
		}
		switch val := v[markerValue].(type) {
		case string:
			return queue.Attribute{Type: t, Value: val}, true
		case []byte:
			return queue.Attribute{Type: t, Binary: val}, true
		}
		return queue.Attribute{}, false
	case []any:
		vs := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return queue.Attribute{}, false
			}
			vs[i] = s
		}
		return queue.StringArray(vs...), true
	}
	if n, ok := intValue(v); ok {
		return queue.Int(n), true
	}
	if v, ok := v.(uint64); ok {
		return queue.Number(strconv.FormatUint(v, 10)), true
	}
	return queue.Attribute{}, false
}

// intValue returns an integer header value as an int64.
func intValue(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	}
	return 0, false
}

// decimalString prints an AMQP decimal (Value × 10^-Scale) as decimal text.
func decimalString(d amqp091.Decimal) string {
	s := strconv.FormatInt(int64(d.Value), 10)
	if d.Scale == 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if n := int(d.Scale) + 1 - len(s); n > 0 {
		s = strings.Repeat("0", n) + s
	}
	s = s[:len(s)-int(d.Scale)] + "." + s[len(s)-int(d.Scale):]
	if neg {
		s = "-" + s
	}
	return s
}
