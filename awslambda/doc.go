// Package awslambda runs postroom handlers in AWS Lambda, on
// github.com/aws/aws-lambda-go: the consumer.Handler a team unit-tests on
// the memory driver and runs on an EC2 worker becomes, unchanged, the
// handler of a function that an SQS event source mapping, an SNS
// subscription or an EventBridge rule invokes.
//
//	h := consumer.Chain(handleOrder, logging, tracing)
//	lambda.Start(awslambda.SQSHandler(h, awslambda.SQSOptions{}))
//
// [SQSHandler] and [SQSBatchHandler] take a consumer.Handler or
// consumer.BatchHandler and return an [SQSFunction]; [SNSHandler] takes a
// consumer.Handler; [EventBridgeHandler] takes an [EventHandler] of
// *eventbus.Event. Each message reaches the handler in the shape a driver
// gives: [SQSDelivery] makes a record into the *queue.Delivery the SQS
// driver would return for the same message, [SNSDelivery] an SNS record
// into the delivery of a raw-delivery subscription, and [Event] and
// [ParseEvent] an EventBridge event into an *eventbus.Event.
//
// [Mapping] is a local SQS event source mapping: it runs an SQSFunction
// over any queue.Receiver with Lambda's rules (batch size, batching
// window, ReportBatchItemFailures, concurrency, function timeout), so that
// the function is tested on the memory driver, with the queue's visibility
// timeout and redrive policy, before it is deployed.
//
// # URLs
//
// The package opens nothing: the queue, topic or rule that invokes the
// function is configured in Lambda, and a Mapping takes a receiver the
// caller opened.
//
// # Message delivery semantics
//
// Delivery is at least once, as Lambda's event sources deliver. For SQS, a
// handler's nil acks its message and an error (or a panic) nacks it:
// [SQSHandler] reports the failed messages in the response's
// BatchItemFailures, by message id, and Lambda deletes the others. A failed
// message is received again once its visibility timeout passes (there is
// no nack delay in Lambda: the queue's visibility timeout is the backoff),
// and the queue's redrive policy moves it to the dead-letter queue after
// maxReceiveCount receives. consumer.Permanent has no effect of its own
// here: a permanent failure is a failure, left to the redrive policy.
//
// On a FIFO queue (an event source ARN ending in ".fifo") the handler
// stops at the first failure and reports that message and every later one
// of the batch as failed, so that the messages of a group are handled in
// order, each after the previous one succeeded.
//
// The event source mapping must have ReportBatchItemFailures in its
// FunctionResponseTypes for a partial response to count; without it, use
// SQSOptions.NoBatchItemFailures: the first failure fails the invocation,
// and the whole batch, successes included, comes back after the
// visibility timeout.
//
// SNS and EventBridge invoke functions asynchronously: [SNSHandler] and
// [EventBridgeHandler] return the handler's error, and Lambda retries the
// event (twice by default), then sends it to the function's on-failure
// destination or dead-letter queue.
//
// Middleware made for the consumer (consumer.Chain, consumer.Timeout,
// tracing, deduplication) wraps the handler as it does on a worker. A
// panic in a handler fails its message (a *consumer.PanicError), never the
// rest of the batch.
//
// # As
//
// A delivery's As reaches the record Lambda sent: events.SQSMessage for
// SQS (with system attributes the delivery has no field for, such as
// AWSTraceHeader and SenderId), events.SNSEventRecord for SNS (with the
// topic ARN, signature and subscription ARN).
//
// # Limits
//
//   - A Mapping follows Lambda's limits: BatchSize 1 to 10 on a FIFO queue,
//     1 to 10,000 on a standard queue (above 10 with a batching window);
//     MaximumBatchingWindow up to 5 minutes; up to 1,000 concurrent
//     invocations; a function timeout from 1 s to 15 minutes, not above
//     the queue's visibility timeout. It does not cap an event at Lambda's
//     6 MB payload.
//   - A Mapping does not scale its pollers as Lambda does: it runs
//     MaximumConcurrency pollers from the start, each invoking the
//     function with one batch at a time.
//   - A function that times out in a Mapping cannot be stopped: its
//     context ends and the mapping waits for it to return, then counts the
//     invocation as failed.
//   - An SQS event has no field for a message's receipt time: a
//     delivery's ReceivedAt is the time of the invocation. An SNS record
//     does not say how often Lambda retried it: ReceiveCount is 1.
package awslambda
