// Package localaws is a local AWS endpoint: an http.Handler that serves
// Amazon SQS (AWS JSON 1.0 and the Query protocol), Amazon SNS (Query) and
// Amazon EventBridge (AWS JSON 1.1) from in-memory resources of package
// memory, over the wire protocols real AWS clients speak. Point the AWS
// CLI, an SDK or an AWS driver at it instead of an AWS account.
//
// # Regions and accounts
//
// Every request's region is read from the SigV4 credential scope of its
// signature (us-east-1 for an unsigned request or an empty region). The
// server keeps one set of resources per region, created on first use, all
// in one account (Options.AccountID, 000000000000 by default): queue URLs
// and ARNs carry the request's region and that account, as on AWS.
//
// # Signatures
//
// Signatures are not checked unless Options.AccessKey and SecretKey are
// set; then requests must carry a valid SigV4 signature (header or
// query-string form) for that key, and others get InvalidClientTokenId,
// SignatureDoesNotMatch or MissingAuthenticationToken.
//
// # Queue URLs
//
// Queue URLs are minted from the host the client used
// (http://127.0.0.1:4566/000000000000/orders) and resolved by their last
// two path segments whatever their host, so URLs minted under another host
// name keep working; a host of the form sqs.<region>.… names the region.
//
// # SNS HTTP/S subscriptions
//
// Topics post to http and https subscriptions as SNS does (see package
// memory): a SubscriptionConfirmation, then signed notifications, retried
// by the delivery policy and dead-lettered by the redrive policy. Their
// SigningCertURL, SubscribeURL and UnsubscribeURL are under
// Options.BaseURL, and the server answers them: a GET of the certificate's
// path returns it (a self-signed certificate per region), and the unsigned
// GETs of ConfirmSubscription and Unsubscribe links act as on SNS, in the
// region their ARN names. A receiver such as package snshttp verifies
// these messages when it allows the server's host; serve over TLS for it,
// as it fetches certificates over https only.
//
// # Persistence
//
// With Options.DataDir, Open restores the state Close saved there: every
// region's queues (attributes, tags, messages with their receive counts,
// in-flight and delayed ones included; receipt handles stay valid), topics,
// subscriptions, rules, targets and archives (see memory.World.Snapshot).
// The state is written only by Close, so a crash loses what changed since
// the last clean shutdown. For a clean shutdown behind an http.Server: Drain
// (long polls answer at once), Shutdown the http.Server (requests in flight
// finish), then Close (save).
package localaws

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/postroom/postroom/localaws/internal/awsreq"
	"github.com/postroom/postroom/localaws/internal/eventsapi"
	"github.com/postroom/postroom/localaws/internal/snsapi"
	"github.com/postroom/postroom/memory"
)

// DefaultAccountID is the account of every resource unless
// Options.AccountID says otherwise.
const DefaultAccountID = "000000000000"

// Options configure a Server. The zero value serves account 000000000000
// without checking signatures.
type Options struct {
	// AccountID is the account in queue URLs and ARNs; 12 digits.
	AccountID string
	// AccessKey and SecretKey, when both are set, make the server check
	// every request's SigV4 signature against them.
	AccessKey string
	SecretKey string
	// Logger receives a debug line per request and a warning per failed
	// one; nil logs nothing.
	Logger *slog.Logger
	// BaseURL is the address clients reach the server at, such as
	// "http://127.0.0.1:4566": SNS messages to http/https subscriptions
	// name their signing certificate, SubscribeURL and UnsubscribeURL
	// under it. "" leaves SNS's own hosts in those URLs, which nothing
	// serves.
	BaseURL string
	// HTTPClient posts SNS messages to http/https subscriptions; nil means
	// a client with SNS's 15-second timeout.
	HTTPClient *http.Client
	// DataDir, when set, keeps the server's state across restarts: Open
	// restores what Close saved there. State is saved only by Close: a
	// process that dies without it loses everything since the last
	// clean shutdown.
	DataDir string
}

// Server is the local AWS endpoint, an http.Handler. Make one with New; it
// is safe for concurrent use.
type Server struct {
	account  string
	world    memory.WorldOptions // the options of each region's world, but its account and region
	verifier *awsreq.Verifier
	log      *slog.Logger
	dataDir  string
	ctx      context.Context // canceled by Drain and Close
	cancel   context.CancelFunc

	mu      sync.Mutex // guards regions and closed
	regions map[string]*region
	closed  bool
}

// New returns a Server. With Options.DataDir it is Open, and panics if
// the saved state cannot be read.
func New(opts Options) *Server {
	s, err := Open(opts)
	if err != nil {
		panic(err)
	}
	return s
}

