// Package memory provides in-process drivers that behave like the AWS
// services they stand in for, so that a unit test on memory means the same
// thing in production:
//
//   - [Queue]: Amazon SQS, standard and FIFO;
//   - [Topic]: Amazon SNS, standard and FIFO, fanning out into queues
//     ([Topic.SubscribeQueue]), functions ([Topic.SubscribeFunc]) and
//     HTTP/S endpoints ([Topic.SubscribeEndpoint]) with filter policies,
//     the SNS JSON envelope or raw delivery;
//   - [Bus]: an Amazon EventBridge bus with rules, event patterns, targets,
//     input transformers, archives and replay;
//   - [Broker]: a broker that vends queues and topics, for code written
//     against package broker.
//
// The memory drivers use only the standard library's time and channels and
// start no goroutines of their own, so tests can run them inside a
// testing/synctest bubble where a 12-hour visibility timeout passes in an
// instant.
//
// # Worlds
//
// A [World] holds queues, topics and buses by name and by ARN, the way one
// AWS account in one region does; its ARNs and queue URLs name its account
// and region. Within a world a redrive policy, an SNS subscription
// ([Topic.SubscribeQueueARN]) and an EventBridge target can name a queue or
// topic by ARN. Worlds share nothing, so a test that makes its own with
// [NewWorld] does not see another's "orders":
//
//	w := memory.NewWorld(memory.WorldOptions{})
//	defer w.Close()
//	q, err := w.NewQueue("orders", memory.QueueOptions{})
//
// The package-level [NewQueue], [NewTopic] and [NewBus] make each resource
// in a new world of its own; mem:// URLs open resources of [Default].
//
// # URLs
//
// The package registers the "mem" scheme with queue.Open, pubsub.Open,
// eventbus.Open and broker.Open. Queue URLs:
//
//	mem://orders?visibility=45s&delay=5s
//	mem://orders.fifo?content_based_deduplication=true
//	mem://orders?dlq=orders-dlq&max_receive_count=3
//
// URLs opened through queue.Open, pubsub.Open and eventbus.Open name
// resources of the default world ([Default]), so every Open of a name in a
// process returns the same queue; [World.OpenQueue], [World.OpenTopic] and
// [World.OpenBus] open URLs in another world. Queue URLs take visibility,
// delay, retention, wait (durations), max_message_size, fifo,
// content_based_deduplication, deduplication_scope ("queue" or
// "messageGroup"), dlq (the name or ARN of a queue of the same world) and
// max_receive_count.
//
// Topic URLs take fifo, content_based_deduplication, deduplication_scope
// and max_message_size; bus URLs take max_entry_size; "mem://" opens a new
// Broker.
//
// # Message delivery semantics
//
// As on SQS: a received message stays invisible for the visibility timeout
// (30 s by default, up to 12 hours counted from the receive); Ack deletes it;
// Nack and Extend change its visibility timeout counted from the call; an
// unacked message is delivered again with a higher receive count and a new
// receipt. A queue with a redrive policy moves a message to its dead-letter
// queue on the receive that would exceed MaxReceiveCount, keeping its id,
// body, attributes, sent time and receive count, and setting
// Delivery.DeadLetterSource to the source queue's ARN. A standard
// dead-letter queue keeps the message's enqueue time, so its retention
// period counts from the original send; a FIFO one resets it to the move,
// as SQS does (Stats.OldestAge follows the enqueue time).
//
// Each Delivery owns its Body and Attributes: changing them changes
// nothing stored, and two queues subscribed to one topic receive copies of
// their own.
//
// Standard queues deliver in send order (SQS only approximates it) and
// exactly once per receive (SQS may rarely deliver twice); a receive returns
// every visible message up to the maximum (an SQS short poll may return
// fewer). FIFO queues keep SQS's rules exactly: strict order within a
// message group, a group locked while one of its messages is in flight,
// deduplication over 5 minutes that survives deletion, content-based
// deduplication by SHA-256 of the body, deduplication scope queue or
// message group.
//
// Stale receipts behave as on SQS: a standard queue deletes a message with
// any receipt it issued for it, and ignores a visibility change through an
// expired one; a FIFO queue refuses an expired receipt with an error
// matching postroom.ErrReceiptExpired.
//
// A topic delivers to its subscriptions during Publish, so a message is in
// the subscribed queues when Publish returns; function subscriptions and
// function targets of a bus are called in goroutines owned by the topic or
// bus, retried on error (two retries after 1 and 2 minutes for a topic, as
// Lambda's asynchronous invocations; a bus follows its target's retry
// policy), then dead-lettered. Close waits for them.
//
// # HTTP/S, e-mail and SMS subscriptions
//
// An http or https subscription ([Topic.SubscribeEndpoint]) is posted
// SNS's SubscriptionConfirmation (with its Token and SubscribeURL) and stays
// pending until [Topic.ConfirmSubscription] or a GET of the SubscribeURL
// (served by [World.SNSHandler]); then each admitted message is posted as a
// Notification with SNS's headers (x-amz-sns-message-type, -message-id,
// -topic-arn, -subscription-arn; Content-Type text/plain; charset=UTF-8),
// signed with SignatureVersion 1 (SHA1withRSA) or 2 (SHA256withRSA, the
// topic's SignatureVersion attribute) by a key of the world's, whose
// self-signed certificate is at the messages' SigningCertURL
// ([World.SigningCertificate]). RawMessageDelivery posts the message
// alone. Posts run in goroutines of the topic's, at most 8 at a time per
// subscription, off the publish path. An answer from 200 to 499 ends a
// delivery; a 5xx, a failed connection or 15 seconds without an answer is
// retried as the delivery policy says (SNS's default: three retries 20
// seconds apart; a subscription's or topic's DeliveryPolicy with its four
// phases, without SNS's jitter), then the message goes to the queue of the
// subscription's RedrivePolicy. Unsubscribing posts an
// UnsubscribeConfirmation. WorldOptions set the HTTP client, the base of
// the URLs in messages and the signing key. E-mail, email-json and SMS
// subscriptions send nothing: what they would send is in [World.Outbox].
//
// # Limits
//
// SQS's: 1 to 10 messages per call; 1 MiB per message and per batch
// (configurable down to 1 KiB); at most 10 attributes, with SQS's name rules
// and types String, Number and Binary; delays up to 15 minutes; long polls
// up to 20 s; retention from 1 minute to 14 days (4 days by default).
// Every violation returns a *postroom.Error with SQS's error code and message,
// matching a sentinel of package postroom.
//
// Topics take SNS's: 256 KiB per message by default (configurable up to 1
// MiB), 1 to 10 messages per Publish, subjects under 100 characters, FIFO
// deduplication over 5 minutes; raw delivery to a queue carries at most 10
// attributes. A bus takes EventBridge's: 1 to 10 entries per Put, 1 MB per
// entry (configurable down to 256 KB), 5 targets per rule.
//
// # SQS extras and snapshots
//
// [Queue.SendSQS] and [Queue.ReceiveSQS] carry what SQS has beside
// queue.Message, for the local AWS endpoint: the AWSTraceHeader system
// attribute, FIFO sequence numbers in send replies, and the
// ReceiveRequestAttemptId with which a FIFO receive can be retried.
// [World.Snapshot] and [World.Restore] save a world's queues, topics and
// buses to a stream and load them into an empty world.
//
// # As
//
// Delivery.As reports false: a memory delivery carries everything it knows
// in its fields (DeadLetterSource included).
package memory
