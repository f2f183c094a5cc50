package memory

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus/pattern"
	"github.com/postroom/postroom/internal/snsmsg"

	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// topicAdmin is what SNS's management API keeps about a topic beside its
// deliveries: attributes, tags, and subscriptions to endpoints the memory
// topic does not deliver to (HTTP, e-mail, SMS), kept as records.
type topicAdmin struct {
	attrs    map[string]string            // settable attributes, as set
	tags     map[string]string            // resource tags
	subAttrs map[string]map[string]string // by subscription ARN: attributes kept as set
	endpoint []*endpointSub               // by creation
	deleted  int                          // subscriptions removed
	tokens   map[string]*endpointSub      // confirmation token → pending record
}

// endpointSub is a subscription to an endpoint outside the world: an
// http/https URL that receives POSTs (sns_http.go), or an e-mail address
// or phone number whose messages go to the world's outbox. It is pending
// until confirmed.
type endpointSub struct {
	arn        string
	protocol   string
	endpoint   string
	token      string
	confirmed  bool
	attrs      map[string]string // copy on write: replaced, never modified in place
	filter     *pattern.Pattern  // compiled from attrs' FilterPolicy, or nil
	deadLetter queue.Sender      // set by SetSubscriptionAttribute's caller, or nil: RedrivePolicy's ARN is resolved
	sem        chan struct{}     // bounds the POSTs in flight
	gone       atomic.Bool       // unsubscribed: retries stop
}

// SNS's tag limits.
const (
	maxTopicTags   = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// Endpoint protocols a subscription record can hold, and whether SNS asks
// the endpoint to confirm the subscription.
var endpointProtocols = map[string]bool{"http": true, "https": true, "email": true, "email-json": true, "sms": false}

// SubscriptionInfo describes a subscription of a topic as SNS's
// ListSubscriptions and GetSubscriptionAttributes report it.
type SubscriptionInfo struct {
	// ARN is the subscription's ARN, also for one pending confirmation
	// (ListSubscriptions shows those as "PendingConfirmation").
	ARN      string
	TopicARN string
	Owner    string
	// Protocol is "sqs" for a queue, "lambda" for a function, or the
	// endpoint protocol of a subscription record ("http", "https",
	// "email", "email-json", "sms").
	Protocol string
	// Endpoint is the queue's ARN, the function's, or the record's
	// endpoint (URL, address, phone number).
	Endpoint string
	// Pending is true until the endpoint confirms the subscription.
	Pending bool
	// Attributes are the subscription's attributes as SNS returns them:
	// FilterPolicy, FilterPolicyScope, RawMessageDelivery, RedrivePolicy,
	// PendingConfirmation and the identity fields.
	Attributes map[string]string
}

// owner returns the account of the topic's world.
func (t *Topic) owner() string { return t.world.AccountID() }

func snsNotFound(op, message string) *postroom.Error {
	return &postroom.Error{Pkg: "memory", Op: op, Code: "NotFound", Message: message, Kind: postroom.ErrNotFound}
}

// Attributes returns the topic's attributes as SNS's GetTopicAttributes
// does: those set, with SNS's defaults, and the computed ones (TopicArn,
// Owner, subscription counts, FIFO settings).
func (t *Topic) Attributes() map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]string{
		"TopicArn":                t.ARN(),
		"Owner":                   t.owner(),
		"DisplayName":             "",
		"Policy":                  defaultTopicPolicy(t.ARN(), t.owner()),
		"EffectiveDeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`,
		"SubscriptionsDeleted":    strconv.Itoa(t.admin.deleted),
	}
	confirmed, pending := len(t.subs), 0
	for _, e := range t.admin.endpoint {
		if e.confirmed {
			confirmed++
		} else {
			pending++
		}
	}
	out["SubscriptionsConfirmed"] = strconv.Itoa(confirmed)
	out["SubscriptionsPending"] = strconv.Itoa(pending)
	if t.fifo {
		out["FifoTopic"] = "true"
		out["ContentBasedDeduplication"] = strconv.FormatBool(t.opts.ContentBasedDeduplication)
		out["FifoThroughputScope"] = string(t.opts.DeduplicationScope)
	}
	if t.opts.MaxMessageSize != defaultTopicMessageSize {
		out["MaximumMessageSize"] = strconv.Itoa(t.opts.MaxMessageSize)
	}
	maps.Copy(out, t.admin.attrs)
	return out
}

func defaultTopicPolicy(arn, owner string) string {
	return `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"` + arn + `","Condition":{"StringEquals":{"AWS:SourceOwner":"` + owner + `"}}}]}`
}