func newServer(opts Options) *Server {
	s := &Server{
		account: opts.AccountID,
		world:   memory.WorldOptions{SNSURLBase: opts.BaseURL, HTTPClient: opts.HTTPClient},
		log:     opts.Logger,
		dataDir: opts.DataDir,
		regions: make(map[string]*region),
	}
	if s.account == "" {
		s.account = DefaultAccountID
	}
	if opts.AccessKey != "" && opts.SecretKey != "" {
		s.verifier = &awsreq.Verifier{AccessKey: opts.AccessKey, SecretKey: opts.SecretKey}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// AccountID returns the account the server serves.
func (s *Server) AccountID() string { return s.account }

// Drain ends pending long polls (they answer with no messages) and makes
// later ones answer at once, for a clean shutdown: Drain, then Shutdown
// the http.Server in front of it (requests in flight finish), then Close.
func (s *Server) Drain() { s.cancel() }

// Close drains the server, saves its state to Options.DataDir when set, and
// closes every resource; requests after Close find no resources. Requests
// that finish after Close began may not be saved: Drain and shut down the
// http.Server first.
func (s *Server) Close() error {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for _, r := range s.regions {
		r.stopTasks()
	}
	var err error
	if s.dataDir != "" {
		s.mu.Unlock()
		err = s.save()
		s.mu.Lock()
	}
	for _, r := range s.regions {
		_ = r.world.Close()
	}
	return err
}

// region returns the resources of region name, creating them on first use.
func (s *Server) region(name string) *region {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[name]
	if r == nil {
		r = newRegion(name, s.account, s.world)
		s.regions[name] = r
	}
	return r
}

// reqCtx is what the server records about a request for its log line.
type reqCtx struct {
	id       string
	region   string
	protocol string
	action   string
	err      *awsreq.Error
}

// ServeHTTP serves one AWS API request, telling the protocols apart: an
// X-Amz-Target header selects AWS JSON (AmazonSQS.* or AWSEvents.*); a form
// post is the Query protocol of SQS or SNS, by its Version, the service in
// its credential scope, or its action.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rc := &reqCtx{id: awsreq.RequestID(), region: awsreq.Region(r)}
	defer func() { s.logRequest(r, rc, start) }()

	target := r.Header.Get("X-Amz-Target")
	form := awsreq.IsForm(r.Header.Get("Content-Type")) ||
		(r.Method == http.MethodGet && r.URL.Query().Get("Action") != "")
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, ".pem") {
		s.serveSigningCert(w, r)
		return
	}
	if r.Method == http.MethodGet && target == "" && !form {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("postroom local AWS endpoint: SQS, SNS, EventBridge\n"))
		return
	}
	// Errors before the service is known take the shape of the protocol.
	fail := func(e *awsreq.Error) {
		rc.err = e
		switch {
		case strings.HasPrefix(target, "AWSEvents."):
			awsreq.WriteJSONError(w, "application/x-amz-json-1.1", rc.id, e, false)
		case target != "":
			awsreq.WriteJSONError(w, sqsJSONType, rc.id, e, strings.HasPrefix(target, sqsTargetPrefx))
		default:
			awsreq.WriteQueryError(w, sqsXMLNS, rc.id, e)
		}
	}
	body, err := awsreq.ReadBody(r, 0)
	if err != nil {
		fail(&awsreq.Error{Code: "RequestEntityTooLarge", Status: http.StatusRequestEntityTooLarge,
			Message: "Request body is larger than the endpoint accepts."})
		return
	}
	if region, ok := snsLink(r); ok {
		// SNS's SubscribeURL and UnsubscribeURL are unsigned GETs; they
		// name the topic or subscription, and so the region.
		rc.region = region
		rc.protocol, rc.action = "sns-query", r.URL.Query().Get("Action")
		snsapi.Serve(r.Context(), w, r, r.URL.Query(), s.region(region).world, region, s.account)
		return
	}
	if s.verifier != nil {
		if err := s.verifier.Verify(r, body); err != nil {
			fail(err.(*awsreq.Error))
			return
		}
	}
	switch {
	case strings.HasPrefix(target, sqsTargetPrefx):
		s.serveSQSJSON(w, r, rc, strings.TrimPrefix(target, sqsTargetPrefx), body)
	case strings.HasPrefix(target, "AWSEvents."):
		rc.protocol, rc.action = "events-json", strings.TrimPrefix(target, "AWSEvents.")
		reg := s.region(rc.region)
		eventsapi.Serve(r.Context(), w, r, rc.action, body, reg.world, reg.name, s.account)
	case target != "":
		rc.protocol = "json"
		fail(awsreq.UnknownOperation())
	case form:
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			fail(&awsreq.Error{Code: "MalformedQueryString", Message: "The request body is not a valid form: " + err.Error()})
			return
		}
		for k, v := range r.URL.Query() {
			if _, ok := vals[k]; !ok {
				vals[k] = v
			}
		}
		if isSNS(r, vals) {
			rc.protocol, rc.action = "sns-query", vals.Get("Action")
			reg := s.region(rc.region)
			snsapi.Serve(r.Context(), w, r, vals, reg.world, reg.name, s.account)
			return
		}
		s.serveSQSQuery(w, r, rc, vals)
	default:
		fail(&awsreq.Error{Code: "InvalidAction", Message: "The request names no action: send X-Amz-Target or a form with Action."})
	}
}

// snsOnly are the actions of SNS that SQS does not have.
var snsOnly = map[string]bool{
	"CreateTopic": true, "DeleteTopic": true, "ListTopics": true, "GetTopicAttributes": true,
	"SetTopicAttributes": true, "Subscribe": true, "ConfirmSubscription": true, "Unsubscribe": true,
	"ListSubscriptions": true, "ListSubscriptionsByTopic": true, "GetSubscriptionAttributes": true,
	"SetSubscriptionAttributes": true, "Publish": true, "PublishBatch": true, "TagResource": true,
	"UntagResource": true, "ListTagsForResource": true,
}

// isSNS tells an SNS Query request from an SQS one: by Version, then by
// the service of the credential scope, then by the action.
func isSNS(r *http.Request, form url.Values) bool {
	switch form.Get("Version") {
	case "2010-03-31":
		return true
	case sqsQueryVer:
		return false
	}
	if c, ok := awsreq.Scope(r); ok && c.Service != "" {
		return c.Service == "sns"
	}
	return snsOnly[form.Get("Action")]
}

func (s *Server) logRequest(r *http.Request, rc *reqCtx, start time.Time) {
	attrs := []any{"id", rc.id, "protocol", rc.protocol, "action", rc.action, "region", rc.region,
		"duration", time.Since(start)}
	if rc.err != nil {
		s.log.Warn("request failed", append(attrs, "code", rc.err.Code, "message", rc.err.Message)...)
		return
	}
	s.log.Debug("request", attrs...)
}
