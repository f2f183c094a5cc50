// Package snshttp receives Amazon SNS's HTTP/S deliveries: a [Receiver] is
// the http.Handler of an endpoint an application subscribes to an SNS
// topic with protocol http or https. It checks every message as AWS
// recommends, confirms the subscription, and hands each notification to a
// consumer.Handler, the same handler a queue consumer runs:
//
//	recv, err := snshttp.New(handleOrder, snshttp.Options{
//		TopicARNs: []string{"arn:aws:sns:eu-west-1:123456789012:orders"},
//	})
//	http.Handle("/sns/orders", recv)
//
// # What is checked
//
// A message is rejected with a 4xx status, before the handler sees it,
// when:
//
//   - it is not an SNS JSON document (Notification,
//     SubscriptionConfirmation, UnsubscribeConfirmation), or its
//     x-amz-sns-message-type header disagrees with its Type;
//   - its signature (SignatureVersion 1, SHA1withRSA, or 2, SHA256withRSA)
//     does not verify with the certificate at its SigningCertURL, which
//     must be an https URL on an SNS host (sns.<region>.amazonaws.com; see
//     Options.AllowedHosts for the local endpoint of package localaws,
//     whose loopback address may also be reached over plain http);
//   - its topic is not one of Options.TopicARNs (when set);
//   - its Timestamp is older than Options.MaxAge or more than five minutes
//     ahead;
//   - it is a notification whose MessageId was already handled within
//     MaxAge (a replay): 409 Conflict, without calling the handler.
//
// SNS treats every 4xx answer as final and does not retry it. Raw
// deliveries (RawMessageDelivery, header x-amz-sns-rawdelivery) carry no
// signature and are rejected unless Options.AllowRaw is set.
//
// # Subscription confirmation
//
// A verified SubscriptionConfirmation is confirmed by a GET of its
// SubscribeURL, which must be on an allowed host like the certificate, or
// handed to Options.OnConfirm instead. UnsubscribeConfirmation messages go
// to Options.OnUnsubscribe when set and are acknowledged.
//
// # Message delivery semantics
//
// Each notification reaches the handler as a *queue.Delivery: its ID is
// SNS's MessageId, its Body the message, its Attributes the message
// attributes typed (String, Number, Binary decoded from base64,
// String.Array), with the Subject as the String attribute "Subject"
// (pubsub.SubjectAttribute) unless the message has one of that name. A
// nil error answers 200 and the message id is remembered; an error or a
// panic answers 500, and SNS retries the message as the subscription's
// delivery policy says (by default three times, 20 seconds apart), then
// sends it to the subscription's dead-letter queue. Delivery is at least
// once: the replay check drops a message handled within MaxAge, and a
// handler should be idempotent beyond that.
//
// # As
//
// A delivery's As reaches the message as SNS sent it, an *Envelope (made
// from the headers for a raw delivery).
//
// # Limits
//
// Bodies above Options.MaxBodySize (by default 2 MiB, SNS sending at most
// 1 MiB messages) get 413. Message ids are remembered in memory, per
// Receiver: several instances behind a load balancer each see a replay
// once.
package snshttp
