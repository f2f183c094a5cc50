package mqtt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		env  envelope
		body []byte
	}{
		{"empty", envelope{}, nil},
		{"body only", envelope{id: "id-1"}, []byte("hello")},
		{"everything", envelope{
			id: "id-2", sentAt: time.UnixMilli(1700000000123), subject: "subj", groupID: "g",
			attrs: queue.Attributes{
				"s":        queue.String("v"),
				"empty":    queue.String(""),
				"n":        queue.Number("-1.5e3"),
				"b":        queue.Binary([]byte{0, 0x00, 'p', 'r', 1}),
				"tags":     queue.StringArray("a", "b"),
				"labelled": {Type: "Binary.png", Binary: []byte{0x89}},
				"ünïcode":  queue.String("✓"),
			},
		}, []byte{0, 'p', 'r', 1, 0xff}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			payload := appendEnvelope(nil, &tc.env, tc.body)
			assert.LessOrEqual(t, len(payload), envelopeSize(&tc.env)+len(tc.body))
			got, body, ok := openEnvelope(payload)
			require.True(t, ok)
			assert.Equal(t, string(tc.body), string(body))
			assert.Equal(t, tc.env.id, got.id)
			assert.Equal(t, tc.env.sentAt, got.sentAt)
			assert.Equal(t, tc.env.subject, got.subject)
			assert.Equal(t, tc.env.groupID, got.groupID)
			require.Len(t, got.attrs, len(tc.env.attrs))
			for k, a := range tc.env.attrs {
				g := got.attrs[k]
				assert.Equal(t, a.Type, g.Type, k)
				assert.Equal(t, a.Value, g.Value, k)
				assert.Equal(t, string(a.Binary), string(g.Binary), k)
			}
		})
	}
}

func TestOpenForeignPayload(t *testing.T) {
	for _, p := range [][]byte{
		nil,
		[]byte("plain text"),
		[]byte(`{"json":true}`),
		{0, 'p', 'r'},                   // too short
		{0, 'p', 'r', 1, 0x80},          // truncated varint
		{0, 'p', 'r', 1, 5, 'a'},        // id longer than the payload
		{0, 'p', 'r', 1, 0, 0, 0, 0, 9}, // 9 attributes in no bytes
		{0, 'p', 'r', 2, 0, 0, 0, 0, 0}, // an unknown version
	} {
		_, body, ok := openEnvelope(p)
		assert.False(t, ok, "%q", p)
		assert.Equal(t, p, body, "a foreign payload is the body")
	}
}

func FuzzOpenEnvelope(f *testing.F) {
	f.Add(appendEnvelope(nil, &envelope{id: "x", attrs: queue.Attributes{"a": queue.String("b")}}, []byte("body")))
	f.Add([]byte("plain"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, body, ok := openEnvelope(payload)
		if !ok {
			require.Equal(t, payload, body)
			return
		}
		again := appendEnvelope(nil, &e, body)
		e2, body2, ok := openEnvelope(again)
		require.True(t, ok)
		require.Equal(t, string(body), string(body2))
		require.Equal(t, e.id, e2.id)
		require.Equal(t, len(e.attrs), len(e2.attrs))
	})
}

func TestCheckAttributes(t *testing.T) {
	tests := []struct {
		name  string
		attrs queue.Attributes
		ok    bool
	}{
		{"fine", queue.Attributes{"a": queue.String("x"), "n": queue.Int(3), "b": queue.Binary(nil), "l": {Type: "String.x", Value: "y"}}, true},
		{"empty name", queue.Attributes{"": queue.String("x")}, false},
		{"not a number", queue.Attributes{"n": queue.Number("x")}, false},
		{"bad array", queue.Attributes{"a": {Type: queue.TypeStringArray, Value: "nope"}}, false},
		{"unknown type", queue.Attributes{"a": {Type: "Date", Value: "x"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkAttributes("publish", tc.attrs)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, postroom.ErrInvalid)
			}
		})
	}
}
