package memory_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
	"github.com/postroom/postroom/snshttp"
)

// testKey is one signing key for every world of these tests: making an RSA
// key takes a while.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// inProcess is an http.RoundTripper that serves requests with handlers by
// host, without a network: it works inside a synctest bubble.
type inProcess map[string]http.Handler

func (p inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	h, ok := p[r.URL.Host]
	if !ok {
		return nil, &url.Error{Op: r.Method, URL: r.URL.String(), Err: io.ErrUnexpectedEOF}
	}
	rec := httptest.NewRecorder()
	if r.Body == nil {
		r.Body = http.NoBody
	}
	h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// recorded is one request an endpoint got.
type recorded struct {
	header http.Header
	body   string
	at     time.Time
}

// endpoint records the requests it gets and answers them with status
// (or with next, when set).
type endpoint struct {
	mu     sync.Mutex
	got    []recorded
	status int
	next   http.Handler
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.got = append(e.got, recorded{header: r.Header.Clone(), body: string(b), at: time.Now()})
	status, next := e.status, e.next
	e.mu.Unlock()
	if next != nil {
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		next.ServeHTTP(w, r)
		return
	}
	w.WriteHeader(status)
}

func (e *endpoint) requests() []recorded {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]recorded(nil), e.got...)
}

// snsWorld makes a world whose HTTP deliveries go to ep at
// http://endpoint.test/ and whose SNS URLs are served in process.
func snsWorld(t *testing.T, ep http.Handler) (*memory.World, *http.Client) {
	t.Helper()
	routes := inProcess{"endpoint.test": ep}
	client := &http.Client{Transport: routes}
	w := memory.NewWorld(memory.WorldOptions{HTTPClient: client, SigningKey: testKey()})
	routes["sns.us-east-1.amazonaws.com"] = w.SNSHandler()
	t.Cleanup(func() { _ = w.Close() })
	return w, client
}

func TestHTTPSubscriptionEndToEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []*queue.Delivery
		var mu sync.Mutex
		ep := &endpoint{}
		w, client := snsWorld(t, ep)
		recv, err := snshttp.New(func(ctx context.Context, d *queue.Delivery) error {
			mu.Lock()
			got = append(got, d)
			mu.Unlock()
			return nil
		}, snshttp.Options{HTTPClient: client})
		require.NoError(t, err)
		ep.next = recv

		topic, err := w.NewTopic("orders", memory.TopicOptions{})
		require.NoError(t, err)
		info, _, err := topic.SubscribeEndpoint("http", "http://endpoint.test/sns", nil)
		require.NoError(t, err)
		synctest.Wait()

		reqs := ep.requests()
		require.Len(t, reqs, 1, "the confirmation request")
		assert.Equal(t, "SubscriptionConfirmation", reqs[0].header.Get("X-Amz-Sns-Message-Type"))
		assert.Equal(t, topic.ARN(), reqs[0].header.Get("X-Amz-Sns-Topic-Arn"))
		var conf map[string]string
		require.NoError(t, json.Unmarshal([]byte(reqs[0].body), &conf))
		assert.Contains(t, conf["SubscribeURL"], "Action=ConfirmSubscription")
		assert.NotEmpty(t, conf["Token"])
		now, ok := topic.SubscriptionInfo(info.ARN)
		require.True(t, ok)
		assert.False(t, now.Pending, "the receiver confirmed by a GET of the SubscribeURL")

		require.NoError(t, topic.Publish(context.Background(), &pubsub.Message{Body: []byte(`{"order":1}`), Subject: "new",
			Attributes: queue.Attributes{"n": queue.Number("7"), "b": queue.Binary([]byte{0, 1})}}))
		synctest.Wait() // deliveries run in parallel: one at a time keeps the order
		require.NoError(t, topic.SetAttribute("SignatureVersion", "2"))
		require.NoError(t, topic.Publish(context.Background(), &pubsub.Message{Body: []byte(`{"order":2}`)}))
		synctest.Wait()

		reqs = ep.requests()
		require.Len(t, reqs, 3)
		for i, r := range reqs[1:] {
			assert.Equal(t, "Notification", r.header.Get("X-Amz-Sns-Message-Type"))
			assert.Equal(t, info.ARN, r.header.Get("X-Amz-Sns-Subscription-Arn"))
			assert.Equal(t, "text/plain; charset=UTF-8", r.header.Get("Content-Type"))
			assert.NotEmpty(t, r.header.Get("X-Amz-Sns-Message-Id"))
			var env map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.body), &env))
			assert.Equal(t, []string{"1", "2"}[i], env["SignatureVersion"])
			assert.Equal(t, r.header.Get("X-Amz-Sns-Message-Id"), env["MessageId"])
		}
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, got, 2, "both notifications verified and handled")
		assert.Equal(t, `{"order":1}`, string(got[0].Body))
		assert.Equal(t, queue.Number("7"), got[0].Attributes["n"])
		assert.Equal(t, []byte{0, 1}, got[0].Attributes["b"].Binary)
		assert.Equal(t, queue.String("new"), got[0].Attributes[pubsub.SubjectAttribute])
	})
}

func TestHTTPPendingSubscriptionGetsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := &endpoint{status: http.StatusOK}
		w, _ := snsWorld(t, ep)
		topic, err := w.NewTopic("orders", memory.TopicOptions{})
		require.NoError(t, err)
		info, token, err := topic.SubscribeEndpoint("https", "https://endpoint.test/", nil)
		require.NoError(t, err)
		require.NoError(t, topic.Publish(context.Background(), &pubsub.Message{Body: []byte("before")}))
		synctest.Wait()
		require.Len(t, ep.requests(), 1, "only the confirmation request while pending")

		_, err = topic.ConfirmSubscription(token)
		require.NoError(t, err)
		require.NoError(t, topic.Publish(context.Background(), &pubsub.Message{Body: []byte("after")}))
		synctest.Wait()
		reqs := ep.requests()
		require.Len(t, reqs, 2)
		assert.Contains(t, reqs[1].body, `"Message":"after"`)

		require.NoError(t, topic.UnsubscribeARN(info.ARN))
		synctest.Wait()
		reqs = ep.requests()
		require.Len(t, reqs, 3)
		assert.Equal(t, "UnsubscribeConfirmation", reqs[2].header.Get("X-Amz-Sns-Message-Type"))
		assert.Contains(t, reqs[2].body, "SubscribeURL")
	})
}

func TestHTTPRetriesThenDeadLetter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := &endpoint{status: http.StatusOK}
		w, _ := snsWorld(t, ep)
		dlq, err := w.NewQueue("orders-dlq", memory.QueueOptions{})
		require.NoError(t, err)
		topic, err := w.NewTopic("orders", memory.TopicOptions{})
		require.NoError(t, err)
		info, token, err := topic.SubscribeEndpoint("http", "http://endpoint.test/", map[string]string{
			"RedrivePolicy": `{"deadLetterTargetArn":"` + dlq.ARN() + `"}`})
		require.NoError(t, err)
		_, err = topic.ConfirmSubscription(token)
		require.NoError(t, err)
		synctest.Wait()
		ep.mu.Lock()
		ep.status = http.StatusInternalServerError
		ep.got = nil
		ep.mu.Unlock()

		start := time.Now()
		require.NoError(t, topic.Publish(context.Background(), &pubsub.Message{Body: []byte("doomed")}))
		synctest.Wait()
		assert.Len(t, ep.requests(), 1, "the first attempt at once")
		time.Sleep(time.Hour)
		synctest.Wait()

		reqs := ep.requests()
		require.Len(t, reqs, 4, "SNS's default policy: the attempt and three retries")
		for i, r := range reqs {
			assert.Equal(t, time.Duration(i)*20*time.Second, r.at.Sub(start), "attempt %d", i+1)
		}
		ds, err := dlq.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 10})
		require.NoError(t, err)
		require.Len(t, ds, 1, "dead-lettered after the last retry")
		assert.Contains(t, string(ds[0].Body), `"Message":"doomed"`)
		assert.Contains(t, ds[0].Attributes["ErrorMessage"].Value, "HTTP 500")
		assert.Contains(t, string(ds[0].Body), info.ARN, "the envelope names the subscription")
	})
}

func TestHTTPClientErrorIsNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := &endpoint{status: http.StatusNotFound}
		w, _ := snsWorld(t, ep)
		topic, err := w.NewTopic("orders", memory.TopicOptions{})
		require.NoError(t, err)
		_, token, err := topic.SubscribeEndpoint("http", "http://endpoint.test/", nil)
		require.NoError(t, err)
		_, err = topic.ConfirmSubscription(token)
		require.NoError(t, err)
		require.NoError(t, topic.Publish(context.Background(), &pubsub.Message{Body: []byte("x")}))
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Len(t, ep.requests(), 2, "the confirmation and one notification: SNS takes a 4xx as final")
	})
}

func TestHTTPDeliveryPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := &endpoint{status: http.StatusOK}
		w, _ := snsWorld(t, ep)
		topic, err := w.NewTopic("orders", memory.TopicOptions{})
		require.NoError(t, err)
		info, token, err := topic.SubscribeEndpoint("http", "http://endpoint.test/", map[string]string{
			"RawMessageDelivery": "true",
			"DeliveryPolicy": `{"healthyRetryPolicy":{"numRetries":6,"numNoDelayRetries":2,"numMinDelayRetries":1,"numMaxDelayRetries":1,` +
				`"minDelayTarget":1,"maxDelayTarget":8,"backoffFunction":"exponential"},"requestPolicy":{"headerContentType":"application/json"}}`})
		require.NoError(t, err)
		_, err = topic.ConfirmSubscription(token)
		require.NoError(t, err)
		synctest.Wait()
		ep.mu.Lock()
		ep.status, ep.got = http.StatusBadGateway, nil
		ep.mu.Unlock()

		start := time.Now()
		require.NoError(t, topic.Publish(context.Background(), &pubsub.Message{Body: []byte("raw body"), Attributes: queue.Attributes{"k": queue.String("v")}}))
		time.Sleep(time.Hour)
		synctest.Wait()
		reqs := ep.requests()
		require.Len(t, reqs, 7)
		var offsets []time.Duration
		for _, r := range reqs {
			offsets = append(offsets, r.at.Sub(start))
		}
		// two at once, one after the minimum, two backing off from 1 s to
		// 8 s exponentially, one after the maximum
		s := time.Second
		assert.Equal(t, []time.Duration{0, 0, 0, s, s + 2828427124, s + 2828427124 + 8*s, s + 2828427124 + 16*s}, offsets)
		assert.Equal(t, "raw body", reqs[0].body)
		assert.Equal(t, "true", reqs[0].header.Get("X-Amz-Sns-Rawdelivery"))
		assert.Equal(t, "application/json", reqs[0].header.Get("Content-Type"))
		assert.Equal(t, info.ARN, reqs[0].header.Get("X-Amz-Sns-Subscription-Arn"))
	})
}

func TestHTTPCloseStopsRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := &endpoint{status: http.StatusOK}
		w, _ := snsWorld(t, ep)
		dlq, err := w.NewQueue("dlq", memory.QueueOptions{})
		require.NoError(t, err)
		topic, err := w.NewTopic("orders", memory.TopicOptions{})
		require.NoError(t, err)
		_, token, err := topic.SubscribeEndpoint("http", "http://endpoint.test/", map[string]string{
			"RedrivePolicy": `{"deadLetterTargetArn":"` + dlq.ARN() + `"}`})
		require.NoError(t, err)
		_, err = topic.ConfirmSubscription(token)
		require.NoError(t, err)
		synctest.Wait()
		ep.mu.Lock()
		ep.status = http.StatusServiceUnavailable
		ep.mu.Unlock()
		require.NoError(t, topic.Publish(context.Background(), &pubsub.Message{Body: []byte("pending")}))
		synctest.Wait()
		require.NoError(t, topic.Close()) // returns without waiting out the 20 s
		ds, err := dlq.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 10})
		require.NoError(t, err)
		assert.Len(t, ds, 1, "the pending retry went to the dead-letter queue")
	})
}