// SetAttribute sets one of the topic's attributes, as SNS's
// SetTopicAttributes: DisplayName, Policy, DeliveryPolicy, KmsMasterKeyId,
// SignatureVersion, TracingConfig, ArchivePolicy, DataProtectionPolicy, and
// on a FIFO topic ContentBasedDeduplication and FifoThroughputScope.
// Others fail with InvalidParameter, matching postroom.ErrInvalid.
func (t *Topic) SetAttribute(name, value string) error {
	const op = "settopicattributes"
	t.mu.Lock()
	defer t.mu.Unlock()
	switch name {
	case "DisplayName":
		if len(value) > 100 {
			return snsInvalid(op, "Invalid parameter: DisplayName")
		}
	case "Policy", "DeliveryPolicy", "ArchivePolicy", "DataProtectionPolicy":
		if value != "" && !json.Valid([]byte(value)) {
			return snsInvalid(op, "Invalid parameter: "+name+" Reason: failed to parse JSON.")
		}
	case "KmsMasterKeyId":
	case "SignatureVersion":
		if value != "1" && value != "2" {
			return snsInvalid(op, "Invalid parameter: SignatureVersion")
		}
	case "TracingConfig":
		if value != "PassThrough" && value != "Active" {
			return snsInvalid(op, "Invalid parameter: TracingConfig")
		}
	case "ContentBasedDeduplication":
		if !t.fifo {
			return snsInvalid(op, "Invalid parameter: Attributes Reason: ContentBasedDeduplication is only for FIFO topics")
		}
		b, err := strconv.ParseBool(value)
		if err != nil {
			return snsInvalid(op, "Invalid parameter: ContentBasedDeduplication")
		}
		t.opts.ContentBasedDeduplication = b
		return nil
	case "FifoThroughputScope":
		if !t.fifo {
			return snsInvalid(op, "Invalid parameter: Attributes Reason: FifoThroughputScope is only for FIFO topics")
		}
		if v := TopicDedupScope(value); v != TopicDedupScopeTopic && v != TopicDedupScopeMessageGroup {
			return snsInvalid(op, "Invalid parameter: Attributes Reason: FifoThroughputScope: Invalid value ["+value+"]. Please use either Topic or MessageGroup")
		}
		t.opts.DeduplicationScope = TopicDedupScope(value)
		return nil
	default:
		return snsInvalid(op, "Invalid parameter: AttributeName")
	}
	if t.admin.attrs == nil {
		t.admin.attrs = make(map[string]string)
	}
	t.admin.attrs[name] = value
	return nil
}

// Tags returns the topic's tags.
func (t *Topic) Tags() map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.admin.tags)
}

