package snsapi

import (
	"context"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
)

// pageSize is how many topics or subscriptions a List action returns.
const pageSize = 100

func required(form url.Values, name string) (string, error) {
	v := form.Get(name)
	if v == "" {
		return "", invalid("Invalid parameter: %s", name)
	}
	return v, nil
}

func (s *server) topic(form url.Values, param string) (*memory.Topic, error) {
	arn, err := required(form, param)
	if err != nil {
		return nil, err
	}
	t, err := s.world.TopicByARN(arn)
	if err != nil {
		return nil, notFound("Topic does not exist")
	}
	return t, nil
}

// Attributes CreateTopic takes as TopicOptions; the others are set after.
var createOnly = map[string]bool{"FifoTopic": true, "ContentBasedDeduplication": true, "FifoThroughputScope": true, "MaximumMessageSize": true}

func (s *server) createTopic(ctx context.Context, form url.Values) (*response, error) {
	name, err := required(form, "Name")
	if err != nil {
		return nil, invalid("Invalid parameter: Topic Name")
	}
	attrs, err := entryMap(form, "Attributes", "key", "value")
	if err != nil {
		return nil, err
	}
	tags, err := tagList(form, "Tags")
	if err != nil {
		return nil, err
	}
	var opts memory.TopicOptions
	fifo := attrs["FifoTopic"] == "true"
	if fifo != strings.HasSuffix(name, ".fifo") {
		if fifo {
			return nil, invalid("Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
		}
		return nil, invalid("Invalid parameter: Topic Name")
	}
	opts.FIFO = fifo
	if v, ok := attrs["ContentBasedDeduplication"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, invalid("Invalid parameter: ContentBasedDeduplication")
		}
		opts.ContentBasedDeduplication = b
	}
	opts.DeduplicationScope = memory.TopicDedupScope(attrs["FifoThroughputScope"])
	if v, ok := attrs["MaximumMessageSize"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, invalid("Invalid parameter: Attributes Reason: MaximumMessageSize must be between 1024 and 1048576")
		}
		opts.MaxMessageSize = n
	}
	if t, err := s.world.Topic(name); err == nil {
		// CreateTopic is idempotent, unless the attributes differ.
		cur := t.Attributes()
		for k, v := range attrs {
			if k == "FifoTopic" && !fifo {
				continue
			}
			if cur[k] != v {
				return nil, invalid("Invalid parameter: Attributes Reason: Topic already exists with different attributes")
			}
		}
		return result().el("TopicArn", t.ARN()), nil
	}
	t, err := s.world.NewTopic(name, opts)
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		if createOnly[k] {
			continue
		}
		if err := t.SetAttribute(k, attrs[k]); err != nil {
			_ = s.world.DeleteTopic(name)
			return nil, err
		}
	}
	if len(tags) > 0 {
		if err := t.Tag(tags); err != nil {
			_ = s.world.DeleteTopic(name)
			return nil, err
		}
	}
	return result().el("TopicArn", t.ARN()), nil
}

func (s *server) deleteTopic(ctx context.Context, form url.Values) (*response, error) {
	arn, err := required(form, "TopicArn")
	if err != nil {
		return nil, err
	}
	t, err := s.world.TopicByARN(arn)
	if err != nil {
		return nil, nil // idempotent, as SNS
	}
	if err := s.world.DeleteTopic(t.Name()); err != nil && !isNotFound(err) {
		return nil, err
	}
	return nil, nil
}

func isNotFound(err error) bool { return ErrorOf(err).Code == "NotFound" }

// pageOf cuts a page from n items: the token is the index to start from.
func pageOf(n int, token string) (from, to int, next string, err error) {
	if token != "" {
		v, perr := strconv.Atoi(token)
		if perr != nil || v < 0 || v > n {
			return 0, 0, "", invalid("Invalid parameter: NextToken")
		}
		from = v
	}
	to = min(n, from+pageSize)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}

func (s *server) listTopics(ctx context.Context, form url.Values) (*response, error) {
	ts := s.world.Topics("")
	from, to, next, err := pageOf(len(ts), form.Get("NextToken"))
	if err != nil {
		return nil, err
	}
	r := result().open("Topics")
	for _, t := range ts[from:to] {
		r.open("member").el("TopicArn", t.ARN()).close("member")
	}
	r.close("Topics")
	if next != "" {
		r.el("NextToken", next)
	}
	return r, nil
}

func (s *server) getTopicAttributes(ctx context.Context, form url.Values) (*response, error) {
	t, err := s.topic(form, "TopicArn")
	if err != nil {
		return nil, err
	}
	return result().entries("Attributes", t.Attributes()), nil
}

