package memory

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/postroom/postroom/eventbus/pattern"
	"github.com/postroom/postroom/internal/snsmsg"
	"github.com/postroom/postroom/queue"
)

// SNS's HTTP/S delivery: how long it waits for an endpoint's answer, and
// how many requests this package has in flight per subscription.
const (
	httpDeliveryTimeout = 15 * time.Second
	maxPostsInFlight    = 8
)

// snsEndpoints is what a world keeps for SNS's deliveries to endpoints:
// the HTTP client, the base of the URLs in messages, the signing key and
// certificate (made at first use), and the outbox of e-mail and SMS.
type snsEndpoints struct {
	world  *World
	client *http.Client
	base   string // "https://sns.<region>.amazonaws.com" or WorldOptions.SNSURLBase
	signer func() (*signer, error)

	mu     sync.Mutex // guards outbox
	outbox []OutboxMessage
}

// signer is a world's signing key and its self-signed certificate.
type signer struct {
	key  *rsa.PrivateKey
	pem  []byte
	path string // "/SimpleNotificationService-<hash>.pem"
}

func newSNSEndpoints(w *World, opts WorldOptions) *snsEndpoints {
	s := &snsEndpoints{world: w, client: opts.HTTPClient, base: strings.TrimSuffix(opts.SNSURLBase, "/")}
	if s.client == nil {
		s.client = &http.Client{Timeout: httpDeliveryTimeout}
	}
	if s.base == "" {
		s.base = "https://sns." + w.region + ".amazonaws.com"
	}
	key := opts.SigningKey
	s.signer = sync.OnceValues(func() (*signer, error) { return newSigner(key) })
	return s
}