// Tag adds or replaces tags; a topic holds at most 50 (TagLimitExceeded).
func (t *Topic) Tag(tags map[string]string) error {
	const op = "tagresource"
	for k, v := range tags {
		if k == "" || len(k) > maxTagKeyLen || len(v) > maxTagValueLen || strings.HasPrefix(k, "aws:") {
			return snsInvalid(op, "Invalid parameter: Tags Reason: invalid tag key or value: "+k)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	merged := maps.Clone(t.admin.tags)
	if merged == nil {
		merged = make(map[string]string, len(tags))
	}
	maps.Copy(merged, tags)
	if len(merged) > maxTopicTags {
		return &postroom.Error{Pkg: "memory", Op: op, Code: "TagLimitExceeded", Message: "Could not complete request: tag quota of per resource exceeded", Kind: postroom.ErrInvalid}
	}
	t.admin.tags = merged
	return nil
}

// Untag removes tags by key; absent keys are ignored.
func (t *Topic) Untag(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		delete(t.admin.tags, k)
	}
}

// SubscribeEndpoint subscribes an endpoint outside the world: protocol
// "http", "https", "email", "email-json" or "sms". An SMS subscription is
// confirmed at once; the others stay pending until ConfirmSubscription with
// the token returned (or a GET of the SubscribeURL, see World.SNSHandler).
// An http/https endpoint is sent SNS's SubscriptionConfirmation POST, and
// once confirmed a Notification POST per admitted message, with SNS's
// headers, signature, delivery policy and dead-letter queue; e-mail and
// SMS messages go to the world's outbox (World.Outbox). attrs are kept as
// the subscription's attributes: FilterPolicy, FilterPolicyScope,
// RawMessageDelivery, RedrivePolicy (its queue is found by ARN in the
// world), DeliveryPolicy.
func (t *Topic) SubscribeEndpoint(protocol, endpoint string, attrs map[string]string) (SubscriptionInfo, string, error) {
	const op = "subscribe"
	confirm, ok := endpointProtocols[protocol]
	if !ok {
		return SubscriptionInfo{}, "", snsInvalid(op, "Invalid parameter: Amazon SNS does not support this protocol string: "+protocol)
	}
	if t.fifo {
		return SubscriptionInfo{}, "", snsInvalid(op, "Invalid parameter: Invalid protocol type: "+protocol+". FIFO topics only support SQS subscriptions")
	}
	if err := checkEndpoint(protocol, endpoint); err != nil {
		return SubscriptionInfo{}, "", err
	}
	probe := &subscription{}
	if p := attrs["FilterPolicy"]; p != "" {
		if err := probe.setFilter(p, scopeOf(attrs["FilterPolicyScope"])); err != nil {
			return SubscriptionInfo{}, "", err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return SubscriptionInfo{}, "", &postroom.Error{Pkg: "memory", Op: op, Kind: postroom.ErrClosed}
	}
	// Subscribing an endpoint again returns its subscription, asking a
	// pending one to confirm again.
	for _, e := range t.admin.endpoint {
		if e.protocol == protocol && e.endpoint == endpoint {
			if !e.confirmed {
				t.askConfirmation(e)
			}
			return t.endpointInfo(e), e.token, nil
		}
	}
	t.nsubs++
	e := &endpointSub{
		arn:       fmt.Sprintf("%s:%08x-0000-4000-8000-%012x", t.ARN(), t.nsubs, t.nsubs),
		protocol:  protocol,
		endpoint:  endpoint,
		confirmed: !confirm,
		attrs:     maps.Clone(attrs),
		filter:    probe.filter.Load(),
		sem:       make(chan struct{}, maxPostsInFlight),
	}
	if confirm {
		var b [32]byte
		_, _ = rand.Read(b[:])
		e.token = hex.EncodeToString(b[:])
		if t.admin.tokens == nil {
			t.admin.tokens = make(map[string]*endpointSub)
		}
		t.admin.tokens[e.token] = e
	}
	t.admin.endpoint = append(t.admin.endpoint, e)
	if confirm {
		t.askConfirmation(e)
	}
	return t.endpointInfo(e), e.token, nil
}

// target returns e as a delivery sees it now. Callers hold t.mu.
func (t *Topic) target(e *endpointSub) endpointTarget {
	return endpointTarget{e: e, attrs: e.attrs, filter: e.filter, sigVersion: t.admin.attrs["SignatureVersion"], topicPol: t.admin.attrs["DeliveryPolicy"]}
}

// askConfirmation sends an http/https endpoint its SubscriptionConfirmation
// and puts an e-mail's in the outbox. Callers hold t.mu.
func (t *Topic) askConfirmation(e *endpointSub) {
	switch e.protocol {
	case "http", "https":
		t.startPost(&post{topic: t, target: t.target(e), typ: snsmsg.TypeSubscriptionConfirmation, token: e.token})
	case "email", "email-json":
		et, token := t.target(e), e.token
		t.funcs.Add(1)
		go func() { // signing may make the world's key: not under t.mu
			defer t.funcs.Done()
			t.world.sns.recordConfirmation(t, et, token)
		}()
	}
}

func checkEndpoint(protocol, endpoint string) error {
	ok := endpoint != ""
	switch protocol {
	case "http":
		ok = strings.HasPrefix(endpoint, "http://")
	case "https":
		ok = strings.HasPrefix(endpoint, "https://")
	case "email", "email-json":
		ok = strings.Contains(endpoint, "@")
	}
	if !ok {
		return snsInvalid("subscribe", "Invalid parameter: Endpoint")
	}
	return nil
}

// ConfirmSubscription confirms a pending subscription by the token SNS
// sent its endpoint, returning its ARN; an unknown token fails with
// InvalidParameter.
func (t *Topic) ConfirmSubscription(token string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.admin.tokens[token]
	if e == nil {
		return "", snsInvalid("confirmsubscription", "Invalid token")
	}
	e.confirmed = true
	if e.gone.Load() { // the SubscribeURL of an UnsubscribeConfirmation restores it
		e.gone.Store(false)
		t.admin.endpoint = append(t.admin.endpoint, e)
	}
	return e.arn, nil
}

// Subscriptions lists the topic's subscriptions, queues, functions and
// endpoint records alike, in the order they were made.
func (t *Topic) Subscriptions() []SubscriptionInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]SubscriptionInfo, 0, len(t.subs)+len(t.admin.endpoint))
	for _, s := range t.subs {
		out = append(out, t.subInfo(s))
	}
	for _, e := range t.admin.endpoint {
		out = append(out, t.endpointInfo(e))
	}
	slices.SortFunc(out, func(a, b SubscriptionInfo) int { return strings.Compare(a.ARN, b.ARN) })
	return out
}

