// Package amqp is the AMQP 0-9-1 driver of postroom, for Amazon MQ for
// RabbitMQ and any RabbitMQ broker, built on github.com/rabbitmq/amqp091-go.
//
// A [Broker] is one live connection (two AMQP connections, one to publish,
// one to consume, so that the broker's flow control of a publisher never
// delays its acks). It vends a [Queue] per durable RabbitMQ queue and a
// [Topic] per durable fanout exchange, whose [Subscription] values are
// queues bound to the exchange:
//
//	b, err := amqp.Dial(ctx, "amqps://user:pass@b-1234.mq.us-east-1.amazonaws.com:5671/", amqp.Options{})
//	q, err := b.OpenQueue(ctx, "orders", QueueOptions{})
//	err = q.Send(ctx, &queue.Message{Body: body})
//	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: 20 * time.Second})
//	err = q.Ack(ctx, ds...)
//
// Topic names are exchange names, subscription names are queue names. A
// subscription with a [pubsub.SubscribeOptions] Name is a durable queue of
// that name: it keeps collecting messages while detached, and subscribing
// with the name again attaches to it. A subscription without a name is an
// exclusive queue of the consuming connection, deleted by Close. (Not
// auto-delete as well: an auto-delete queue vanishes, with its messages,
// whenever its consumer's channel is recycled, for instance after an
// error.) Filter policies are refused with postroom.ErrUnsupported; delivery is
// always raw.
//
// # URLs
//
// The driver registers the schemes "amqp" and "amqps" with queue.Open,
// pubsub.Open and broker.Open. A URL is the AMQP URI that RabbitMQ and
// Amazon MQ document, whose path is the virtual host ("/" or empty for the
// default one, "/%2F" spelled out, "/prod" for "prod"), plus query
// parameters:
//
//	queue=orders             the queue queue.Open declares (required there)
//	topic=events             the exchange pubsub.Open declares (required there)
//	failover=h2:5671,h3:5671 more endpoints with the same credentials and
//	                         virtual host, tried in order (repeatable)
//	prefetch=20              Options.Prefetch
//	queue_type=quorum        Options.QueueType (classic or quorum)
//	wait_time=20s            Options.WaitTime
//	drop_unroutable=true     Options.DropUnroutable
//
// amqp091's own parameters (heartbeat, connection_timeout, channel_max,
// certfile, keyfile, cacertfile, server_name_indication, auth_mechanism)
// pass through. For example:
//
//	amqps://user:pass@b-1234-1.mq.eu-west-1.amazonaws.com:5671/?queue=orders&failover=b-1234-2.mq.eu-west-1.amazonaws.com:5671
//
// The path is the virtual host rather than the queue so that the URL stays
// a valid AMQP URI any client accepts. A queue or topic opened by URL owns
// its connection: closing the queue, or the topic and all its
// subscriptions, closes it.
//
// amqps uses Options.TLSConfig or, when it is nil, the system roots, which
// is what Amazon MQ's public certificates need (all Amazon MQ endpoints are
// TLS-only, port 5671).
//
// # Message delivery semantics
//
// Delivery is at least once. Send and Publish return only once the broker
// confirmed every message (publisher confirms, pipelined: the confirms of
// a batch, and of concurrent calls, are awaited together). Messages are
// persistent and published mandatory: a message no queue takes comes back
// as [ErrUnroutable] (which matches postroom.ErrNotFound) rather than vanish;
// a broker nack is [ErrNacked]; in a *postroom.BatchError when other
// messages of the call went through. A topic with no subscription refuses
// a publish the same way unless [Options.DropUnroutable] is set.
//
// Receive long-polls a consumer that starts with the first Receive of a
// queue or subscription, with a prefetch of Options.Prefetch unacked
// deliveries (basic.qos). A delivery stays with its consumer until it is
// acked, nacked, or its channel closes (then RabbitMQ requeues it); there
// is no visibility timeout, only RabbitMQ's consumer_timeout (30 minutes by
// default, also on Amazon MQ) after which the broker closes the channel.
//
// Ack is basic.ack of the delivery tag. Nack with no delay is basic.nack
// with requeue: the message goes back to the queue at once. Nack with a
// delay publishes a copy of the message to a retry queue and acks the
// original once the copy is confirmed: the retry queue
// "<queue>.retry.<bucket>" (for example "orders.retry.5s") has a message
// TTL of the bucket and dead-letters expired messages through the default
// exchange back into the queue. Delays round up to the next of
// Options.RetryBuckets (100 ms to 12 h by default; longer is
// postroom.ErrInvalid), so that a few queues serve any delay without one
// message's TTL holding up another's. Retry queues expire (x-expires) when
// unused for twice their bucket plus a minute, at least ten minutes, and
// are declared again on use; those of a subscription without a name are
// exclusive like it. Message.Delay on Send goes through the same queues.
//
// Delivery.ReceiveCount counts this receive, the receives before each
// delayed retry (a header the copy carries), and the broker's
// redeliveries: exactly on quorum queues (x-delivery-count), as one more
// when a classic queue flags a redelivery (classic queues do not count
// them). Message.ID travels as the AMQP message-id, Delivery.SentAt is the
// AMQP timestamp (whole seconds), GroupID is a header: RabbitMQ has no FIFO
// groups, and a queue is only ordered for a single consumer without
// requeues. DeduplicationID is refused with postroom.ErrUnsupported.
//
// Attributes travel as AMQP headers with their types: String as a string,
// Number as an int64 or float64 when that prints back as the same text and
// as a typed marker (a field table holding type and text) otherwise,
// Binary as a byte array, String.Array as an array of strings; labelled
// types ("Number.int") as typed markers. Headers from other clients map by
// their AMQP type. pubsub.Message.Subject travels as the String attribute
// "Subject". Header names starting with "x-postroom-" are reserved.
//
// # Broker crashes
//
// A message whose Send returned nil was confirmed by RabbitMQ, and
// RabbitMQ confirms a persistent message to a durable queue only once it
// is written to its store: it survives a crash of the broker process
// (kill -9) on every queue type, as long as the queue itself survives.
// Measured on RabbitMQ 3.10, one node, 16 producers sending 20,000
// persistent 256-byte messages as fast as confirms came, the broker killed
// with SIGKILL mid-stream and started again 2.5 s later, 10 runs per queue
// type: no confirmed message lost on long-lived classic queues (the v1
// default and v2, with and without a consumer running) or quorum queues,
// neither through this driver nor through plain amqp091-go, whose every
// basic.ack was checked on the wire.
//
// What RabbitMQ 3.10 can lose is a queue declared shortly before the
// crash: the broker answers queue.declare-ok and confirms messages to the
// new queue, but after the restart the queue is not among those it
// recovers ("Recovering 2 queues" where 3 existed), and every message
// confirmed to it is gone with it. Measured: with 4 producers at full
// speed and the kill 1–2 s after the declaration, 4 of 10 runs lost the
// queue and its backlog of about 1,000 confirmed messages; with 5 s
// between declaration and kill, 0 of 15 runs; without load, a queue
// declared 0.2 s before the kill was lost in 1 of 7 runs and older ones
// in none. The driver cannot see when a declaration is safe, so it
// reports the loss instead: on every reconnection it checks that each
// durable queue it declared still exists before declaring it again, and a
// queue that is gone is reported with ErrQueueLost in the Err of the
// broker.StateChange to Connected (Broker.NotifyState). An application
// that declares queues at start-up and sends at once should treat that
// report as data loss; declaring queues ahead of use (at deployment, as
// Amazon MQ users usually do) avoids the window. What a crash costs per
// queue type:
//
//   - Classic queues (stored on one node): nothing confirmed to a queue
//     that survives is lost to a process crash; a queue whose node loses
//     its disk is gone. Recovery after a crash rebuilds the message
//     store's index (seconds for a small backlog, longer for millions of
//     messages).
//   - Quorum queues (Raft log, fsynced before the confirm): nothing
//     confirmed is lost to a process crash, and in a three-node cluster
//     (Amazon MQ's cluster deployment) not to the loss of one node.
//     Publishing costs more disk writes; on one node a quorum queue
//     protects no more than a classic one. On RabbitMQ before 4.0 a node
//     restarts after a crash only the queues its Raft directory has saved
//     to disk (it saves every few minutes): a quorum queue declared
//     shortly before a crash of its only node does not come back (the
//     log says "leader not known"), its publishes get no confirm, and
//     Send fails when its context ends, until the queue is deleted and
//     declared again. Seen on 3.10 with a queue declared 2 s before the
//     kill; queues older than the last save recovered in every run.
//
// What a crash can do on any queue type is deliver a message twice: a
// publish whose confirm died with the connection is published again (a
// second message with the same Message.ID), and a delivery whose ack had
// not been stored comes again. RabbitMQ flags the second kind as
// redelivered (ReceiveCount counts it), not the first; a handler that
// must not act twice drops duplicates by message id. Transient messages
// and non-durable queues, which this driver never uses, are lost.
//
// # Reconnection
//
// The driver runs its own reconnect loop rather than amqp091-go's
// Config.Recovery (new in v1.12, experimental, and fixed in every release
// since). The loop needs things that recovery does not give: failing over
// through a list of endpoints (Amazon MQ active/standby and cluster nodes)
// instead of redialling one URL at a fixed interval; backoff with jitter
// (Options.Backoff, a backoff.Policy); publishes in flight that are
// republished on the next connection instead of nacked when the channel
// closes; receipts that know which channel issued them; and broker states
// that match the connection the driver actually uses.
//
// When either connection drops, the broker reports Reconnecting, dials
// the endpoints in order with backoff between rounds, declares again
// every queue, exchange and binding it declared (a subscription without a
// name gets its exclusive queue back, empty), and reports Connected; each
// queue's consumer starts again on its next Receive. A Send during an
// outage waits for the connection and succeeds, or fails when its context
// ends; messages published but not confirmed when the connection dropped
// are published again, so they may arrive twice, never not at all without
// an error. Acking or nacking a delivery received before the reconnection
// fails with postroom.ErrReceiptExpired: delivery tags belong to a channel,
// and the broker redelivers the message anyway. With
// Options.MaxReconnectAttempts the broker gives up and closes; every call
// then fails with postroom.ErrClosed.
//
// While RabbitMQ blocks publishers (a memory or disk alarm,
// connection.blocked), Send waits for the unblock or its context.
//
// # As
//
// Delivery.As reaches the *amqp091.Delivery of a delivery:
//
//	var raw *amqp091.Delivery
//	if d.As(&raw) { log.Println(raw.Exchange, raw.RoutingKey, raw.Headers) }
//
// Do not ack or nack it through raw.Acknowledger: the driver tracks what
// was settled so that a second settlement does not close the channel.
//
// Errors from the broker are *postroom.Error values whose Code is the AMQP
// reply name (NOT_FOUND, PRECONDITION_FAILED, NO_ROUTE…), whose sentinel is
// the queue package's (ErrNotFound, ErrExists…), and which unwrap to the
// *amqp091.Error.
//
// # Limits
//
//   - No visibility timeout, Extend, Purge or Stats; no FIFO groups or
//     deduplication; no per-message delay other than the retry buckets.
//   - Topics are fanout exchanges: no routing keys, no wildcards, no
//     filter policies.
//   - A second Ack of a delivery is refused locally with
//     postroom.ErrReceiptInvalid (on the wire it would close the channel).
//   - Names are AMQP short strings: 1 to 255 bytes; names starting with
//     "amq." are RabbitMQ's. Delayed nacks need room in a queue's name for
//     the suffix ".retry.<bucket>" (12 bytes with the default buckets).
//   - amqp091-go drops a basic.return that its reader cannot hand over
//     within 5 s; the driver's goroutine takes returns at once, but a
//     process starved of CPU that long could see an unroutable message
//     reported as sent.
//   - RabbitMQ 4.3 (and Amazon MQ 4.3) refuses basic.qos with global=true
//     and transient non-exclusive queues; the driver uses neither.
package amqp