// newSigner makes a self-signed certificate for key, making an RSA 2048
// key when key is nil. The certificate is valid from before 2000 (the
// clock of testing/synctest starts there) for twenty years from now.
func newSigner(key *rsa.PrivateKey) (*signer, error) {
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	notBefore := time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)
	if now.Before(notBefore) {
		notBefore = now.Add(-time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com", Organization: []string{"postroom memory world"}},
		NotBefore:    notBefore,
		NotAfter:     now.AddDate(20, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &signer{
		key:  key,
		pem:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		path: "/SimpleNotificationService-" + hex.EncodeToString(sum[:16]) + ".pem",
	}, nil
}

// SigningCertificate returns the PEM certificate whose key signs the
// messages of the world's topics to http/https subscriptions, and the URL
// those messages name it by (their SigningCertURL). The key is made on
// first use.
func (w *World) SigningCertificate() (pemCert []byte, certURL string, err error) {
	s, err := w.sns.signer()
	if err != nil {
		return nil, "", fmt.Errorf("memory: signing key: %w", err)
	}
	return s.pem, w.sns.base + s.path, nil
}

// SNSHandler returns the handler of the URLs in the messages the world's
// topics send to endpoints, for a server at WorldOptions.SNSURLBase: a GET
// of the SigningCertURL returns the certificate, a GET of a SubscribeURL
// confirms the subscription (Action=ConfirmSubscription, as on SNS), and a
// GET of an UnsubscribeURL (Action=Unsubscribe) ends it. Answers to the
// actions are SNS's XML documents.
func (w *World) SNSHandler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if strings.HasSuffix(r.URL.Path, ".pem") {
			s, err := w.sns.signer()
			if err != nil || r.URL.Path != s.path {
				http.NotFound(rw, r)
				return
			}
			rw.Header().Set("Content-Type", "application/x-x509-ca-cert")
			_, _ = rw.Write(s.pem)
			return
		}
		q := r.URL.Query()
		var action, result string
		var err error
		switch action = q.Get("Action"); action {
		case "ConfirmSubscription":
			var t *Topic
			if t, err = w.TopicByARN(q.Get("TopicArn")); err == nil {
				var arn string
				if arn, err = t.ConfirmSubscription(q.Get("Token")); err == nil {
					result = "<SubscriptionArn>" + arn + "</SubscriptionArn>"
				}
			}
		case "Unsubscribe":
			arn := q.Get("SubscriptionArn")
			var t *Topic
			if i := strings.LastIndexByte(arn, ':'); i > 0 {
				t, err = w.TopicByARN(arn[:i])
			} else {
				err = snsNotFound("unsubscribe", "Subscription does not exist")
			}
			if err == nil {
				err = t.UnsubscribeARN(arn)
			}
		default:
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "text/xml")
		if err != nil {
			rw.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(rw, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>%s</Message></Error></ErrorResponse>`, xmlText(err.Error()))
			return
		}
		_, _ = fmt.Fprintf(rw, `<%sResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><%sResult>%s</%sResult></%sResponse>`, action, action, result, action, action)
	})
}

// xmlText escapes s for XML character data.
func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// subscribeURL is the URL that confirms a subscription by its token.
func (s *snsEndpoints) subscribeURL(topicARN, token string) string {
	return s.base + "/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(topicARN) + "&Token=" + token
}

// unsubscribeURL is the URL that ends a subscription.
func (s *snsEndpoints) unsubscribeURL(subARN string) string {
	return s.base + "/?Action=Unsubscribe&SubscriptionArn=" + subARN
}

// endpointTarget is an endpoint subscription as a publish found it: its
// attributes and filter at that moment.
type endpointTarget struct {
	e          *endpointSub
	attrs      map[string]string // copy on write: never modified in place
	filter     *pattern.Pattern
	sigVersion string // the topic's SignatureVersion
	topicPol   string // the topic's DeliveryPolicy
}

// endpointTargets returns the confirmed endpoint subscriptions of the
// topic. Callers hold t.mu.
func (t *Topic) endpointTargets() []endpointTarget {
	if len(t.admin.endpoint) == 0 {
		return nil
	}
	var out []endpointTarget
	for _, e := range t.admin.endpoint {
		if e.confirmed {
			out = append(out, endpointTarget{e: e, attrs: e.attrs, filter: e.filter, sigVersion: t.admin.attrs["SignatureVersion"], topicPol: t.admin.attrs["DeliveryPolicy"]})
		}
	}
	return out
}

// deliverEndpoint sends n to an endpoint subscription whose filter admits
// it: a POST for http/https (in a goroutine of the topic's), a record in
// the world's outbox for e-mail and SMS.
func (t *Topic) deliverEndpoint(et endpointTarget, n *notification) {
	if !n.admittedBy(et.filter, scopeOf(et.attrs["FilterPolicyScope"])) {
		return
	}
	switch et.e.protocol {
	case "http", "https":
		t.startPost(&post{topic: t, target: et, n: n, typ: snsmsg.TypeNotification})
	default:
		t.world.sns.record(et, n)
	}
}

// A post is one message on its way to an http/https endpoint, with its
// retries.
type post struct {
	topic  *Topic
	target endpointTarget
	typ    string        // snsmsg.Type…
	n      *notification // the notification, or nil for a confirmation
	token  string        // of a confirmation
}

// startPost sends p in a goroutine of the topic's, which Close stops.
func (t *Topic) startPost(p *post) {
	t.funcs.Add(1)
	go func() {
		defer t.funcs.Done()
		p.run()
	}()
}

// run makes the attempts the delivery policy allows, then dead-letters a
// notification that was never delivered.
func (p *post) run() {
	t, e := p.topic, p.target.e
	policy := deliveryPolicyOf(p.target.attrs["DeliveryPolicy"], p.target.topicPol)
	body, header, err := p.build(policy.contentType)
	if err != nil {
		p.deadLetter("signing: " + err.Error())
		return
	}
	var why string
	for attempt := 0; attempt <= policy.NumRetries; attempt++ {
		if attempt > 0 && !wait(policy.delay(attempt), t.stop) {
			p.deadLetter("topic closed before a retry: " + why)
			return
		}
		if p.typ == snsmsg.TypeNotification && e.gone.Load() {
			return // unsubscribed: nothing more to deliver
		}
		select {
		case e.sem <- struct{}{}:
		case <-t.stop:
			p.deadLetter("topic closed before a retry: " + why)
			return
		}
		err := p.send(body, header)
		<-e.sem
		if err == nil {
			return
		}
		why = err.Error()
	}
	p.deadLetter(fmt.Sprintf("delivery to %s failed %d times: %s", e.endpoint, policy.NumRetries+1, why))
}

// send makes one attempt. As on SNS, an answer from 200 to 499 ends the
// delivery; a 5xx, a failed connection or no answer within 15 seconds is
// retried.
func (p *post) send(body []byte, header http.Header) error {
	ctx, cancel := context.WithTimeout(context.Background(), httpDeliveryTimeout)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-p.topic.stop:
			cancel()
		case <-done:
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.target.e.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = header.Clone()
	resp, err := p.topic.world.sns.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode >= 500 || resp.StatusCode < 200 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// build returns the body and headers of the request, signing the
// envelope.
func (p *post) build(contentType string) ([]byte, http.Header, error) {
	t, e := p.topic, p.target.e
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("User-Agent", "Amazon Simple Notification Service Agent")
	h.Set("X-Amz-Sns-Message-Type", p.typ)
	h.Set("X-Amz-Sns-Topic-Arn", t.arn)
	if p.typ != snsmsg.TypeSubscriptionConfirmation {
		h.Set("X-Amz-Sns-Subscription-Arn", e.arn)
	}
	if p.typ == snsmsg.TypeNotification && p.target.attrs["RawMessageDelivery"] == "true" {
		h.Set("X-Amz-Sns-Message-Id", p.n.id)
		h.Set("X-Amz-Sns-Rawdelivery", "true")
		return p.n.body, h, nil
	}
	env, err := t.world.sns.envelope(t, p.target, p.typ, p.n, p.token)
	if err != nil {
		return nil, nil, err
	}
	h.Set("X-Amz-Sns-Message-Id", env.MessageID)
	return snsmsg.Marshal(env), h, nil
}

// envelope builds and signs the envelope of a message to an endpoint.
func (s *snsEndpoints) envelope(t *Topic, et endpointTarget, typ string, n *notification, token string) (*snsmsg.Envelope, error) {
	sg, err := s.signer()
	if err != nil {
		return nil, err
	}
	env := &snsmsg.Envelope{Type: typ, TopicARN: t.arn, SignatureVersion: "1", SigningCertURL: s.base + sg.path}
	if et.sigVersion == "2" {
		env.SignatureVersion = "2"
	}
	switch typ {
	case snsmsg.TypeNotification:
		env.MessageID = n.id
		env.Subject = n.subject
		env.Message = string(n.body)
		env.Timestamp = n.time.UTC().Format(snsmsg.TimeFormat)
		env.UnsubscribeURL = s.unsubscribeURL(et.e.arn)
		env.MessageAttributes = snsmsg.FromAttributes(n.attrs)
	case snsmsg.TypeSubscriptionConfirmation:
		env.MessageID = newIDs(1)
		env.Token = token
		env.Message = "You have chosen to subscribe to the topic " + t.arn + ".\nTo confirm the subscription, visit the SubscribeURL included in this message."
		env.SubscribeURL = s.subscribeURL(t.arn, token)
		env.Timestamp = time.Now().UTC().Format(snsmsg.TimeFormat)
	case snsmsg.TypeUnsubscribeConfirmation:
		env.MessageID = newIDs(1)
		env.Token = token
		env.Message = "You have chosen to deactivate subscription " + et.e.arn + ".\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
		env.SubscribeURL = s.subscribeURL(t.arn, token)
		env.Timestamp = time.Now().UTC().Format(snsmsg.TimeFormat)
	}
	return env, snsmsg.Sign(sg.key, env)
}

// deadLetter sends an undelivered notification to the subscription's
// dead-letter queue (RedrivePolicy), as SNS does: the message envelope,
// with the attributes and why in "ErrorMessage". Confirmations are not
// dead-lettered.
func (p *post) deadLetter(why string) {
	if p.n == nil {
		return
	}
	dlq := p.target.e.deadLetter
	if dlq == nil {
		var rp struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		}
		if json.Unmarshal([]byte(p.target.attrs["RedrivePolicy"]), &rp) != nil || rp.DeadLetterTargetArn == "" {
			return
		}
		q, err := p.topic.world.QueueByARN(rp.DeadLetterTargetArn)
		if err != nil {
			return
		}
		dlq = q
	}
	deadLetterTo(dlq, p.n, p.target.e.arn, why, false)
}

// deadLetterTo sends n, undeliverable to the subscription subARN, to dlq:
// the envelope, with the message attributes and why in "ErrorMessage"
// when there is room.
func deadLetterTo(dlq queue.Sender, n *notification, subARN, why string, fifo bool) {
	attrs := n.attrs.Clone()
	if attrs == nil {
		attrs = queue.Attributes{}
	}
	if len(attrs) < 10 {
		attrs["ErrorMessage"] = queue.String(why)
	}
	m := &queue.Message{Body: n.envelope(subARN), Attributes: attrs}
	if len(attrs) > 10 {
		m.Attributes = nil
	}
	if fifo {
		m.GroupID, m.DeduplicationID = n.groupID, n.dedupID
	}
	_ = dlq.Send(context.Background(), m) // nowhere left to report to
}