func (s *server) setTopicAttributes(ctx context.Context, form url.Values) (*response, error) {
	t, err := s.topic(form, "TopicArn")
	if err != nil {
		return nil, err
	}
	name, err := required(form, "AttributeName")
	if err != nil {
		return nil, err
	}
	return nil, t.SetAttribute(name, form.Get("AttributeValue"))
}

// Subscriptions.

// subscriptionAttrs are the attributes Subscribe and
// SetSubscriptionAttributes take.
var subscriptionAttrs = map[string]bool{"FilterPolicy": true, "FilterPolicyScope": true, "RawMessageDelivery": true,
	"RedrivePolicy": true, "DeliveryPolicy": true, "SubscriptionRoleArn": true}

func (s *server) subscribe(ctx context.Context, form url.Values) (*response, error) {
	t, err := s.topic(form, "TopicArn")
	if err != nil {
		return nil, err
	}
	protocol, err := required(form, "Protocol")
	if err != nil {
		return nil, err
	}
	endpoint := form.Get("Endpoint")
	attrs, err := entryMap(form, "Attributes", "key", "value")
	if err != nil {
		return nil, err
	}
	for k := range attrs {
		if !subscriptionAttrs[k] {
			return nil, invalid("Invalid parameter: Attributes Reason: Unknown attribute %s", k)
		}
	}
	returnARN := form.Get("ReturnSubscriptionArn") == "true"
	if protocol != "sqs" {
		info, _, err := t.SubscribeEndpoint(protocol, endpoint, attrs)
		if err != nil {
			return nil, err
		}
		arn := info.ARN
		if info.Pending && !returnARN {
			arn = "pending confirmation"
		}
		return result().el("SubscriptionArn", arn), nil
	}

	// Subscribing a queue again returns its subscription.
	for _, sub := range t.Subscriptions() {
		if sub.Protocol == "sqs" && sub.Endpoint == endpoint {
			return result().el("SubscriptionArn", sub.ARN), nil
		}
	}
	opts := memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{FilterPolicy: attrs["FilterPolicy"]}}
	if v, ok := attrs["FilterPolicyScope"]; ok {
		if v != "MessageAttributes" && v != "MessageBody" {
			return nil, invalid("Invalid parameter: FilterPolicyScope: Invalid value [%s]. Please use either MessageBody or MessageAttributes", v)
		}
		if v == "MessageBody" {
			opts.FilterPolicyScope = pubsub.ScopeMessageBody
		}
	}
	if v, ok := attrs["RawMessageDelivery"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, invalid("Invalid parameter: RawMessageDelivery: Invalid value [%s]. Must be true or false.", v)
		}
		opts.RawDelivery = b
	}
	sub, err := t.SubscribeQueueARN(endpoint, opts)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"RedrivePolicy", "DeliveryPolicy", "SubscriptionRoleArn"} {
		if v, ok := attrs[k]; ok {
			if err := s.setSubAttr(t, sub.ARN(), k, v); err != nil {
				_ = t.UnsubscribeARN(sub.ARN())
				return nil, err
			}
		}
	}
	return result().el("SubscriptionArn", sub.ARN()), nil
}

// setSubAttr sets a subscription attribute, resolving a redrive policy's
// dead-letter queue in the world.
func (s *server) setSubAttr(t *memory.Topic, arn, name, value string) error {
	var dlq *memory.Queue
	if name == "RedrivePolicy" && value != "" {
		var p struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		}
		if err := json.Unmarshal([]byte(value), &p); err != nil || p.DeadLetterTargetArn == "" {
			return invalid("Invalid parameter: RedrivePolicy: deadLetterTargetArn is required")
		}
		q, err := s.world.QueueByARN(p.DeadLetterTargetArn)
		if err != nil {
			return invalid("Invalid parameter: RedrivePolicy: deadLetterTargetArn: no queue %s", p.DeadLetterTargetArn)
		}
		dlq = q
	}
	if dlq == nil {
		return t.SetSubscriptionAttribute(arn, name, value, nil)
	}
	return t.SetSubscriptionAttribute(arn, name, value, dlq)
}

func (s *server) confirmSubscription(ctx context.Context, form url.Values) (*response, error) {
	t, err := s.topic(form, "TopicArn")
	if err != nil {
		return nil, err
	}
	token, err := required(form, "Token")
	if err != nil {
		return nil, err
	}
	arn, err := t.ConfirmSubscription(token)
	if err != nil {
		return nil, err
	}
	return result().el("SubscriptionArn", arn), nil
}

