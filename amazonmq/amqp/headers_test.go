package amqp

import (
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/rawvalue"
	"github.com/postroom/postroom/queue"
)

func TestAttributeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		attr queue.Attribute
		wire any // the AMQP header value
	}{
		{"string", queue.String("c-42"), "c-42"},
		{"empty string", queue.String(""), ""},
		{"integer", queue.Int(42), int64(42)},
		{"negative integer", queue.Int(-7), int64(-7)},
		{"decimal", queue.Number("12.5"), 12.5},
		{"float", queue.Float(0.1), 0.1},
		{"trailing zero keeps its text", queue.Number("1.50"), amqp091.Table{markerType: "Number", markerValue: "1.50"}},
		{"exponent keeps its text", queue.Number("1e3"), amqp091.Table{markerType: "Number", markerValue: "1e3"}},
		{"leading plus keeps its text", queue.Number("+5"), amqp091.Table{markerType: "Number", markerValue: "+5"}},
		{"huge integer keeps its text", queue.Number("123456789012345678901234567890"), amqp091.Table{markerType: "Number", markerValue: "123456789012345678901234567890"}},
		{"binary", queue.Binary([]byte{0, 1, 255}), []byte{0, 1, 255}},
		{"string array", queue.StringArray("a", "b"), []any{"a", "b"}},
		{"empty string array", queue.StringArray(), []any{}},
		{"labelled number", queue.Attribute{Type: "Number.int", Value: "3"}, amqp091.Table{markerType: "Number.int", markerValue: "3"}},
		{"labelled string", queue.Attribute{Type: "String.uuid", Value: "x"}, amqp091.Table{markerType: "String.uuid", markerValue: "x"}},
		{"labelled binary", queue.Attribute{Type: "Binary.png", Binary: []byte{9}}, amqp091.Table{markerType: "Binary.png", markerValue: []byte{9}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := encodeAttributes("send", queue.Attributes{"a": tc.attr}, 0)
			require.NoError(t, err)
			assert.Equal(t, tc.wire, h["a"], "the header on the wire")
			require.NoError(t, h.Validate(), "amqp091 accepts the table")
			got := decodeHeaders(h)["a"]
			assert.Equal(t, tc.attr.Type, got.Type)
			assert.Equal(t, tc.attr.Value, got.Value)
			if tc.attr.Binary != nil {
				assert.Equal(t, tc.attr.Binary, got.Binary)
			}
		})
	}
}

func TestEncodeAttributesInvalid(t *testing.T) {
	tests := []struct {
		name  string
		attrs queue.Attributes
	}{
		{"empty name", queue.Attributes{"": queue.String("x")}},
		{"long name", queue.Attributes{string(make([]byte, 256)): queue.String("x")}},
		{"reserved prefix", queue.Attributes{"x-postroom-receive-count": queue.Int(1)}},
		{"not a number", queue.Attributes{"n": queue.Number("twelve")}},
		{"unknown type", queue.Attributes{"n": {Type: "Date", Value: "today"}}},
		{"bad string array", queue.Attributes{"n": {Type: queue.TypeStringArray, Value: "[1,2]"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := encodeAttributes("send", tc.attrs, 0)
			assert.ErrorIs(t, err, postroom.ErrInvalid)
		})
	}
}

func TestDecodeForeignHeaders(t *testing.T) {
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := amqp091.Table{
		"i8": int8(-3), "i16": int16(300), "i32": int32(70000), "i64": int64(1) << 40, "u8": uint8(200),
		"u16": uint16(60000), "u32": uint32(4000000000), "f32": float32(1.5),
		"bool": true, "time": when, "dec": amqp091.Decimal{Scale: 2, Value: -1234},
		"small dec": amqp091.Decimal{Scale: 3, Value: 5},
		"nested":    amqp091.Table{"a": "b"}, "mixed": []any{"a", int32(1)}, "void": nil,
		"x-death": []any{amqp091.Table{"count": int64(1)}}, "x-first-death-queue": "q",
		"x-delivery-count": int64(2), hdrReceiveCount: int64(3), hdrGroupID: "g",
	}
	want := queue.Attributes{
		"i8": queue.Number("-3"), "i16": queue.Number("300"), "i32": queue.Number("70000"),
		"i64": queue.Number("1099511627776"), "u8": queue.Number("200"), "u16": queue.Number("60000"),
		"u32": queue.Number("4000000000"), "f32": queue.Number("1.5"),
		"bool": queue.String("true"), "time": queue.String("2026-01-02T03:04:05Z"),
		"dec": queue.Number("-12.34"), "small dec": queue.Number("0.005"),
	}
	assert.Equal(t, want, decodeHeaders(h))
	assert.Nil(t, decodeHeaders(nil))
}

func TestReceiveCount(t *testing.T) {
	tests := []struct {
		name string
		d    amqp091.Delivery
		want int
	}{
		{"first", amqp091.Delivery{}, 1},
		{"redelivered classic", amqp091.Delivery{Redelivered: true}, 2},
		{"quorum count", amqp091.Delivery{Redelivered: true, Headers: amqp091.Table{hdrDeliveryCount: int64(4)}}, 5},
		{"after two delayed retries", amqp091.Delivery{Headers: amqp091.Table{hdrReceiveCount: int64(2)}}, 3},
		{"retried and redelivered", amqp091.Delivery{Redelivered: true, Headers: amqp091.Table{hdrReceiveCount: int32(2)}}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, receiveCount(&tc.d))
		})
	}
}

func TestReceipt(t *testing.T) {
	r := receipt(12, 345)
	assert.Equal(t, "12.345", r)
	e, tag, ok := parseReceipt(r)
	assert.True(t, ok)
	assert.Equal(t, uint64(12), e)
	assert.Equal(t, uint64(345), tag)
	for _, bad := range []string{"", "12", "a.b", "1.-2", ".5"} {
		_, _, ok := parseReceipt(bad)
		assert.False(t, ok, bad)
	}
}

func TestRetryPublishingStripsDeadLetterHeaders(t *testing.T) {
	raw := amqp091.Delivery{
		MessageId: "m1", Body: []byte("b"), DeliveryMode: amqp091.Persistent,
		Headers: amqp091.Table{"keep": "me", "x-death": []any{}, "x-last-death-reason": "expired", hdrDeliveryCount: int64(1), hdrReceiveCount: int64(1)},
	}
	first := time.UnixMilli(1_700_000_000_000)
	d := &queue.Delivery{Message: queue.Message{ID: "m1"}, ReceiveCount: 3, FirstReceivedAt: first}
	rawvalue.Set(d, &raw)
	p := retryPublishing(d, time.Now())
	assert.Equal(t, amqp091.Table{"keep": "me", hdrReceiveCount: int64(3), hdrFirstReceived: first.UnixMilli()}, p.Headers)
	assert.Equal(t, "m1", p.MessageId)
	assert.Equal(t, amqp091.Persistent, p.DeliveryMode)

	// Without a raw delivery, the message is rebuilt from the delivery.
	p = retryPublishing(&queue.Delivery{Message: queue.Message{ID: "m2", Body: []byte("x"), GroupID: "g", Attributes: queue.Attributes{"a": queue.String("b")}}, ReceiveCount: 1}, first)
	assert.Equal(t, amqp091.Table{"a": "b", hdrGroupID: "g", hdrReceiveCount: int64(1), hdrFirstReceived: first.UnixMilli()}, p.Headers)
}
