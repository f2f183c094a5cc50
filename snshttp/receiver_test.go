package snshttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/internal/snsmsg"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
	"github.com/postroom/postroom/snshttp"
)

// sns stands in for SNS's hosts: it serves testdata's signing certificate
// at any .pem path and records the other GETs (SubscribeURLs), without a
// network.
type sns struct {
	mu      sync.Mutex
	gets    []string
	certErr bool
	cert    []byte
}

func (s *sns) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := httptest.NewRecorder()
	if strings.HasSuffix(r.URL.Path, ".pem") {
		if s.certErr {
			return nil, errors.New("connection refused")
		}
		if s.cert == nil {
			b, err := os.ReadFile(filepath.Join("testdata", "signing-cert.pem"))
			if err != nil {
				return nil, err
			}
			s.cert = b
		}
		_, _ = rec.Write(s.cert)
	} else {
		s.gets = append(s.gets, r.URL.String())
		_, _ = rec.WriteString("<ConfirmSubscriptionResponse/>")
	}
	return rec.Result(), nil
}

func (s *sns) subscribeGets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.gets...)
}

// handled collects what the handler got.
type handled struct {
	mu  sync.Mutex
	got []*queue.Delivery
	err error
}

func (h *handled) handle(ctx context.Context, d *queue.Delivery) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, d)
	return h.err
}

func (h *handled) deliveries() []*queue.Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*queue.Delivery(nil), h.got...)
}

