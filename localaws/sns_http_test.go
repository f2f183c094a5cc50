package localaws

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
	"github.com/postroom/postroom/snshttp"
)

// newTLSServer starts the endpoint over TLS, so that the SigningCertURL of
// its SNS messages is https as the receiver requires, and returns it with
// a client configuration that trusts its certificate.
func newTLSServer(t *testing.T) (*Server, aws.Config, *http.Client) {
	t.Helper()
	var s *Server
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.ServeHTTP(w, r) }))
	s = New(Options{BaseURL: "https://" + hs.Listener.Addr().String()})
	hs.StartTLS()
	t.Cleanup(func() {
		_ = s.Close()
		hs.Close()
	})
	cfg := s.AWSConfig(hs.URL)
	cfg.HTTPClient = hs.Client()
	return s, cfg, hs.Client()
}

// appEndpoint is an application's SNS endpoint: the receiver, behind a
// recorder of the bodies it was posted.
type appEndpoint struct {
	recv   http.Handler
	mu     sync.Mutex
	bodies []string
}

func (a *appEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.bodies = append(a.bodies, string(b))
	a.mu.Unlock()
	r.Body = io.NopCloser(strings.NewReader(string(b)))
	a.recv.ServeHTTP(w, r)
}

func (a *appEndpoint) posted() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.bodies...)
}

func TestSNSHTTPDeliveryToReceiver(t *testing.T) {
	ctx := context.Background()
	_, cfg, tlsClient := newTLSServer(t)
	snsc, sqsc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)

	var failing atomic.Bool
	handled := make(chan *queue.Delivery, 10)
	var rejected []error
	var rmu sync.Mutex
	recv, err := snshttp.New(func(ctx context.Context, d *queue.Delivery) error {
		if failing.Load() {
			return assert.AnError
		}
		handled <- d
		return nil
	}, snshttp.Options{AllowedHosts: []string{"127.0.0.1"}, HTTPClient: tlsClient, ErrorLog: func(r *http.Request, err error) {
		rmu.Lock()
		rejected = append(rejected, err)
		rmu.Unlock()
	}})
	require.NoError(t, err)
	app := &appEndpoint{recv: recv}
	appSrv := httptest.NewServer(app)
	t.Cleanup(appSrv.Close)

	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders")})
	require.NoError(t, err)
	dlqURL := createQueue(t, sqsc, "orders-dlq", nil)
	dlqAttrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(dlqURL), AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	require.NoError(t, err)
	sub, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(appSrv.URL + "/sns"),
		ReturnSubscriptionArn: true, Attributes: map[string]string{
			"RedrivePolicy":  `{"deadLetterTargetArn":"` + dlqAttrs.Attributes["QueueArn"] + `"}`,
			"DeliveryPolicy": `{"healthyRetryPolicy":{"numRetries":2,"minDelayTarget":1,"maxDelayTarget":1}}`,
		}})
	require.NoError(t, err)

	// The receiver confirms by a GET of the SubscribeURL, served here.
	require.Eventually(t, func() bool {
		out, err := snsc.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn})
		return err == nil && out.Attributes["PendingConfirmation"] == "false"
	}, 10*time.Second, 20*time.Millisecond, "the subscription is confirmed")
	require.Len(t, app.posted(), 1)
	assert.Contains(t, app.posted()[0], `"Type":"SubscriptionConfirmation"`)

	// A signed notification, verified against the certificate the
	// endpoint serves.
	_, err = snsc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(`{"order":1}`), Subject: aws.String("new"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"priority": {DataType: aws.String("Number"), StringValue: aws.String("5")}}})
	require.NoError(t, err)
	select {
	case d := <-handled:
		assert.Equal(t, `{"order":1}`, string(d.Body))
		assert.Equal(t, queue.Number("5"), d.Attributes["priority"])
		var env *snshttp.Envelope
		require.True(t, d.As(&env))
		assert.Equal(t, *topic.TopicArn, env.TopicARN)
	case <-time.After(10 * time.Second):
		t.Fatal("the notification was not handled")
	}
	signed := app.posted()[1]

	// A failing endpoint: retried as the delivery policy says, then
	// dead-lettered.
	failing.Store(true)
	_, err = snsc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(`{"order":2}`)})
	require.NoError(t, err)
	out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), WaitTimeSeconds: 10,
		MessageAttributeNames: []string{"All"}})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1, "dead-lettered after the retries")
	assert.Contains(t, *out.Messages[0].Body, `{\"order\":2}`)
	assert.Contains(t, *out.Messages[0].MessageAttributes["ErrorMessage"].StringValue, "HTTP 500")
	assert.Len(t, app.posted(), 2+3, "the attempt and two retries")
	failing.Store(false)
	rmu.Lock()
	failures := len(rejected)
	rmu.Unlock()

	// The receiver rejects a replay, a tampered message and a certificate
	// off the allowed hosts.
	post := func(h http.Handler, body string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/sns", strings.NewReader(body)))
		return rec.Code
	}
	assert.Equal(t, http.StatusConflict, post(recv, signed), "a replay")
	var env map[string]any
	require.NoError(t, json.Unmarshal([]byte(signed), &env))
	env["Message"] = `{"order":1000}`
	env["MessageId"] = "tampered-1"
	tampered, _ := json.Marshal(env)
	assert.Equal(t, http.StatusForbidden, post(recv, string(tampered)), "a tampered message")
	var hostErr error
	snsOnly, err := snshttp.New(func(context.Context, *queue.Delivery) error { return nil }, snshttp.Options{HTTPClient: tlsClient,
		ErrorLog: func(r *http.Request, err error) { hostErr = err }})
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, post(snsOnly, signed), "a certificate off SNS's hosts")
	require.Error(t, hostErr)
	assert.Contains(t, hostErr.Error(), `SigningCertURL host "127.0.0.1" is not an SNS host`)
	rmu.Lock()
	defer rmu.Unlock()
	require.Len(t, rejected, failures+2, "the replay and the tampered message")
	for _, err := range rejected[failures:] {
		assert.ErrorIs(t, err, postroom.ErrInvalid)
	}
	assert.Len(t, handled, 0, "nothing rejected reached the handler")

	// Unsubscribing sends an UnsubscribeConfirmation.
	_, err = snsc.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: sub.SubscriptionArn})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		p := app.posted()
		return strings.Contains(p[len(p)-1], `"Type":"UnsubscribeConfirmation"`)
	}, 10*time.Second, 20*time.Millisecond)
}