func TestEndpointOutboxConfirmations(t *testing.T) {
	w := memory.NewWorld(memory.WorldOptions{SigningKey: testKey()})
	t.Cleanup(func() { _ = w.Close() })
	topic, err := w.NewTopic("alerts", memory.TopicOptions{})
	require.NoError(t, err)
	_, _, err = topic.SubscribeEndpoint("sms", "+15555550100", nil)
	require.NoError(t, err)
	_, _, err = topic.SubscribeEndpoint("email", "ops@example.com", nil)
	require.NoError(t, err)
	_, _, err = topic.SubscribeEndpoint("email-json", "bot@example.com", nil)
	require.NoError(t, err)
	require.NoError(t, topic.Close()) // waits for the confirmation requests

	out := w.Outbox()
	require.Len(t, out, 2, "confirmation requests for the e-mail subscriptions, none for SMS")
	for _, m := range out {
		assert.Equal(t, "SubscriptionConfirmation", m.Type)
		assert.Contains(t, m.Body, "Action=ConfirmSubscription")
	}
	if out[0].Protocol == "email-json" { // the requests are made in parallel
		out[0], out[1] = out[1], out[0]
	}
	assert.Equal(t, "AWS Notification - Subscription Confirmation", out[0].Subject)
	var env map[string]any
	require.NoError(t, json.Unmarshal([]byte(out[1].Body), &env), "email-json gets the JSON document")
	assert.Equal(t, "SubscriptionConfirmation", env["Type"])
}

func TestEndpointOutboxNotifications(t *testing.T) {
	w := memory.NewWorld(memory.WorldOptions{SigningKey: testKey()})
	t.Cleanup(func() { _ = w.Close() })
	topic, err := w.NewTopic("alerts", memory.TopicOptions{})
	require.NoError(t, err)
	_, _, err = topic.SubscribeEndpoint("sms", "+15555550100", nil)
	require.NoError(t, err)
	_, emailToken, err := topic.SubscribeEndpoint("email", "ops@example.com", nil)
	require.NoError(t, err)
	_, jsonToken, err := topic.SubscribeEndpoint("email-json", "bot@example.com", map[string]string{"FilterPolicy": `{"level":["high"]}`})
	require.NoError(t, err)
	_, err = topic.ConfirmSubscription(emailToken)
	require.NoError(t, err)
	_, err = topic.ConfirmSubscription(jsonToken)
	require.NoError(t, err)

	ctx := context.Background()
	require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("disk full"), Subject: "alert", Attributes: queue.Attributes{"level": queue.String("high")}}))
	require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("disk fine"), Attributes: queue.Attributes{"level": queue.String("low")}}))
	require.NoError(t, topic.Close())

	var notes []memory.OutboxMessage
	for _, m := range w.Outbox() {
		if m.Type == "Notification" {
			notes = append(notes, m)
		}
	}
	byEndpoint := map[string][]memory.OutboxMessage{}
	for _, m := range notes {
		byEndpoint[m.Endpoint] = append(byEndpoint[m.Endpoint], m)
	}
	require.Len(t, byEndpoint["+15555550100"], 2)
	assert.Equal(t, "disk full", byEndpoint["+15555550100"][0].Body)
	require.Len(t, byEndpoint["ops@example.com"], 2)
	assert.Equal(t, "alert", byEndpoint["ops@example.com"][0].Subject)
	assert.Equal(t, "AWS Notification Message", byEndpoint["ops@example.com"][1].Subject)
	require.Len(t, byEndpoint["bot@example.com"], 1, "the filter policy applies")
	var env map[string]any
	require.NoError(t, json.Unmarshal([]byte(byEndpoint["bot@example.com"][0].Body), &env))
	assert.Equal(t, "disk full", env["Message"])
	assert.NotEmpty(t, env["Signature"])
}