// subscriptionTopic finds the topic of a subscription ARN
// (<topic ARN>:<id>).
func (s *server) subscriptionTopic(form url.Values) (*memory.Topic, string, error) {
	arn, err := required(form, "SubscriptionArn")
	if err != nil {
		return nil, "", err
	}
	i := strings.LastIndexByte(arn, ':')
	if i < 0 || !strings.HasPrefix(arn, "arn:") {
		return nil, "", invalid("Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not %d", strings.Count(arn, ":")+1)
	}
	t, err := s.world.TopicByARN(arn[:i])
	if err != nil {
		return nil, "", notFound("Subscription does not exist")
	}
	return t, arn, nil
}

func (s *server) unsubscribe(ctx context.Context, form url.Values) (*response, error) {
	t, arn, err := s.subscriptionTopic(form)
	if err != nil {
		return nil, err
	}
	return nil, t.UnsubscribeARN(arn)
}

func (s *server) getSubscriptionAttributes(ctx context.Context, form url.Values) (*response, error) {
	t, arn, err := s.subscriptionTopic(form)
	if err != nil {
		return nil, err
	}
	info, ok := t.SubscriptionInfo(arn)
	if !ok {
		return nil, notFound("Subscription does not exist")
	}
	return result().entries("Attributes", info.Attributes), nil
}

func (s *server) setSubscriptionAttributes(ctx context.Context, form url.Values) (*response, error) {
	t, arn, err := s.subscriptionTopic(form)
	if err != nil {
		return nil, err
	}
	name, err := required(form, "AttributeName")
	if err != nil {
		return nil, err
	}
	if _, ok := t.SubscriptionInfo(arn); !ok {
		return nil, notFound("Subscription does not exist")
	}
	return nil, s.setSubAttr(t, arn, name, form.Get("AttributeValue"))
}

func writeSubscriptions(subs []memory.SubscriptionInfo, token string) (*response, error) {
	from, to, next, err := pageOf(len(subs), token)
	if err != nil {
		return nil, err
	}
	r := result().open("Subscriptions")
	for _, sub := range subs[from:to] {
		arn := sub.ARN
		if sub.Pending {
			arn = "PendingConfirmation"
		}
		r.open("member").el("SubscriptionArn", arn).el("Owner", sub.Owner).el("Protocol", sub.Protocol).
			el("Endpoint", sub.Endpoint).el("TopicArn", sub.TopicARN).close("member")
	}
	r.close("Subscriptions")
	if next != "" {
		r.el("NextToken", next)
	}
	return r, nil
}

func (s *server) listSubscriptions(ctx context.Context, form url.Values) (*response, error) {
	var all []memory.SubscriptionInfo
	for _, t := range s.world.Topics("") {
		all = append(all, t.Subscriptions()...)
	}
	return writeSubscriptions(all, form.Get("NextToken"))
}

func (s *server) listSubscriptionsByTopic(ctx context.Context, form url.Values) (*response, error) {
	t, err := s.topic(form, "TopicArn")
	if err != nil {
		return nil, err
	}
	return writeSubscriptions(t.Subscriptions(), form.Get("NextToken"))
}

// Tags.

func (s *server) tagResource(ctx context.Context, form url.Values) (*response, error) {
	t, err := s.topic(form, "ResourceArn")
	if err != nil {
		return nil, &Error{Code: "ResourceNotFound", Message: "Resource does not exist", Status: 404}
	}
	tags, err := tagList(form, "Tags")
	if err != nil {
		return nil, err
	}
	return result(), t.Tag(tags)
}

func (s *server) untagResource(ctx context.Context, form url.Values) (*response, error) {
	t, err := s.topic(form, "ResourceArn")
	if err != nil {
		return nil, &Error{Code: "ResourceNotFound", Message: "Resource does not exist", Status: 404}
	}
	keys, err := memberList(form, "TagKeys")
	if err != nil {
		return nil, err
	}
	t.Untag(keys...)
	return result(), nil
}

func (s *server) listTagsForResource(ctx context.Context, form url.Values) (*response, error) {
	t, err := s.topic(form, "ResourceArn")
	if err != nil {
		return nil, &Error{Code: "ResourceNotFound", Message: "Resource does not exist", Status: 404}
	}
	tags := t.Tags()
	r := result().open("Tags")
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		r.open("member").el("Key", k).el("Value", tags[k]).close("member")
	}
	return r.close("Tags"), nil
}