func newReceiver(t *testing.T, h consumer.Handler, opts snshttp.Options) (*snshttp.Receiver, *sns, *[]error) {
	t.Helper()
	fake := &sns{}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: fake}
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixtureTime.Add(5 * time.Second) }
	}
	var errs []error
	var mu sync.Mutex
	opts.ErrorLog = func(r *http.Request, err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	r, err := snshttp.New(h, opts)
	require.NoError(t, err)
	return r, fake, &errs
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// post sends body to r as SNS does, with the message type header of the
// body's Type.
func post(r http.Handler, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/sns", strings.NewReader(string(body)))
	var probe struct{ Type, MessageId, TopicArn string }
	if json.Unmarshal(body, &probe) == nil {
		req.Header.Set("X-Amz-Sns-Message-Type", probe.Type)
		req.Header.Set("X-Amz-Sns-Message-Id", probe.MessageId)
		req.Header.Set("X-Amz-Sns-Topic-Arn", probe.TopicArn)
	}
	req.Header.Set("Content-Type", "text/plain; charset=UTF-8")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

// edit returns a fixture with fields changed, and signs it again when key
// is set.
func edit(t *testing.T, name string, change func(e *snsmsg.Envelope), resign bool) []byte {
	t.Helper()
	e, ok := snsmsg.Parse(fixture(t, name))
	require.True(t, ok)
	change(e)
	if resign {
		require.NoError(t, snsmsg.Sign(loadKey(t), e))
	}
	return snsmsg.Marshal(e)
}

func TestNotificationsOfBothSignatureVersions(t *testing.T) {
	h := &handled{}
	r, _, errs := newReceiver(t, h.handle, snshttp.Options{TopicARNs: []string{fixtureTopic}})
	for _, name := range []string{"notification-v1.json", "notification-v2.json"} {
		rec := post(r, fixture(t, name))
		assert.Equal(t, http.StatusOK, rec.Code, name)
	}
	require.Empty(t, *errs)
	ds := h.deliveries()
	require.Len(t, ds, 2)

	d := ds[0]
	assert.Equal(t, "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", d.ID)
	assert.Equal(t, "Hello world!", string(d.Body))
	assert.Equal(t, queue.String("example_corp"), d.Attributes["store"])
	assert.Equal(t, queue.Number("210.75"), d.Attributes["price"])
	assert.Equal(t, queue.StringArray("S", "M"), d.Attributes["sizes"])
	assert.Equal(t, []byte{0, 1, 2, 255}, d.Attributes["checksum"].Binary)
	assert.Equal(t, queue.String("My First Message"), d.Attributes[pubsub.SubjectAttribute])
	assert.Equal(t, fixtureTime, d.SentAt)
	assert.Equal(t, 1, d.ReceiveCount)
	var env *snshttp.Envelope
	require.True(t, d.As(&env))
	assert.Equal(t, fixtureTopic, env.TopicARN)
	assert.Equal(t, "1", env.SignatureVersion)

	assert.Equal(t, `{"order":42,"items":["book"]}`, string(ds[1].Body))
	assert.Empty(t, ds[1].Attributes, "no attributes, no subject")
}

func TestSubscriptionConfirmation(t *testing.T) {
	t.Run("GET of the SubscribeURL", func(t *testing.T) {
		h := &handled{}
		r, fake, errs := newReceiver(t, h.handle, snshttp.Options{})
		rec := post(r, fixture(t, "subscription-confirmation.json"))
		require.Equal(t, http.StatusOK, rec.Code, "%v", *errs)
		gets := fake.subscribeGets()
		require.Len(t, gets, 1)
		assert.True(t, strings.HasPrefix(gets[0], "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn="), gets[0])
		assert.Empty(t, h.deliveries(), "a confirmation is not a message for the handler")
	})
	t.Run("callback", func(t *testing.T) {
		var got *snshttp.Envelope
		r, fake, _ := newReceiver(t, (&handled{}).handle, snshttp.Options{OnConfirm: func(ctx context.Context, e *snshttp.Envelope) error {
			got = e
			return nil
		}})
		assert.Equal(t, http.StatusOK, post(r, fixture(t, "subscription-confirmation.json")).Code)
		require.NotNil(t, got)
		assert.True(t, strings.HasPrefix(got.Token, "2336412f"))
		assert.Empty(t, fake.subscribeGets(), "the callback confirms, not the receiver")

		failing, _, _ := newReceiver(t, (&handled{}).handle, snshttp.Options{OnConfirm: func(context.Context, *snshttp.Envelope) error {
			return errors.New("not now")
		}})
		assert.Equal(t, http.StatusInternalServerError, post(failing, fixture(t, "subscription-confirmation.json")).Code)
	})
	t.Run("SubscribeURL off SNS's hosts", func(t *testing.T) {
		r, fake, errs := newReceiver(t, (&handled{}).handle, snshttp.Options{})
		body := edit(t, "subscription-confirmation.json", func(e *snsmsg.Envelope) {
			e.SubscribeURL = "https://attacker.example/?Action=ConfirmSubscription"
		}, true)
		assert.Equal(t, http.StatusForbidden, post(r, body).Code)
		assert.Empty(t, fake.subscribeGets(), "nothing fetched from another host, even when signed")
		require.Len(t, *errs, 1)
		assert.ErrorIs(t, (*errs)[0], postroom.ErrInvalid)
	})
	t.Run("unsubscribe", func(t *testing.T) {
		var n int
		r, fake, _ := newReceiver(t, (&handled{}).handle, snshttp.Options{OnUnsubscribe: func(context.Context, *snshttp.Envelope) error {
			n++
			return nil
		}})
		assert.Equal(t, http.StatusOK, post(r, fixture(t, "unsubscribe-confirmation.json")).Code)
		assert.Equal(t, 1, n)
		assert.Empty(t, fake.subscribeGets(), "an unsubscribe is not undone")
	})
}

func TestRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   func(t *testing.T) []byte
		status int
		is     error
		opts   snshttp.Options
	}{
		{name: "tampered message", status: http.StatusForbidden, is: postroom.ErrInvalid, body: func(t *testing.T) []byte {
			return edit(t, "notification-v1.json", func(e *snsmsg.Envelope) { e.Message = "Hello attacker!" }, false)
		}},
		{name: "tampered attribute-free subject", status: http.StatusForbidden, is: postroom.ErrInvalid, body: func(t *testing.T) []byte {
			return edit(t, "notification-v2.json", func(e *snsmsg.Envelope) { e.Subject = "added" }, false)
		}},
		{name: "certificate on another host", status: http.StatusForbidden, is: postroom.ErrInvalid, body: func(t *testing.T) []byte {
			return edit(t, "notification-v1.json", func(e *snsmsg.Envelope) {
				e.SigningCertURL = "https://sns.us-west-2.amazonaws.com.attacker.example/SimpleNotificationService-1.pem"
			}, true)
		}},
		{name: "certificate over http", status: http.StatusForbidden, is: postroom.ErrInvalid, body: func(t *testing.T) []byte {
			return edit(t, "notification-v1.json", func(e *snsmsg.Envelope) {
				e.SigningCertURL = "http://sns.us-west-2.amazonaws.com/SimpleNotificationService-1.pem"
			}, true)
		}},
		{name: "unknown signature version", status: http.StatusForbidden, is: postroom.ErrInvalid, body: func(t *testing.T) []byte {
			return edit(t, "notification-v1.json", func(e *snsmsg.Envelope) { e.SignatureVersion = "3" }, false)
		}},
		{name: "unexpected topic", status: http.StatusForbidden, is: snshttp.ErrWrongTopic,
			opts: snshttp.Options{TopicARNs: []string{"arn:aws:sns:us-west-2:123456789012:Other"}},
			body: func(t *testing.T) []byte { return fixture(t, "notification-v1.json") }},
		{name: "too old", status: http.StatusBadRequest, is: snshttp.ErrTooOld,
			opts: snshttp.Options{Now: func() time.Time { return fixtureTime.Add(2 * time.Hour) }},
			body: func(t *testing.T) []byte { return fixture(t, "notification-v1.json") }},
		{name: "from the future", status: http.StatusBadRequest, is: snshttp.ErrTooOld,
			opts: snshttp.Options{Now: func() time.Time { return fixtureTime.Add(-time.Hour) }},
			body: func(t *testing.T) []byte { return fixture(t, "notification-v1.json") }},
		{name: "not an SNS message", status: http.StatusBadRequest, is: postroom.ErrInvalid,
			body: func(t *testing.T) []byte { return []byte(`{"order":1}`) }},
		{name: "raw delivery not allowed", status: http.StatusBadRequest, is: postroom.ErrInvalid,
			body: func(t *testing.T) []byte { return []byte("raw") }},
		{name: "too large", status: http.StatusRequestEntityTooLarge, is: postroom.ErrTooLarge, opts: snshttp.Options{MaxBodySize: 100},
			body: func(t *testing.T) []byte { return fixture(t, "notification-v1.json") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &handled{}
			r, _, errs := newReceiver(t, h.handle, tc.opts)
			body := tc.body(t)
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			if tc.name == "raw delivery not allowed" {
				req.Header.Set("X-Amz-Sns-Rawdelivery", "true")
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			assert.Equal(t, tc.status, rec.Code)
			assert.Empty(t, h.deliveries(), "the handler never sees a rejected message")
			require.Len(t, *errs, 1)
			assert.ErrorIs(t, (*errs)[0], tc.is)
			assert.True(t, strings.HasPrefix((*errs)[0].Error(), "snshttp: "), (*errs)[0].Error())
		})
	}

	t.Run("message type header disagrees", func(t *testing.T) {
		r, _, _ := newReceiver(t, (&handled{}).handle, snshttp.Options{})
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(fixture(t, "notification-v1.json"))))
		req.Header.Set("X-Amz-Sns-Message-Type", "SubscriptionConfirmation")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusBadRequest, rec.Code)
	})
	t.Run("GET", func(t *testing.T) {
		r, _, _ := newReceiver(t, (&handled{}).handle, snshttp.Options{})
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	})
	t.Run("certificate unreachable", func(t *testing.T) {
		fake := &sns{certErr: true}
		r, _, errs := newReceiver(t, (&handled{}).handle, snshttp.Options{HTTPClient: &http.Client{Transport: fake}})
		assert.Equal(t, http.StatusServiceUnavailable, post(r, fixture(t, "notification-v1.json")).Code, "SNS retries")
		require.Len(t, *errs, 1)
		assert.ErrorIs(t, (*errs)[0], postroom.ErrUnavailable)
	})
}

