package stomp

import (
	"io"
	"testing"
	"time"

	"github.com/go-stomp/stomp/v3/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// asReceived turns a SEND frame into the MESSAGE frame ActiveMQ would
// deliver for it.
func asReceived(f *frame.Frame) *frame.Frame {
	m := f.Clone()
	m.Command = frame.MESSAGE
	m.Header.Del(hdrGroupAMQ) // ActiveMQ does not echo it
	m.Header.Add(frame.MessageId, "ID:broker-1")
	m.Header.Add(frame.Subscription, "sub-1")
	m.Header.Add(frame.Ack, "ack-1")
	m.Header.Add("priority", "4")
	m.Header.Add(hdrTimestamp, "1700000000000")
	return m
}

func TestHeadersRoundTrip(t *testing.T) {
	sent := time.UnixMilli(1700000000123)
	attrs := queue.Attributes{
		"customer":  queue.String("c-42"),
		"amount":    queue.Number("12.5"),
		"count":     queue.Number("-3e10"),
		"blob":      queue.Binary([]byte{0, 1, 2, 255}),
		"tags":      queue.StringArray("a", "b:c"),
		"labelled":  queue.Attribute{Type: "Number.int", Value: "7"},
		"png":       queue.Attribute{Type: "Binary.png", Binary: []byte("\x89PNG")},
		"odd:name":  queue.String("line\nbreak: and \\ backslash"),
		"empty":     queue.String(""),
		"with=type": queue.Attribute{Type: "String.custom", Value: "x&y"},
	}
	m := &outMessage{id: "id-1", body: []byte("body"), attrs: attrs, groupID: "g", subject: "hello", sentAt: sent}
	f, err := sendFrame("send", "/queue/q", m)
	require.NoError(t, err)
	assert.Equal(t, "true", f.Header.Get(hdrPersistent))
	assert.Equal(t, "4", f.Header.Get(frame.ContentLength))
	assert.Equal(t, "g", f.Header.Get(hdrGroupAMQ), "GroupID is an ActiveMQ message group")

	// Through the wire codec, so that escaping is exercised.
	r := decodeFrame(asReceived(wire(t, f)))
	assert.Equal(t, "id-1", r.msg.ID)
	assert.Equal(t, "g", r.msg.GroupID)
	assert.Equal(t, []byte("body"), r.msg.Body)
	assert.Equal(t, sent, r.sentAt)
	assert.Equal(t, "hello", r.subject)
	want := attrs.Clone()
	want[pubsub.SubjectAttribute] = queue.String("hello")
	for name, a := range want {
		got, ok := r.msg.Attributes[name]
		if assert.True(t, ok, "attribute %q", name) {
			assert.Equal(t, a.Type, got.Type, "type of %q", name)
			assert.Equal(t, a.Value, got.Value, "value of %q", name)
			assert.Equal(t, len(a.Binary), len(got.Binary), "binary of %q", name)
			assert.Equal(t, string(a.Binary), string(got.Binary), "binary of %q", name)
		}
	}
	assert.Len(t, r.msg.Attributes, len(want), "no protocol header becomes an attribute")
}

// wire encodes and decodes f with go-stomp's codec.
func wire(t *testing.T, f *frame.Frame) *frame.Frame {
	t.Helper()
	var buf bufferRW
	require.NoError(t, frame.NewWriter(&buf).Write(f))
	g, err := frame.NewReader(&buf).Read()
	require.NoError(t, err)
	return g
}

type bufferRW struct{ b []byte }

func (w *bufferRW) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
func (w *bufferRW) Read(p []byte) (int, error) {
	n := copy(p, w.b)
	w.b = w.b[n:]
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func TestSendFrameRefuses(t *testing.T) {
	tests := []struct {
		name  string
		attrs queue.Attributes
	}{
		{"empty name", queue.Attributes{"": queue.String("x")}},
		{"protocol header", queue.Attributes{"priority": queue.String("9")}},
		{"destination", queue.Attributes{"destination": queue.String("/queue/other")}},
		{"driver prefix", queue.Attributes{"x-postroom-id": queue.String("x")}},
		{"activemq prefix", queue.Attributes{"activemq.exclusive": queue.String("true")}},
		{"scheduler header", queue.Attributes{"AMQ_SCHEDULED_DELAY": queue.Number("1000")}},
		{"JMS header", queue.Attributes{"JMSXGroupID": queue.String("g")}},
		{"not a number", queue.Attributes{"n": queue.Number("twelve")}},
		{"bad string array", queue.Attributes{"a": {Type: queue.TypeStringArray, Value: "[1,2]"}}},
		{"unknown type", queue.Attributes{"a": {Type: "Date", Value: "today"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sendFrame("send", "/queue/q", &outMessage{id: "1", attrs: tc.attrs})
			require.ErrorIs(t, err, postroom.ErrInvalid)
		})
	}
}

func TestDecodeForeignFrame(t *testing.T) {
	f := frame.New(frame.MESSAGE,
		frame.MessageId, "ID:x-1", frame.Destination, "/queue/q", frame.Subscription, "s",
		frame.Ack, "a", hdrTimestamp, "1700000000000", hdrRedelivered, "true",
		"app", "v", "app", "second", hdrTypes, "bad=Binary", "bad", "not base64!")
	f.Body = []byte("text")
	r := decodeFrame(f)
	assert.Equal(t, "ID:x-1", r.msg.ID, "the broker's message id when the sender set none")
	assert.True(t, r.redelivered)
	assert.Equal(t, time.UnixMilli(1700000000000), r.sentAt)
	assert.Equal(t, queue.Attributes{"app": queue.String("v"), "bad": queue.String("not base64!")}, r.msg.Attributes,
		"the first of repeated headers counts; a bad Binary stays a String")
}

func TestResendFrame(t *testing.T) {
	m := &outMessage{id: "id-1", body: []byte("b"), attrs: queue.Attributes{"n": queue.Int(1)}, groupID: "g", sentAt: time.UnixMilli(1700000000123)}
	f, err := sendFrame("send", "/queue/q", m)
	require.NoError(t, err)
	got := asReceived(f)
	got.Header.Add(hdrRedelivered, "true")
	first := time.UnixMilli(1700000001000)
	again := resendFrame(got, "/queue/q", 2, first, 1500*time.Millisecond)
	assert.Equal(t, frame.SEND, again.Command)
	for _, h := range []string{frame.MessageId, frame.Subscription, frame.Ack, "priority", hdrRedelivered} {
		_, ok := again.Header.Contains(h)
		assert.False(t, ok, "header %s the broker set is dropped", h)
	}
	assert.Equal(t, "1500", again.Header.Get(hdrScheduledDelay))
	assert.Equal(t, "g", again.Header.Get(hdrGroupAMQ), "the message group is restored")
	r := decodeFrame(asReceived(again))
	assert.Equal(t, "id-1", r.msg.ID, "the id stays")
	assert.Equal(t, 2, r.receiveCount)
	assert.Equal(t, first, r.firstRecv)
	assert.Equal(t, m.sentAt, r.sentAt, "the first send time stays")
	assert.Equal(t, queue.Attributes{"n": queue.Int(1)}, r.msg.Attributes)
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add("x-postroom-types", "a=Binary&b=Number", "a", "AAEC", []byte("body"))
	f.Add("x-postroom-receive-count", "-7", "redelivered", "true", []byte{})
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, body []byte) {
		fr := frame.New(frame.MESSAGE, k1, v1, k2, v2, frame.MessageId, "m")
		fr.Body = body
		r := decodeFrame(fr)
		assert.Equal(t, body, r.msg.Body)
		for name := range r.msg.Attributes {
			assert.False(t, reservedHeader(name) && name != pubsub.SubjectAttribute, "reserved header %q as an attribute", name)
		}
	})
}
