package awssns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/awssqs"
	"github.com/postroom/postroom/eventbus/pattern"
	"github.com/postroom/postroom/pubsub"
)

// A Subscription is an SQS queue subscribed to a topic. Receive, Ack and
// Nack are those of the queue (an [awssqs.Queue]).
type Subscription struct {
	*awssqs.Queue
	topic    *Topic
	arn      string // the SNS subscription's ARN
	queueURL string
	durable  bool
	ended    atomic.Bool
}

var (
	_ pubsub.Subscription = (*Subscription)(nil)
	_ pubsub.Unsubscriber = (*Subscription)(nil)
	_ pubsub.FilterSetter = (*Subscription)(nil)
)

// Subscribe makes an SQS queue, lets the topic send to it (merging a
// statement into the queue's access policy rather than overwriting it) and
// subscribes it with the filter policy, its scope and raw delivery.
//
// With a Name the queue is called so (plus ".fifo" on a FIFO topic) and
// outlives the Subscription: subscribing with the name again attaches to
// it, and Unsubscribe deletes it. Without a Name the queue gets a random
// name and Close deletes it and the subscription.
//
// A filter policy is checked with the local pattern engine before any
// call, so an invalid one fails with ErrInvalid and SNS's message.
func (t *Topic) Subscribe(ctx context.Context, o pubsub.SubscribeOptions) (pubsub.Subscription, error) {
	if t.closed.Load() {
		return nil, errClosed("subscribe")
	}
	const op = "subscribe"
	if o.FilterPolicy != "" {
		scope := pattern.ScopeMessageAttributes
		if o.FilterPolicyScope == pubsub.ScopeMessageBody {
			scope = pattern.ScopeMessageBody
		}
		if _, err := pattern.CompileFilterPolicy([]byte(o.FilterPolicy), scope); err != nil {
			msg := err.Error()
			var pe *pattern.Error
			if errors.As(err, &pe) {
				msg = pe.SubscribeMessage()
			}
			return nil, &postroom.Error{Pkg: pkgName, Op: op, Code: "InvalidParameter", Message: msg, Kind: postroom.ErrInvalid, Err: err}
		}
	}
	durable := o.Name != ""
	name := o.Name
	if !durable {
		name = topicName(t.arn)
		name = strings.TrimSuffix(name, ".fifo")
		name = name[:min(len(name), 50)] + "-sub-" + randomHex(8)
	}
	qattrs := map[string]string{}
	if t.fifo {
		if !strings.HasSuffix(name, ".fifo") {
			name += ".fifo"
		}
		qattrs["FifoQueue"] = "true"
	}
	cq, err := t.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: qattrs})
	if err != nil {
		return nil, wrapErr(op, err)
	}
	url := aws.ToString(cq.QueueUrl)
	cleanup := func() {
		if !durable {
			_, _ = t.sqs.DeleteQueue(context.WithoutCancel(ctx), &sqs.DeleteQueueInput{QueueUrl: &url})
		}
	}
	qa, err := t.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn, sqstypes.QueueAttributeNamePolicy}})
	if err != nil {
		cleanup()
		return nil, wrapErr(op, err)
	}
	queueARN := qa.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	policy, err := mergePolicy(qa.Attributes[string(sqstypes.QueueAttributeNamePolicy)], queueARN, t.arn)
	if err != nil {
		cleanup()
		return nil, &postroom.Error{Pkg: pkgName, Op: op, Message: err.Error(), Kind: postroom.ErrInvalid, Err: err}
	}
	if _, err := t.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url,
		Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): policy}}); err != nil {
		cleanup()
		return nil, wrapErr(op, err)
	}
	sattrs := map[string]string{}
	if o.RawDelivery {
		sattrs["RawMessageDelivery"] = "true"
	}
	if o.FilterPolicy != "" {
		sattrs["FilterPolicy"] = o.FilterPolicy
		sattrs["FilterPolicyScope"] = o.FilterPolicyScope.String()
	}
	so, err := t.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &t.arn, Protocol: aws.String("sqs"),
		Endpoint: &queueARN, Attributes: sattrs, ReturnSubscriptionArn: true})
	if err != nil {
		cleanup()
		return nil, wrapErr(op, err)
	}
	q, err := awssqs.New(ctx, t.rq, url, awssqs.Options{})
	if err != nil {
		_, _ = t.sns.Unsubscribe(context.WithoutCancel(ctx), &sns.UnsubscribeInput{SubscriptionArn: so.SubscriptionArn})
		cleanup()
		return nil, err
	}
	return &Subscription{Queue: q, topic: t, arn: aws.ToString(so.SubscriptionArn), queueURL: url, durable: durable}, nil
}

// ARN returns the SNS subscription's ARN.
func (s *Subscription) ARN() string { return s.arn }

// SetFilterPolicy replaces the subscription's filter policy and scope.
func (s *Subscription) SetFilterPolicy(ctx context.Context, policy string, scope pubsub.Scope) error {
	const op = "set filter policy"
	for _, a := range []struct{ name, value string }{{"FilterPolicy", policy}, {"FilterPolicyScope", scope.String()}} {
		if _, err := s.topic.sns.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{
			SubscriptionArn: &s.arn, AttributeName: aws.String(a.name), AttributeValue: aws.String(a.value)}); err != nil {
			return wrapErr(op, err)
		}
	}
	return nil
}

// Unsubscribe deletes the SNS subscription and its queue.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	if s.ended.Swap(true) {
		return nil
	}
	_ = s.Queue.Close()
	return s.remove(ctx)
}

// Close detaches from the subscription. A subscription without a name is
// unsubscribed and its queue deleted; a named one keeps collecting
// messages.
func (s *Subscription) Close() error {
	if s.ended.Swap(true) {
		return nil
	}
	_ = s.Queue.Close()
	if s.durable {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.remove(ctx)
}

func (s *Subscription) remove(ctx context.Context) error {
	if _, err := s.topic.sns.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: &s.arn}); err != nil {
		return wrapErr("unsubscribe", err)
	}
	if _, err := s.topic.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &s.queueURL}); err != nil {
		return wrapErr("unsubscribe", err)
	}
	return nil
}

func topicName(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