func TestReplay(t *testing.T) {
	h := &handled{}
	now := fixtureTime.Add(time.Second)
	r, _, errs := newReceiver(t, h.handle, snshttp.Options{Now: func() time.Time { return now }})
	body := fixture(t, "notification-v1.json")
	assert.Equal(t, http.StatusOK, post(r, body).Code)
	assert.Equal(t, http.StatusConflict, post(r, body).Code, "the same message again")
	assert.Len(t, h.deliveries(), 1, "handled once")
	require.Len(t, *errs, 1)
	assert.ErrorIs(t, (*errs)[0], snshttp.ErrReplay)
	assert.ErrorIs(t, (*errs)[0], postroom.ErrInvalid)

	now = now.Add(snshttp.DefaultMaxAge)
	assert.Equal(t, http.StatusBadRequest, post(r, body).Code, "once forgotten, a replay is too old")
}

func TestHandlerFailureIsRetriedBySNS(t *testing.T) {
	h := &handled{err: errors.New("database down")}
	r, _, _ := newReceiver(t, h.handle, snshttp.Options{})
	body := fixture(t, "notification-v2.json")
	assert.Equal(t, http.StatusInternalServerError, post(r, body).Code)
	h.mu.Lock()
	h.err = nil
	h.mu.Unlock()
	assert.Equal(t, http.StatusOK, post(r, body).Code, "SNS's retry of a failed message is not a replay")
	assert.Len(t, h.deliveries(), 2)

	panicky, _, errs := newReceiver(t, func(context.Context, *queue.Delivery) error { panic("boom") }, snshttp.Options{})
	assert.Equal(t, http.StatusInternalServerError, post(panicky, body).Code)
	require.Len(t, *errs, 1)
	var pe *consumer.PanicError
	assert.ErrorAs(t, (*errs)[0], &pe)
}

