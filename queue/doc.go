// Package queue defines the message-queue abstraction postroom is built on: a
// [Sender] that sends [Message] values, a [Receiver] that long-polls for
// [Delivery] values and acknowledges them, and a [Queue] that is both.
//
// A queue is the primitive of the library. A pub/sub subscription is received
// from exactly like a queue (SNS fans out into SQS queues, an AMQP exchange
// into bound queues, an MQTT persistent session is a per-client queue), so the
// consumer of package consumer runs on both.
//
// This package holds contracts only and imports nothing outside the
// standard library and this module; the consumer (package consumer),
// OpenTelemetry tracing (package tracing) and retry delays (package backoff)
// live beside it.
//
// # Drivers
//
// A driver package implements the interfaces and registers a URL scheme with
// [Register], so that programs can choose the driver at run time with [Open]:
//
//	q, err := queue.Open(ctx, "mem://orders?visibility=30s")
//
// The memory driver (package memory) behaves like Amazon SQS, standard and FIFO.
// Other drivers live in their own packages and must be imported for their
// scheme to be known.
//
// # Optional capabilities
//
// Queue is kept small. What only some transports can do is expressed as
// optional interfaces that helpers discover with a type assertion, as
// database/sql/driver does: [Extender] (keep a message in flight longer,
// the visibility heartbeat), [Purger], [Stater] (approximate counts) and
// [Describer] (static facts such as FIFO ordering and the batch limit).
//
// # Errors
//
// Errors are matched with [errors.Is] against the sentinels of this package
// ([postroom.ErrInvalid], [postroom.ErrTooLarge], [postroom.ErrReceiptExpired], [postroom.ErrClosed], …). A driver
// wraps the transport's own error so that it stays reachable with
// [errors.As]; [*Error] carries the service's error code and message where the
// transport has one. A batch call in which some entries failed returns a
// [*postroom.BatchError] whose entries are index-aligned with the input.
//
// # Delivery semantics
//
// Delivery is at least once. A handler must be idempotent, or deduplicate on
// [Message.ID]. [Receiver.Ack] deletes a message; [Receiver.Nack] makes it
// visible again after a delay so it is redelivered with a higher
// [Delivery.ReceiveCount].
package queue