func TestSNSLinksAreServedUnsigned(t *testing.T) {
	ctx := context.Background()
	s, cfg := NewTestServer(t, Options{AccessKey: "AKIDLOCAL", SecretKey: "secret"})
	cfg.Region = "eu-west-1"
	snsc := sns.NewFromConfig(cfg)
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(*topic.TopicArn, "arn:aws:sns:eu-west-1:"))
	sub, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email-json"),
		Endpoint: aws.String("ops@example.com"), ReturnSubscriptionArn: true})
	require.NoError(t, err)

	world := s.region("eu-west-1").world
	var confirm map[string]string
	require.Eventually(t, func() bool { return len(world.Outbox()) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, json.Unmarshal([]byte(world.Outbox()[0].Body), &confirm))

	// The SubscribeURL and the certificate are plain GETs, without a
	// signature, though the server checks the signatures of API calls.
	resp, err := http.Get(confirm["SubscribeURL"])
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), *sub.SubscriptionArn)
	attrs, err := snsc.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn})
	require.NoError(t, err)
	assert.Equal(t, "false", attrs.Attributes["PendingConfirmation"])

	resp, err = http.Get(confirm["SigningCertURL"])
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(string(body), "-----BEGIN CERTIFICATE-----"))

	resp, err = http.Get(strings.Replace(confirm["SigningCertURL"], "Service-", "Service-0", 1))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, err = http.Get(strings.Replace(confirm["SubscribeURL"], "ConfirmSubscription", "ListTopics", 1))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "other actions still need a signature")
}

// TestSNSHTTPOverPlainHTTP runs the receiver against an endpoint served
// over plain HTTP on loopback, as `postroom serve` is: with the endpoint's
// host allowed, the receiver fetches the certificate over http, confirms
// the subscription and verifies the notification's signature.
func TestSNSHTTPOverPlainHTTP(t *testing.T) {
	ctx := context.Background()
	_, cfg := NewTestServer(t, Options{})
	snsc := sns.NewFromConfig(cfg)
	handled := make(chan *queue.Delivery, 1)
	var rejected atomic.Int32
	recv, err := snshttp.New(func(ctx context.Context, d *queue.Delivery) error {
		handled <- d
		return nil
	}, snshttp.Options{AllowedHosts: []string{"127.0.0.1"}, ErrorLog: func(*http.Request, error) { rejected.Add(1) }})
	require.NoError(t, err)
	appSrv := httptest.NewServer(recv)
	t.Cleanup(appSrv.Close)

	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("local"),
		Attributes: map[string]string{"SignatureVersion": "2"}})
	require.NoError(t, err)
	sub, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"),
		Endpoint: aws.String(appSrv.URL), ReturnSubscriptionArn: true})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		out, err := snsc.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn})
		return err == nil && out.Attributes["PendingConfirmation"] == "false"
	}, 10*time.Second, 20*time.Millisecond, "the receiver confirms over http")

	_, err = snsc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("hello")})
	require.NoError(t, err)
	select {
	case d := <-handled:
		assert.Equal(t, "hello", string(d.Body))
		var env *snshttp.Envelope
		require.True(t, d.As(&env))
		assert.True(t, strings.HasPrefix(env.SigningCertURL, "http://127.0.0.1:"), env.SigningCertURL)
		assert.Equal(t, "2", env.SignatureVersion)
	case <-time.After(10 * time.Second):
		t.Fatal("the notification was not handled")
	}
	assert.Zero(t, rejected.Load())
}