func TestRawDelivery(t *testing.T) {
	h := &handled{}
	r, _, _ := newReceiver(t, h.handle, snshttp.Options{AllowRaw: true, TopicARNs: []string{fixtureTopic}})
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("just the body"))
	req.Header.Set("X-Amz-Sns-Rawdelivery", "true")
	req.Header.Set("X-Amz-Sns-Message-Type", "Notification")
	req.Header.Set("X-Amz-Sns-Message-Id", "m-raw")
	req.Header.Set("X-Amz-Sns-Topic-Arn", fixtureTopic)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	ds := h.deliveries()
	require.Len(t, ds, 1)
	assert.Equal(t, "just the body", string(ds[0].Body))
	assert.Equal(t, "m-raw", ds[0].ID)

	req.Header.Set("X-Amz-Sns-Topic-Arn", "arn:aws:sns:us-west-2:123456789012:Other")
	req.Body = io.NopCloser(strings.NewReader("x"))
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusForbidden, rec.Code, "the topic check applies to raw deliveries")
}

func TestNewRejectsBadOptions(t *testing.T) {
	_, err := snshttp.New(nil, snshttp.Options{})
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	_, err = snshttp.New((&handled{}).handle, snshttp.Options{TopicARNs: []string{"orders"}})
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	_, err = snshttp.New((&handled{}).handle, snshttp.Options{MaxAge: -1})
	assert.ErrorIs(t, err, postroom.ErrInvalid)
}

func FuzzReceiver(f *testing.F) {
	for _, name := range []string{"notification-v1.json", "notification-v2.json", "subscription-confirmation.json", "unsubscribe-confirmation.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:1:t","Timestamp":"2026-11-20T10:00:00Z","Message":"x","MessageAttributes":{"b":{"Type":"Binary","Value":"%%"}}}`))
	f.Add([]byte(`[]`))
	fake := &sns{}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got []*queue.Delivery
		r, err := snshttp.New(func(ctx context.Context, d *queue.Delivery) error {
			got = append(got, d)
			return nil
		}, snshttp.Options{HTTPClient: &http.Client{Transport: fake}, Now: func() time.Time { return fixtureTime }})
		require.NoError(t, err)
		rec := post(r, body)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusForbidden:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		for _, d := range got {
			// Only a message whose signature verifies reaches the handler.
			var env *snshttp.Envelope
			require.True(t, d.As(&env))
			e, ok := snsmsg.Parse(body)
			require.True(t, ok, "a handled body parses")
			v := &snsmsg.Verifier{Pkg: "test", HTTPClient: &http.Client{Transport: fake}, Now: func() time.Time { return fixtureTime }}
			require.NoError(t, v.Verify(context.Background(), e))
			assert.Equal(t, e.MessageID, d.ID)
		}
	})
}
