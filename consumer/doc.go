// Package consumer runs a handler on the messages of a [queue.Receiver] — a
// queue or a pub/sub subscription — the way a long-polling SQS worker does:
// a concurrency limit that also limits receiving, retries with backoff,
// dead letters, batched deletes, a visibility heartbeat for long handlers,
// FIFO groups handled in order, and a graceful stop.
//
//	c, err := consumer.New(q, consumer.Chain(handle, consumer.Timeout(time.Minute)), consumer.Options{
//		Concurrency: 16,
//		Retry:       consumer.Retry{Backoff: backoff.Exponential{Initial: time.Second}},
//	})
//	...
//	err = c.Run(ctx) // until ctx is cancelled
//
// [Options] is read in groups: how much to hold and how to poll
// (Concurrency, BatchSize, WaitTime, VisibilityTimeout, Heartbeat, FIFO), the
// failure policy ([Retry]), how deletes are batched ([Acks]), the stop
// (ShutdownTimeout) and observation ([Hooks]). Behaviour around each message
// (a timeout, deduplication, tracing, logging) is [Middleware], applied with
// [Chain].
//
// # Which dead-letter mechanism
//
// A message that keeps failing must stop somewhere. Use one of two ways:
//
//   - The queue's redrive policy (SQS: RedrivePolicy with maxReceiveCount;
//     memory: QueueOptions.RedrivePolicy; RabbitMQ: a dead-letter exchange).
//     Prefer it when the queue has one. Leave Retry.MaxAttempts at 0: the
//     consumer retries with Retry.Backoff, and the queue moves the message
//     after maxReceiveCount receives, counting the receives of consumers
//     that crashed too.
//   - The consumer's Retry.MaxAttempts with a Retry.DeadLetter sender. Use it
//     when the transport has no redrive policy (most brokers), or when the
//     dead letters go somewhere the queue cannot send them.
//
// Do not set both to the same count: the lower one wins and the other only
// misleads. A handler error wrapped with [Permanent] skips the retries: it
// goes to Retry.DeadLetter at once when there is one (see [PermanentAction]).
//
// # Duplicates
//
// Delivery is at least once: the same message can reach a handler twice.
// SQS standard queues deliver a message twice now and then by design; every
// queue redelivers a message whose visibility timeout passed while its
// handler still ran, or whose delete failed or came too late; and a broker
// restarted after a crash (kill -9) redelivers the messages whose acks it
// had not yet written, often without marking them redelivered (their
// ReceiveCount stays 1). Make handlers idempotent, or put the middleware of
// package consumer/dedup in front of them to drop a message whose id was
// handled successfully a short while ago.
package consumer
