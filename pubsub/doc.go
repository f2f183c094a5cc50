// Package pubsub defines the publish/subscribe abstraction: a [Topic] that
// publishes a [Message] to every subscription, and a [Subscription] that is
// received from exactly like a queue.
//
// A subscription is a [queue.Receiver]: SNS delivers into SQS queues, an
// AMQP exchange into bound queues, a STOMP durable subscriber and an MQTT
// persistent session keep messages for one subscriber. So the consumer of
// package consumer runs on subscriptions as it runs on queues.
//
// # Filtering
//
// [SubscribeOptions.FilterPolicy] is an Amazon SNS subscription filter
// policy, applied to the message attributes or, with [ScopeMessageBody], to
// a JSON body. The memory driver evaluates it with package
// eventbus/pattern; drivers whose transport cannot filter return
// ErrUnsupported when one is given, rather than deliver everything.
//
// # Delivery
//
// By default a subscription of an SNS-like topic receives the SNS JSON
// envelope ("Type", "MessageId", "TopicArn", "Message", …), exactly as SNS
// writes it into an SQS queue; [SubscribeOptions.RawDelivery] delivers the
// published body and turns the message attributes into queue attributes.
// Broker drivers always deliver raw.
//
// # Errors
//
// This package shares the error sentinels of package queue (ErrInvalid,
// ErrTooLarge, ErrClosed, …) and its *BatchError for PublishBatch-style
// partial failures, so one errors.Is check serves both.
package pubsub