// SubscriptionInfo describes one subscription by ARN; false when the topic
// has none with that ARN.
func (t *Topic) SubscriptionInfo(arn string) (SubscriptionInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.subByARN(arn); s != nil {
		return t.subInfo(s), true
	}
	if e := t.endpointByARN(arn); e != nil {
		return t.endpointInfo(e), true
	}
	return SubscriptionInfo{}, false
}

func (t *Topic) subByARN(arn string) *subscription {
	for _, s := range t.subs {
		if s.arn == arn {
			return s
		}
	}
	return nil
}

func (t *Topic) endpointByARN(arn string) *endpointSub {
	for _, e := range t.admin.endpoint {
		if e.arn == arn {
			return e
		}
	}
	return nil
}

func (t *Topic) subInfo(s *subscription) SubscriptionInfo {
	in := SubscriptionInfo{ARN: s.arn, TopicARN: t.ARN(), Owner: t.owner(), Protocol: "sqs"}
	switch {
	case s.qarn != "":
		in.Endpoint = s.qarn
	case s.queue != nil:
		in.Endpoint = s.queue.ARN()
	default:
		in.Protocol = "lambda"
		in.Endpoint = "arn:aws:lambda:" + t.world.Region() + ":" + t.owner() + ":function:subscription-" + s.arn[strings.LastIndexByte(s.arn, ':')+1:]
	}
	a := map[string]string{
		"SubscriptionArn":              s.arn,
		"TopicArn":                     in.TopicARN,
		"Owner":                        in.Owner,
		"Protocol":                     in.Protocol,
		"Endpoint":                     in.Endpoint,
		"PendingConfirmation":          "false",
		"ConfirmationWasAuthenticated": "true",
		"RawMessageDelivery":           strconv.FormatBool(s.opts.RawDelivery),
	}
	if s.opts.FilterPolicy != "" {
		a["FilterPolicy"] = s.opts.FilterPolicy
		a["FilterPolicyScope"] = s.opts.FilterPolicyScope.String()
	}
	maps.Copy(a, t.admin.subAttrs[s.arn])
	in.Attributes = a
	return in
}

func (t *Topic) endpointInfo(e *endpointSub) SubscriptionInfo {
	in := SubscriptionInfo{ARN: e.arn, TopicARN: t.ARN(), Owner: t.owner(), Protocol: e.protocol, Endpoint: e.endpoint, Pending: !e.confirmed}
	a := map[string]string{
		"SubscriptionArn":              e.arn,
		"TopicArn":                     in.TopicARN,
		"Owner":                        in.Owner,
		"Protocol":                     e.protocol,
		"Endpoint":                     e.endpoint,
		"PendingConfirmation":          strconv.FormatBool(!e.confirmed),
		"ConfirmationWasAuthenticated": strconv.FormatBool(e.confirmed),
		"RawMessageDelivery":           "false",
	}
	maps.Copy(a, e.attrs)
	if a["FilterPolicy"] != "" && a["FilterPolicyScope"] == "" {
		a["FilterPolicyScope"] = "MessageAttributes"
	}
	in.Attributes = a
	return in
}

// UnsubscribeARN removes a subscription by ARN: a queue or function
// subscription stops receiving, a record is dropped. An unknown ARN fails
// with NotFound, matching postroom.ErrNotFound.
func (t *Topic) UnsubscribeARN(arn string) error {
	t.mu.Lock()
	s := t.subByARN(arn)
	if s == nil {
		defer t.mu.Unlock()
		i := slices.IndexFunc(t.admin.endpoint, func(e *endpointSub) bool { return e.arn == arn })
		if i < 0 {
			return snsNotFound("unsubscribe", "Subscription does not exist")
		}
		e := t.admin.endpoint[i]
		delete(t.admin.tokens, e.token)
		t.admin.endpoint = slices.Delete(slices.Clone(t.admin.endpoint), i, i+1)
		t.admin.deleted++
		e.gone.Store(true)
		if (e.protocol == "http" || e.protocol == "https") && e.confirmed && !t.closed {
			var b [32]byte
			_, _ = rand.Read(b[:])
			token := hex.EncodeToString(b[:])
			if t.admin.tokens == nil {
				t.admin.tokens = make(map[string]*endpointSub)
			}
			t.admin.tokens[token] = e
			t.startPost(&post{topic: t, target: t.target(e), typ: snsmsg.TypeUnsubscribeConfirmation, token: token})
		}
		return nil
	}
	t.admin.deleted++
	delete(t.admin.subAttrs, arn)
	t.mu.Unlock()
	return s.unsubscribe()
}

