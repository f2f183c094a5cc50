// Package awssns is the Amazon SNS driver of postroom, built on
// aws-sdk-go-v2: a [Topic] implements pubsub.Topic, and its subscriptions
// are SQS queues subscribed to it, received from with package awssqs.
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	tp, err := awssns.NewFromConfig(ctx, cfg, "arn:aws:sns:eu-west-1:123456789012:orders", awssns.Options{})
//	sub, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{Name: "billing", RawDelivery: true,
//		FilterPolicy: `{"kind":["order"]}`})
//	err = tp.Publish(ctx, &pubsub.Message{Body: body, Subject: "new order",
//		Attributes: queue.Attributes{"kind": queue.String("order"), "tags": queue.StringArray("eu", "b2b")}})
//
// Subscribe creates the SQS queue (named after the subscription's Name, or
// a random name for a subscription that lives as long as it is open, with
// ".fifo" on a FIFO topic), merges into the queue's access policy a
// statement that lets the topic send to it (the queue's other statements
// are kept; subscribing again replaces only that statement), and
// subscribes the queue with the filter policy, its scope and raw delivery.
// The filter policy is checked offline first with package
// eventbus/pattern, so an invalid one fails with postroom.ErrInvalid and SNS's
// own message before any call.
//
// Without raw delivery a subscription receives SNS's JSON envelope, as
// SNS delivers it. [Unwrap] turns such a delivery into the published
// message (body, typed attributes, with the Subject in the returned
// [Envelope]) only when the body really is an envelope: a JSON object with
// Type, MessageId, an SNS TopicArn, an RFC 3339 Timestamp and a Message
// string, optionally from an expected topic; any other body, raw JSON
// included, is left as it is. A [Verifier] checks envelope signatures
// (SignatureVersion 1 and 2), fetching the signing certificate only over
// HTTPS from sns.<region>.amazonaws.com by default, and caching it.
//
// # URLs
//
// The driver registers the scheme "awssns" with pubsub.Open:
//
//	awssns://orders?region=eu-west-1
//	awssns:///arn:aws:sns:eu-west-1:123456789012:orders
//
// by name (found with ListTopics) or by ARN, with the query parameters
// region, profile and endpoint (the SDK's BaseEndpoint) and no others.
//
// # Message delivery semantics
//
// Publish returns once SNS has accepted the messages; SNS delivers to
// each SQS subscription at least once, and the subscription's receive,
// ack and nack are those of an SQS queue (see package awssqs). A
// subscription sees only what is published after Subscribe returns. On a
// FIFO topic a GroupID is required and each group arrives in order.
//
// Publish takes at most 10 messages (more fail with
// postroom.ErrTooManyEntries), sent with PublishBatch and split by SNS's
// 256 KiB limit on a batch. A Publish of one message made while other
// Publishes are under way waits up to Options.BatchWait (5 ms) to share a
// PublishBatch call with them; one made alone is published at once.
// Entries that fail with a retryable code are published again, alone; the
// rest are reported in an index-aligned *postroom.BatchError.
//
// # As
//
// A subscription's deliveries are SQS deliveries: As reaches the SDK's
// sqs types.Message. The envelope is parsed with [ParseEnvelope].
//
// # Limits
//
//   - 10 messages a Publish; 256 KiB a message (body and attributes) and a
//     batch; a Subject under 100 characters without line breaks.
//   - Attributes: String, Number, Binary and String.Array, with custom
//     type labels; names as SQS and SNS allow them.
//   - Filter policies: SNS's language and limits (5 keys, 150
//     combinations), on attributes or on the body.
//
// # Credentials
//
// As in package awssqs: aws-sdk-go-v2's own chain (environment, shared
// files, SSO, web identity, the EC2 instance role through IMDSv2), and
// BaseEndpoint, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SNS and
// AWS_ENDPOINT_URL_SQS.
//
// # Differences from the memory driver
//
// Both follow SNS and pass the same conformance suite. What differs:
//
//	                       memory                         awssns (SNS)
//	delivery to queues     during Publish: the message    asynchronous: shortly after
//	                       is there when Publish returns  Publish returns
//	envelope signature     SNS's form, verified by no     SNS's, verified by Verifier
//	                       AWS certificate
//	subscriptions          queues and functions           SQS queues (created by
//	                       (SubscribeFunc)                Subscribe, policy merged)
//	single Publish         one call each                  coalesced into PublishBatch
//	                                                      calls under load
//	Delivery.As            false                          sqs types.Message
//	testing/synctest       runs in a bubble               no (network calls)
//
// # Tested against
//
// The package's tests run pubsubtest through the SDK against the local AWS
// endpoint of package localaws, in-process, with every capability
// declared, and against moto_server (moto 5.2), an independent
// implementation. moto drops a message with a Binary attribute on its way to a raw SQS
// subscription, so that run does not declare Attributes; moto's envelopes
// carry no verifiable signature, so signature verification is tested
// with a certificate of the test's own.
package awssns
