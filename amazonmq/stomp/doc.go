// Package stomp is the STOMP driver of postroom for the ActiveMQ engine of
// Amazon MQ (and any ActiveMQ 5.x broker): a [Broker] that vends queues
// (/queue/NAME) and topics (/topic/NAME), keeps its connection up across
// failures and fails over between endpoints.
//
// It speaks STOMP 1.2 (or 1.1) with the frame codec of
// github.com/go-stomp/stomp/v3 and its own connection loop. The go-stomp
// Conn waits for one send receipt at a time while holding its lock, so
// every confirmed send costs a round trip and a disk sync on the broker;
// and it feeds subscriptions from one goroutine through unbuffered
// channels, so one slow subscription stalls the connection, receipts and
// heart-beats included. This package instead confirms every SEND with a
// receipt without waiting for one before the next (see below), and its
// reader drops MESSAGE frames into per-subscription buffers without ever
// blocking.
//
// # URLs
//
// [Dial], broker.Open, queue.Open and pubsub.Open take
//
//	stomp://[login:passcode@]host[:61613][/name][?param=value&…]
//	stomp+ssl://[login:passcode@]host[:61614][/name][?param=value&…]
//
// stomp+ssl is STOMP over TLS, verified with the system roots unless
// Options.TLSConfig says otherwise; Amazon MQ's endpoints are
// stomp+ssl://b-….mq.REGION.amazonaws.com:61614. The path names the queue
// or topic for queue.Open and pubsub.Open (which dial a connection of
// their own, closed with the queue, or with the topic and its
// subscriptions). Query parameters:
//
//   - failover=host:port[,host:port…]: more endpoints, tried in order after
//     the first on every connection attempt (the standby of an Amazon MQ
//     active/standby pair, the "-2" endpoint). Options.Endpoints adds
//     more.
//   - client_id: Options.ClientID, needed by durable subscriptions.
//   - host: the CONNECT host header (Options.Host).
//   - prefetch, wait_time, heartbeat (0 turns heart-beating off),
//     dial_timeout, ack_receipts, scheduled_delivery: the Options of
//     those names.
//
// Any other parameter is refused with an error matching postroom.ErrInvalid
// that lists these, so that a misspelt one does not go unnoticed.
//
// # Message delivery semantics
//
// Delivery is at least once; a message may arrive twice, never zero times.
//
// Send and Publish send persistent messages (persistent:true), and return
// only once the broker has confirmed them with a RECEIPT: ActiveMQ
// reports a refused send only to a client that asks for a receipt. The
// writer coalesces: all the sends (and nacks) at hand when it is free go
// into one STOMP transaction whose COMMIT carries the receipt (a single
// frame goes alone), with up to two such groups awaiting their receipt
// while the next forms. Concurrent senders thus share receipts and the
// broker's disk syncs, and a batch of one call is stored whole or not at
// all. When the connection is lost before the receipt, the message is
// sent again on the next connection, until the call's context ends: the
// call succeeds after the reconnection or returns an error, never loses a
// message silently (but may deliver it twice). After an ERROR frame that
// answered no receipt, the messages in flight are sent again each with its
// own receipt, so that a message the broker refuses fails alone.
//
// A queue subscribes on its first Receive, a topic subscription on
// Subscribe, with client-individual acks and activemq.prefetchSize set to
// Options.Prefetch: the broker pushes that many unacked messages, which
// wait in the subscription's buffer for Receive. Subscriptions are made
// again, with the same ids and headers, on every new connection; the
// messages a lost connection delivered and that were not acked are
// delivered again by the broker (with redelivered:true), and settling
// their old deliveries fails with postroom.ErrReceiptExpired.
//
// Ack sends STOMP ACK frames and returns once they are written to the
// connection, as AMQP and MQTT acks go: on ActiveMQ an ack with a receipt
// waits for the broker's store (here it cut consumer throughput from
// about 15,000 to 2,000 messages a second), and a lost ack only means the
// message comes again. Options.AckReceipts makes Ack wait for the
// receipt of a transaction holding the call's acks instead. Either way a
// delivery is acked at most once: a second Ack of it fails with
// postroom.ErrReceiptInvalid.
//
// Nack: a STOMP NACK is, on ActiveMQ 5.x, a "poison ack" that moves the
// message to the dead-letter queue (ActiveMQ.DLQ) at once unless the
// broker runs the redeliveryPlugin. So Nack on a [Queue] sends the message
// again to the queue, with its headers and an x-postroom-receive-count
// header, and acks the original, in one transaction: the message goes to
// the back of the queue and its next delivery has a ReceiveCount one
// higher. Nack with a positive delay does the same with the
// AMQ_SCHEDULED_DELAY header, which needs the broker's scheduler
// (schedulerSupport="true", permitted on Amazon MQ) and
// Options.ScheduledDelivery; without it Nack returns an error matching
// postroom.ErrUnsupported, as does a Message.Delay. Nack on a topic
// [Subscription] (where sending again would reach every subscriber) hands
// the message out again from the subscription's own buffer after the
// delay; the broker still holds it unacked meanwhile. [Queue.DeadLetter]
// and [Subscription.DeadLetter] send the NACK itself.
//
// ReceiveCount is exact across Nacks (the receive count header), and adds
// one when the broker flags a redelivery after a lost connection (STOMP
// carries no redelivery count). There is no visibility timeout: a
// received message stays with its receiver until it is settled or the
// connection or subscription ends; ReceiveOptions.VisibilityTimeout is
// ignored.
//
// Broker crashes: ActiveMQ syncs its KahaDB journal before it answers a
// persistent send (journalDiskSyncStrategy "always", the default), so a
// message whose Send returned nil survives a crash of the broker: none
// was lost when ActiveMQ was killed with SIGKILL under load (the test
// TestFaultBrokerKill). A crash can deliver a message twice. A send
// whose RECEIPT died with the connection is sent again and both copies
// are kept: the second is a new message, with ReceiveCount 1. A message
// delivered before the crash whose ACK the broker had not stored comes
// again; ActiveMQ flags it redelivered:true (ReceiveCount 2) only when
// the destination policy persistJMSRedelivered="true" makes it store the
// flag before each dispatch (one more store write per message; the test
// broker sets it, TestFaultKillRedelivered). By default it forgets the
// dispatch and the message comes again with ReceiveCount 1. A handler
// that must not act twice drops duplicates by message id.
//
// Durable subscriptions: with SubscribeOptions.Name the subscription is an
// ActiveMQ durable subscriber (activemq.subscriptionName), identified by
// Options.ClientID and the name, so ClientID must be set, stable across
// runs and unique among connections. Close detaches (the broker keeps
// collecting messages); [Subscription.Unsubscribe] deletes it.
//
// Attributes travel as STOMP headers of their name (ActiveMQ keeps them as
// message properties). A String or Number value is the header value, a
// String.Array its JSON array, a Binary value its standard base64; one
// x-postroom-types header lists the types of the attributes that are not
// plain String, URL-query encoded ("amount=Number&blob=Binary"), so the
// types come back as sent. Headers written by other clients come back as
// String attributes. Attribute names that are STOMP or ActiveMQ headers
// (destination, priority, type, …) or start with x-postroom-, activemq.,
// AMQ_ or JMS are refused with postroom.ErrInvalid. GroupID travels as
// JMSXGroupID (ActiveMQ message groups: a group's messages go to one
// consumer, in order). pubsub.Message.Subject is delivered as the
// attribute "Subject". DeduplicationID is not supported.
//
// # Reconnection and failover
//
// A lost connection (a network error, a missing heart-beat, an ERROR
// frame) is replaced with backoff (Options.Backoff), trying every
// endpoint in order each time; [Broker.NotifyState] reports Reconnecting
// and Connected with the endpoint. Heart-beats are Options.Heartbeat in
// both directions; the driver sends its own at half the negotiated
// interval, since ActiveMQ enforces the client's strictly.
//
// One Broker is one STOMP connection. ActiveMQ's producer flow control
// can block a connection whose sends hit a memory limit, acks included,
// so give heavy producers and consumers Brokers of their own.
//
// # As
//
// [queue.Delivery.As] gives the MESSAGE frame: *frame.Frame of package
// github.com/go-stomp/stomp/v3/frame. Errors from ERROR frames are
// *postroom.Error values whose Cause is a github.com/go-stomp/stomp/v3 Error
// holding the frame, reachable with errors.As.
//
// # Limits
//
// At most [MaxBatch] messages per Send, Publish, Receive, Ack or Nack
// call. No FIFO queues, deduplication, filter policies, purge or queue
// statistics. Topics take ActiveMQ wildcards when subscribing ("a.*",
// "a.>"), not when publishing.
package stomp