func TestSNSHandlerServesCertificateAndActions(t *testing.T) {
	w := memory.NewWorld(memory.WorldOptions{SigningKey: testKey(), SNSURLBase: "http://127.0.0.1:4566/"})
	t.Cleanup(func() { _ = w.Close() })
	pemCert, certURL, err := w.SigningCertificate()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(certURL, "http://127.0.0.1:4566/SimpleNotificationService-"), certURL)
	h := w.SNSHandler()

	u, _ := url.Parse(certURL)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.Path, nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, string(pemCert), rec.Body.String())

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/SimpleNotificationService-other.pem", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)

	topic, err := w.NewTopic("t", memory.TopicOptions{})
	require.NoError(t, err)
	info, token, err := topic.SubscribeEndpoint("email", "a@example.com", nil)
	require.NoError(t, err)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?Action=ConfirmSubscription&TopicArn="+url.QueryEscape(topic.ARN())+"&Token=bad", nil))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?Action=ConfirmSubscription&TopicArn="+url.QueryEscape(topic.ARN())+"&Token="+token, nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "<SubscriptionArn>"+info.ARN+"</SubscriptionArn>")
	now, _ := topic.SubscriptionInfo(info.ARN)
	assert.False(t, now.Pending)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?Action=Unsubscribe&SubscriptionArn="+info.ARN, nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	_, ok := topic.SubscriptionInfo(info.ARN)
	assert.False(t, ok)
}

func TestHTTPTopicDeliveryPolicy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		topic    string
		sub      string
		attempts int
		last     time.Duration
	}{
		{name: "topic default", topic: `{"http":{"defaultHealthyRetryPolicy":{"numRetries":1,"minDelayTarget":5,"maxDelayTarget":5}}}`,
			attempts: 2, last: 5 * time.Second},
		{name: "subscription overrides", topic: `{"http":{"defaultHealthyRetryPolicy":{"numRetries":1,"minDelayTarget":5,"maxDelayTarget":5}}}`,
			sub: `{"healthyRetryPolicy":{"numRetries":2,"minDelayTarget":1,"maxDelayTarget":1}}`, attempts: 3, last: 2 * time.Second},
		{name: "overrides disabled", topic: `{"http":{"defaultHealthyRetryPolicy":{"numRetries":1,"minDelayTarget":5,"maxDelayTarget":5},"disableSubscriptionOverrides":true}}`,
			sub: `{"healthyRetryPolicy":{"numRetries":2,"minDelayTarget":1,"maxDelayTarget":1}}`, attempts: 2, last: 5 * time.Second},
		{name: "out of range falls back to SNS's default", sub: `{"healthyRetryPolicy":{"numRetries":2,"minDelayTarget":0,"maxDelayTarget":1}}`,
			attempts: 4, last: 60 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ep := &endpoint{status: http.StatusOK}
				w, _ := snsWorld(t, ep)
				topic, err := w.NewTopic("orders", memory.TopicOptions{})
				require.NoError(t, err)
				if tc.topic != "" {
					require.NoError(t, topic.SetAttribute("DeliveryPolicy", tc.topic))
				}
				attrs := map[string]string{}
				if tc.sub != "" {
					attrs["DeliveryPolicy"] = tc.sub
				}
				_, token, err := topic.SubscribeEndpoint("http", "http://endpoint.test/", attrs)
				require.NoError(t, err)
				_, err = topic.ConfirmSubscription(token)
				require.NoError(t, err)
				synctest.Wait()
				ep.mu.Lock()
				ep.status, ep.got = http.StatusInternalServerError, nil
				ep.mu.Unlock()
				start := time.Now()
				require.NoError(t, topic.Publish(context.Background(), &pubsub.Message{Body: []byte("x")}))
				time.Sleep(time.Hour)
				synctest.Wait()
				reqs := ep.requests()
				require.Len(t, reqs, tc.attempts)
				assert.Equal(t, tc.last, reqs[len(reqs)-1].at.Sub(start))
			})
		})
	}
}

