// Package awssqs is the Amazon SQS driver of postroom, built on
// aws-sdk-go-v2: a [Queue] implements queue.Queue and every optional
// capability SQS has (queue.Extender, queue.Purger, queue.Stater,
// queue.Describer).
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	q, err := awssqs.NewFromConfig(ctx, cfg, "orders", awssqs.Options{})
//	err = q.Send(ctx, &queue.Message{Body: body})
//	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: 20 * time.Second})
//	err = q.Ack(ctx, ds...)
//
// [New] takes an *sqs.Client, [NewFromConfig] an aws.Config; both take the
// queue's name or its URL, and read the queue's attributes once (FIFO,
// visibility timeout, receive wait time, maximum message size).
//
// # URLs
//
// The driver registers the schemes "awssqs" and "https" with queue.Open:
//
//	awssqs://orders?region=eu-west-1
//	https://sqs.eu-west-1.amazonaws.com/123456789012/orders
//
// The first names the queue (GetQueueUrl finds it in the configuration's
// account); the second is the queue's own URL, whose host gives the region.
// Both take the query parameters
//
//	region=eu-west-1                 the region (otherwise the SDK's chain)
//	profile=prod                     a shared config profile
//	endpoint=http://127.0.0.1:4566   the SDK's BaseEndpoint
//
// and no others: an unknown parameter is an error matching
// postroom.ErrInvalid. An https URL whose host is not an SQS endpoint
// (sqs.<region>.amazonaws.com, .amazonaws.com.cn, or the legacy
// <region>.queue.amazonaws.com) is refused the same way.
//
// # Message delivery semantics
//
// Delivery is at least once, as SQS delivers: a message not acked within
// its visibility timeout is delivered again, and a standard queue may
// deliver a message twice. Ack deletes (DeleteMessageBatch); Nack makes
// messages visible again after the delay (ChangeMessageVisibilityBatch,
// rounded up to whole seconds); Extend sets a new visibility timeout.
//
// Receive long-polls for opts.WaitTime, or the queue's
// ReceiveMessageWaitTimeSeconds when it is zero, and never longer than
// what is left of ctx's deadline (so that SQS does not hand messages to a
// request that is about to be abandoned). It asks for every message
// attribute and every system attribute: a delivery carries its receive
// count, sent and first-receive times, message group id, deduplication id,
// sequence number and dead-letter source. On a FIFO queue each Receive sends a
// ReceiveRequestAttemptId that the SDK's retries of the call reuse.
//
// Batching: Send takes at most 10 messages (more fail with
// postroom.ErrTooManyEntries) and splits them into as many SendMessageBatch
// calls as the 1 MiB limit on a batch requires. A Send of one message, and
// an Ack, Nack or Extend of one delivery, made while other such calls are
// under way on the queue, waits up to Options.BatchWait (5 ms by default)
// for concurrent calls of the same kind from other goroutines and shares
// one batch call with them: workers that settle one message at a time
// cost about a tenth of a call per message at load. A call made alone is
// made at once, so a single worker pays no wait. A caller whose ctx ends
// while it waits gets ctx's error, and its entry may still be part of the
// batch call.
//
// Tracing: a String attribute named [TraceHeaderAttribute]
// ("AWSTraceHeader") travels as SQS's AWSTraceHeader system attribute, the
// AWS X-Ray trace header, rather than as a message attribute; a received
// message's AWSTraceHeader comes back under that name in
// Delivery.Attributes ([TraceHeader] reads it).
//
// Partial failures: an entry that fails with a retryable code
// (throttling, an internal error of the service) is sent again, alone with
// the other failed entries, after a backoff (Options.EntryRetries times,
// 3 by default). No entry is sent twice because another failed. The others
// are reported in a *postroom.BatchError, index-aligned with the input.
//
// # Errors
//
// One table maps SQS's error codes, in the JSON protocol's spelling and
// the Query protocol's ("QueueDoesNotExist" and
// "AWS.SimpleQueueService.NonExistentQueue"), to the shared sentinels; the
// error keeps the service's code and message, and unwraps to the SDK's
// error. "InvalidParameterValue" about an expired receipt matches
// postroom.ErrReceiptExpired. When the SDK gives up because its client-side
// retry quota is empty, the error matches [ErrRetryQuotaExceeded] and has
// no service code.
//
// # As
//
// A delivery's As reaches the SDK's message: types.Message (from
// github.com/aws/aws-sdk-go-v2/service/sqs/types).
//
// # Limits
//
//   - 10 messages a Send or Receive, 10 deliveries a batch call; 1 MiB a
//     SendMessageBatch call.
//   - A message (body and attributes) up to the queue's MaximumMessageSize
//     (1 MiB at most); at most 10 message attributes, checked before the
//     call with the same error as the memory driver.
//   - Delays and nack delays up to 15 minutes, whole seconds; visibility
//     timeouts up to 12 hours from the receive.
//   - Stats reports SQS's approximate counts. SQS has no queue attribute
//     for the age of the oldest message: that is the CloudWatch metric
//     ApproximateAgeOfOldestMessage, published once a minute, so
//     Stats.OldestAge stays zero.
//
// # Credentials
//
// Configuration comes from aws-sdk-go-v2's own chain
// (config.LoadDefaultConfig): environment variables, the shared config and
// credentials files, SSO, web identity, and on EC2 the instance role
// through IMDSv2. The SDK's endpoint settings apply: aws.Config's
// BaseEndpoint, AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_SQS.
//
// # Differences from the memory driver
//
// Both follow SQS and pass the same conformance suite; code written
// against one runs on the other. What differs:
//
//	                        memory                        awssqs (SQS)
//	standard queue order    send order, once per receive  best effort; rarely twice
//	Receive                 every visible message up to   may return fewer than are
//	                        the maximum                   visible
//	delays, nack delays,    any duration                  whole seconds, rounded up
//	visibility, waits
//	Stats                   exact; OldestAge set          approximate; OldestAge zero
//	AWSTraceHeader attr.    an ordinary attribute (counts the X-Ray system attribute
//	                        towards the 10 and the size)  (counts towards neither)
//	single Send/Ack/Nack/   one call each                 coalesced into batch calls
//	Extend                                                under load (see Batching)
//	Delivery.As             false                         types.Message
//	testing/synctest        runs in a bubble              no (network calls)
//
// # Tested against
//
// The package's tests run queuetest through the SDK twice: against the
// local AWS endpoint of package localaws, in-process, with every
// capability declared; and against moto_server (moto 5.2), an independent
// implementation of SQS, which the test binary starts on a free port, so
// that a mistake shared by the driver and the local endpoint still shows.
// moto differs from SQS in ways the suite would notice, so the moto run
// declares them missing:
//
//   - a FIFO deduplication id is forgotten once its message is deleted
//     (SQS keeps it for the 5-minute window): Deduplication;
//   - a FIFO message is deleted with a receipt whose visibility timeout
//     passed (SQS refuses it as expired): StaleReceiptDeletes;
//   - a SendMessageBatch entry's AWSTraceHeader is dropped (moto keeps it
//     only from SendMessage), so the trace header is tested on the local
//     endpoint and against a fake of the SDK's interface.
package awssqs
