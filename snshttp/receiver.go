package snshttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/internal/errkit"
	"github.com/postroom/postroom/internal/rawvalue"
	"github.com/postroom/postroom/internal/snsmsg"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

const e errkit.Pkg = "snshttp"

// Defaults of Options.
const (
	DefaultMaxAge      = time.Hour + 5*time.Minute
	DefaultMaxBodySize = 2 << 20
	maxClockSkew       = 5 * time.Minute
)

// Errors of rejected messages, passed to Options.ErrorLog. Each matches
// postroom.ErrInvalid; a bad signature, an unknown certificate host and a
// malformed message are *postroom.Error values of that kind.
var (
	ErrReplay     = fmt.Errorf("snshttp: message already received: %w", postroom.ErrInvalid)
	ErrWrongTopic = fmt.Errorf("snshttp: message of a topic not expected: %w", postroom.ErrInvalid)
	ErrTooOld     = fmt.Errorf("snshttp: message timestamp out of the accepted window: %w", postroom.ErrInvalid)
)

// Envelope is an SNS message as it arrives at an HTTP/S endpoint.
type Envelope struct {
	Type              string                       `json:"Type"`
	MessageID         string                       `json:"MessageId"`
	Token             string                       `json:"Token,omitempty"`
	TopicARN          string                       `json:"TopicArn"`
	Subject           string                       `json:"Subject,omitempty"`
	Message           string                       `json:"Message"`
	SubscribeURL      string                       `json:"SubscribeURL,omitempty"`
	Timestamp         string                       `json:"Timestamp"`
	SequenceNumber    string                       `json:"SequenceNumber,omitempty"`
	SignatureVersion  string                       `json:"SignatureVersion,omitempty"`
	Signature         string                       `json:"Signature,omitempty"`
	SigningCertURL    string                       `json:"SigningCertURL,omitempty"`
	UnsubscribeURL    string                       `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]EnvelopeAttribute `json:"MessageAttributes,omitempty"`
}

// EnvelopeAttribute is a message attribute in an envelope: its value as a
// string, base64 for Binary.
type EnvelopeAttribute = snsmsg.Attribute

// Options configure a Receiver. The zero value accepts signed messages of
// any topic from SNS's own hosts.
type Options struct {
	// TopicARNs, when set, are the topics whose messages are accepted.
	TopicARNs []string
	// AllowedHosts are host names (without port) that SigningCertURL and
	// SubscribeURL may name besides SNS's (sns.<region>.amazonaws.com and
	// .com.cn): the local endpoint's, such as "127.0.0.1", in tests. An
	// allowed loopback host (localhost, 127.0.0.0/8, ::1) may be named by
	// an http URL too, as `postroom serve` serves; every other host needs
	// https.
	AllowedHosts []string
	// HTTPClient fetches signing certificates and SubscribeURLs; nil
	// means http.DefaultClient.
	HTTPClient *http.Client
	// MaxAge is how old a message's Timestamp may be, and how long a
	// handled message id is remembered; 0 means DefaultMaxAge (SNS retries
	// an HTTP delivery for at most an hour).
	MaxAge time.Duration
	// MaxBodySize caps a request body; 0 means DefaultMaxBodySize.
	MaxBodySize int64
	// OnConfirm, when set, is given each verified SubscriptionConfirmation
	// instead of the Receiver confirming it by a GET of its SubscribeURL.
	// An error answers 500.
	OnConfirm func(ctx context.Context, env *Envelope) error
	// OnUnsubscribe, when set, is given each verified
	// UnsubscribeConfirmation. An error answers 500.
	OnUnsubscribe func(ctx context.Context, env *Envelope) error
	// AllowRaw accepts raw deliveries (RawMessageDelivery), which SNS does
	// not sign: only the topic and replay checks apply to them.
	AllowRaw bool
	// ErrorLog, when set, is told why a request was rejected or failed.
	ErrorLog func(r *http.Request, err error)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Receiver is the http.Handler of an SNS HTTP/S subscription's endpoint.
// Make one with New; it is safe for concurrent use.
type Receiver struct {
	h        consumer.Handler
	opts     Options
	topics   map[string]bool
	verifier *snsmsg.Verifier

	mu       sync.Mutex           // guards everything below
	seen     map[string]time.Time // handled message id → when it is forgotten
	inflight map[string]bool      // message ids being handled
	pruneAt  int                  // prune seen when it grows to this size
}

var _ http.Handler = (*Receiver)(nil)

// New returns a Receiver that passes notifications to h.
func New(h consumer.Handler, opts Options) (*Receiver, error) {
	if h == nil {
		return nil, e.New(postroom.ErrInvalid, "new", "the handler is nil")
	}
	if opts.MaxAge < 0 || opts.MaxBodySize < 0 {
		return nil, e.New(postroom.ErrInvalid, "new", "MaxAge and MaxBodySize must not be negative")
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.MaxBodySize == 0 {
		opts.MaxBodySize = DefaultMaxBodySize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, arn := range opts.TopicARNs {
		if !snsmsg.IsTopicARN(arn) {
			return nil, e.Errorf(postroom.ErrInvalid, "new", "%q is not a topic ARN", arn)
		}
	}
	r := &Receiver{h: h, opts: opts, seen: make(map[string]time.Time), inflight: make(map[string]bool), pruneAt: 1024}
	if len(opts.TopicARNs) > 0 {
		r.topics = make(map[string]bool, len(opts.TopicARNs))
		for _, arn := range opts.TopicARNs {
			r.topics[arn] = true
		}
	}
	hosts := slices.Clone(opts.AllowedHosts)
	r.verifier = &snsmsg.Verifier{Pkg: e, HTTPClient: opts.HTTPClient, Now: opts.Now,
		AllowedHost: func(host string) bool { return snsmsg.CertHost.MatchString(host) || slices.Contains(hosts, host) }}
	return r, nil
}

// ServeHTTP receives one SNS message.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	status, err := r.serve(req)
	if err != nil && r.opts.ErrorLog != nil {
		r.opts.ErrorLog(req, err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	if err != nil {
		_, _ = io.WriteString(w, http.StatusText(status)+"\n")
	}
}

func (r *Receiver) serve(req *http.Request) (int, error) {
	if req.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, e.New(postroom.ErrInvalid, "receive", "method "+req.Method+" is not POST")
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, r.opts.MaxBodySize+1))
	if err != nil {
		return http.StatusBadRequest, e.Wrap(postroom.ErrInvalid, "receive", err)
	}
	if int64(len(body)) > r.opts.MaxBodySize {
		return http.StatusRequestEntityTooLarge, e.New(postroom.ErrTooLarge, "receive", "the body is over MaxBodySize")
	}
	ctx := req.Context()
	if strings.EqualFold(req.Header.Get("X-Amz-Sns-Rawdelivery"), "true") {
		return r.serveRaw(ctx, req, body)
	}
	env, ok := snsmsg.Parse(body)
	if !ok {
		return http.StatusBadRequest, e.New(postroom.ErrInvalid, "receive", "the body is not an SNS message")
	}
	if t := req.Header.Get("X-Amz-Sns-Message-Type"); t != "" && t != env.Type {
		return http.StatusBadRequest, e.Errorf(postroom.ErrInvalid, "receive", "header x-amz-sns-message-type %q differs from Type %q", t, env.Type)
	}
	if r.topics != nil && !r.topics[env.TopicARN] {
		return http.StatusForbidden, fmt.Errorf("%w: %s", ErrWrongTopic, env.TopicARN)
	}
	if err := r.verifier.Verify(ctx, env); err != nil {
		if errors.Is(err, postroom.ErrUnavailable) {
			return http.StatusServiceUnavailable, err // SNS retries: the certificate may be reachable later
		}
		return http.StatusForbidden, err
	}
	ts, _ := time.Parse(time.RFC3339, env.Timestamp) // Parse checked it
	now := r.opts.Now()
	if now.Sub(ts) > r.opts.MaxAge || ts.Sub(now) > maxClockSkew {
		return http.StatusBadRequest, fmt.Errorf("%w: %s at %s", ErrTooOld, env.Timestamp, now.UTC().Format(time.RFC3339))
	}
	pub := (*Envelope)(env)
	switch env.Type {
	case snsmsg.TypeSubscriptionConfirmation:
		if r.opts.OnConfirm != nil {
			if err := r.opts.OnConfirm(ctx, pub); err != nil {
				return http.StatusInternalServerError, e.Wrap(postroom.ErrUnavailable, "confirm", err)
			}
			return http.StatusOK, nil
		}
		return r.confirm(ctx, env)
	case snsmsg.TypeUnsubscribeConfirmation:
		if r.opts.OnUnsubscribe != nil {
			if err := r.opts.OnUnsubscribe(ctx, pub); err != nil {
				return http.StatusInternalServerError, e.Wrap(postroom.ErrUnavailable, "unsubscribe", err)
			}
		}
		return http.StatusOK, nil
	}
	attrs, err := snsmsg.Attributes(e, env)
	if err != nil {
		return http.StatusBadRequest, err
	}
	if env.Subject != "" {
		if attrs == nil {
			attrs = queue.Attributes{}
		}
		if _, ok := attrs[pubsub.SubjectAttribute]; !ok {
			attrs[pubsub.SubjectAttribute] = queue.String(env.Subject)
		}
	}
	d := &queue.Delivery{
		Message:        queue.Message{ID: env.MessageID, Body: []byte(env.Message), Attributes: attrs},
		Receipt:        env.MessageID,
		ReceiveCount:   1,
		SentAt:         ts,
		ReceivedAt:     now,
		SequenceNumber: env.SequenceNumber,
	}
	rawvalue.Set(d, pub)
	return r.handle(ctx, d)
}

// serveRaw receives a raw delivery: the body is the message, the headers
// say which.
func (r *Receiver) serveRaw(ctx context.Context, req *http.Request, body []byte) (int, error) {
	if !r.opts.AllowRaw {
		return http.StatusBadRequest, e.New(postroom.ErrInvalid, "receive", "raw deliveries are not signed and AllowRaw is off")
	}
	pub := &Envelope{Type: req.Header.Get("X-Amz-Sns-Message-Type"), MessageID: req.Header.Get("X-Amz-Sns-Message-Id"),
		TopicARN: req.Header.Get("X-Amz-Sns-Topic-Arn"), Message: string(body)}
	if pub.Type != snsmsg.TypeNotification || pub.MessageID == "" || !snsmsg.IsTopicARN(pub.TopicARN) {
		return http.StatusBadRequest, e.New(postroom.ErrInvalid, "receive", "a raw delivery needs the x-amz-sns-message-type, -message-id and -topic-arn headers")
	}
	if r.topics != nil && !r.topics[pub.TopicARN] {
		return http.StatusForbidden, fmt.Errorf("%w: %s", ErrWrongTopic, pub.TopicARN)
	}
	now := r.opts.Now()
	d := &queue.Delivery{Message: queue.Message{ID: pub.MessageID, Body: body}, Receipt: pub.MessageID, ReceiveCount: 1, ReceivedAt: now}
	rawvalue.Set(d, pub)
	return r.handle(ctx, d)
}

// confirm GETs the SubscribeURL of a confirmation.
func (r *Receiver) confirm(ctx context.Context, env *snsmsg.Envelope) (int, error) {
	if _, err := r.verifier.CheckURL("SubscribeURL", env.SubscribeURL); err != nil {
		return http.StatusForbidden, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.SubscribeURL, nil)
	if err != nil {
		return http.StatusBadRequest, e.Wrap(postroom.ErrInvalid, "confirm", err)
	}
	client := r.opts.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return http.StatusInternalServerError, e.Wrap(postroom.ErrUnavailable, "confirm", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return http.StatusInternalServerError, e.Errorf(postroom.ErrUnavailable, "confirm", "GET SubscribeURL: HTTP %d", resp.StatusCode)
	}
	return http.StatusOK, nil
}

// handle runs the handler once per message id.
func (r *Receiver) handle(ctx context.Context, d *queue.Delivery) (int, error) {
	id := d.ID
	r.mu.Lock()
	if until, ok := r.seen[id]; (ok && d.ReceivedAt.Before(until)) || r.inflight[id] {
		r.mu.Unlock()
		return http.StatusConflict, fmt.Errorf("%w: %s", ErrReplay, id)
	}
	r.inflight[id] = true
	r.mu.Unlock()

	err := call(ctx, r.h, d)

	r.mu.Lock()
	delete(r.inflight, id)
	if err == nil {
		r.remember(id, d.ReceivedAt)
	}
	r.mu.Unlock()
	if err != nil {
		return http.StatusInternalServerError, err
	}
	return http.StatusOK, nil
}

// remember records a handled id, forgetting expired ones when the map has
// doubled since the last time. Callers hold r.mu.
func (r *Receiver) remember(id string, now time.Time) {
	r.seen[id] = now.Add(r.opts.MaxAge)
	if len(r.seen) < r.pruneAt {
		return
	}
	for k, until := range r.seen {
		if !now.Before(until) {
			delete(r.seen, k)
		}
	}
	r.pruneAt = max(1024, 2*len(r.seen))
}

// call runs h, turning a panic into a *consumer.PanicError.
func call(ctx context.Context, h consumer.Handler, d *queue.Delivery) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &consumer.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return h(ctx, d)
}