func TestHTTPUnsubscribeCanBeUndone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := &endpoint{status: http.StatusOK}
		w, _ := snsWorld(t, ep)
		topic, err := w.NewTopic("orders", memory.TopicOptions{})
		require.NoError(t, err)
		info, token, err := topic.SubscribeEndpoint("http", "http://endpoint.test/", nil)
		require.NoError(t, err)
		_, err = topic.ConfirmSubscription(token)
		require.NoError(t, err)
		synctest.Wait() // the confirmation request first
		require.NoError(t, topic.UnsubscribeARN(info.ARN))
		synctest.Wait()
		reqs := ep.requests()
		require.Len(t, reqs, 2)
		var env map[string]string
		require.NoError(t, json.Unmarshal([]byte(reqs[1].body), &env))
		assert.Equal(t, "UnsubscribeConfirmation", env["Type"])
		_, ok := topic.SubscriptionInfo(info.ARN)
		require.False(t, ok)

		u, err := url.Parse(env["SubscribeURL"])
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		w.SNSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?"+u.RawQuery, nil))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		back, ok := topic.SubscriptionInfo(info.ARN)
		require.True(t, ok, "the SubscribeURL of an UnsubscribeConfirmation restores the subscription")
		assert.False(t, back.Pending)
	})
}

func TestHTTPReceiverFailureRetriedThenDeadLettered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls int
		var mu sync.Mutex
		ep := &endpoint{}
		w, client := snsWorld(t, ep)
		recv, err := snshttp.New(func(ctx context.Context, d *queue.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if string(d.Body) == "fails" {
				return errors.New("handler failed")
			}
			return nil
		}, snshttp.Options{HTTPClient: client})
		require.NoError(t, err)
		ep.next = recv
		dlq, err := w.NewQueue("dlq", memory.QueueOptions{})
		require.NoError(t, err)
		topic, err := w.NewTopic("orders", memory.TopicOptions{})
		require.NoError(t, err)
		_, _, err = topic.SubscribeEndpoint("http", "http://endpoint.test/", map[string]string{
			"RedrivePolicy": `{"deadLetterTargetArn":"` + dlq.ARN() + `"}`})
		require.NoError(t, err)
		synctest.Wait()

		require.NoError(t, topic.Publish(context.Background(), &pubsub.Message{Body: []byte("fails")}))
		time.Sleep(time.Hour)
		synctest.Wait()
		mu.Lock()
		assert.Equal(t, 4, calls, "the receiver answers 500 and SNS's retries reach the handler: they are not replays")
		mu.Unlock()
		ds, err := dlq.Receive(context.Background(), queue.ReceiveOptions{MaxMessages: 10})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.Contains(t, string(ds[0].Body), `"Message":"fails"`)

		// A notification that went through, posted again as it was, and
		// tampered with.
		require.NoError(t, topic.Publish(context.Background(), &pubsub.Message{Body: []byte("works")}))
		synctest.Wait()
		reqs := ep.requests()
		ok := reqs[len(reqs)-1]
		repost := func(body string) int {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header = ok.header.Clone()
			rec := httptest.NewRecorder()
			recv.ServeHTTP(rec, req)
			return rec.Code
		}
		assert.Equal(t, http.StatusConflict, repost(ok.body), "a replay")
		assert.Equal(t, http.StatusForbidden, repost(strings.Replace(ok.body, `"Message":"works"`, `"Message":"forged"`, 1)), "a tampered message")
		mu.Lock()
		assert.Equal(t, 5, calls, "neither reached the handler")
		mu.Unlock()
	})
}