func scopeOf(s string) pubsub.Scope {
	if s == "MessageBody" {
		return pubsub.ScopeMessageBody
	}
	return pubsub.ScopeMessageAttributes
}

// SetSubscriptionAttribute changes one attribute of a subscription, as
// SNS's SetSubscriptionAttributes: FilterPolicy (empty removes it),
// FilterPolicyScope ("MessageAttributes" or "MessageBody"),
// RawMessageDelivery ("true" or "false"), RedrivePolicy (JSON naming the
// dead-letter queue, which the caller resolves into deadLetter; empty
// removes it), DeliveryPolicy and SubscriptionRoleArn (kept). The change
// applies from the next publish.
func (t *Topic) SetSubscriptionAttribute(arn, name, value string, deadLetter queue.Sender) error {
	const op = "setsubscriptionattributes"
	switch name {
	case "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "DeliveryPolicy", "SubscriptionRoleArn":
	default:
		return snsInvalid(op, "Invalid parameter: AttributeName")
	}
	if name == "FilterPolicyScope" && value != "MessageAttributes" && value != "MessageBody" {
		return snsInvalid(op, "Invalid parameter: FilterPolicyScope: Invalid value ["+value+"]. Please use either MessageBody or MessageAttributes")
	}
	if name == "RawMessageDelivery" {
		if _, err := strconv.ParseBool(value); err != nil {
			return snsInvalid(op, "Invalid parameter: RawMessageDelivery: Invalid value ["+value+"]. Must be true or false.")
		}
	}
	if (name == "RedrivePolicy" || name == "DeliveryPolicy") && value != "" && !json.Valid([]byte(value)) {
		return snsInvalid(op, "Invalid parameter: "+name+": failed to parse JSON.")
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.endpointByARN(arn); e != nil {
		attrs := maps.Clone(e.attrs)
		if attrs == nil {
			attrs = make(map[string]string)
		}
		attrs[name] = value
		probe := &subscription{}
		if p := attrs["FilterPolicy"]; p != "" {
			if err := probe.setFilter(p, scopeOf(attrs["FilterPolicyScope"])); err != nil {
				return err
			}
		}
		e.attrs = attrs
		e.filter = probe.filter.Load()
		if name == "RedrivePolicy" {
			e.deadLetter = deadLetter
			if value == "" {
				e.deadLetter = nil
			}
		}
		return nil
	}
	s := t.subByARN(arn)
	if s == nil {
		return snsNotFound(op, "Subscription does not exist")
	}
	opts := s.opts
	switch name {
	case "FilterPolicy":
		opts.FilterPolicy = value
	case "FilterPolicyScope":
		opts.FilterPolicyScope = scopeOf(value)
	case "RawMessageDelivery":
		opts.RawDelivery, _ = strconv.ParseBool(value)
	case "RedrivePolicy":
		opts.DeadLetter = deadLetter
		if value == "" {
			opts.DeadLetter = nil
		}
	}
	if name == "RedrivePolicy" || name == "DeliveryPolicy" || name == "SubscriptionRoleArn" {
		if t.admin.subAttrs == nil {
			t.admin.subAttrs = make(map[string]map[string]string)
		}
		if t.admin.subAttrs[arn] == nil {
			t.admin.subAttrs[arn] = make(map[string]string)
		}
		if value == "" {
			delete(t.admin.subAttrs[arn], name)
		} else {
			t.admin.subAttrs[arn][name] = value
		}
	}
	return t.replaceSub(s, opts)
}

// replaceSub swaps s for a subscription with the same identity and new
// options, so that a publish sees either the old options or the new ones,
// never a mix, and loses nothing. Called with t.mu held.
func (t *Topic) replaceSub(s *subscription, opts SubscriptionOptions) error {
	ns := &subscription{topic: t, arn: s.arn, queue: s.queue, qarn: s.qarn, fn: s.fn, opts: opts, owned: s.owned, name: s.name}
	if err := ns.setFilter(opts.FilterPolicy, opts.FilterPolicyScope); err != nil {
		return err
	}
	ns.active.Store(true)
	subs := make([]*subscription, len(t.subs))
	for i, o := range t.subs {
		if o == s {
			o = ns
		}
		subs[i] = o
	}
	t.subs = subs
	// t.named keeps the caller's *Subscription: it receives from the same
	// queue, which is all it does.
	// s stays active: a publish that took the list before the swap
	// delivers through it, with the old options.
	return nil
}
