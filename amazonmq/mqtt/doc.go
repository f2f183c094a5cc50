// Package mqtt is the MQTT 3.1.1 driver of postroom, built on
// github.com/eclipse/paho.mqtt.golang, for the ActiveMQ engine of Amazon
// MQ and any MQTT 3.1.1 broker (it is tested on ActiveMQ 5.17 and
// Mosquitto 2.0). A [Broker] vends topics; MQTT has no queues, so
// Broker.Queue returns an error matching postroom.ErrUnsupported.
//
// # URLs
//
// [Dial], broker.Open and pubsub.Open take
//
//	mqtt://[user:password@]host[:1883][/topic][?param=value&…]
//	mqtts://[user:password@]host[:8883][/topic][?param=value&…]
//
// mqtt+ssl:// (as the Amazon MQ console writes its endpoints,
// mqtt+ssl://b-….mq.REGION.amazonaws.com:8883) is mqtts://, and Dial also
// takes paho's tcp:// and ssl://. TLS is verified with the system roots
// unless Options.TLSConfig says otherwise. The path names the topic for
// pubsub.Open, which dials a connection of its own, closed with the topic
// and its subscriptions; write a "#" in it as %23. Query parameters:
//
//   - failover=host:port[,host:port…]: more endpoints, tried in order after
//     the first on every connection attempt (the standby of an Amazon MQ
//     active/standby pair). Options.Endpoints adds more.
//   - client_id: Options.ClientID.
//   - keep_alive, wait_time, dial_timeout, raw_payload: the Options of
//     those names.
//
// Any other parameter is refused with an error matching postroom.ErrInvalid
// that lists these, so that a misspelt one does not go unnoticed.
//
// # Message delivery semantics
//
// Delivery is at least once (QoS 1); a message may arrive twice, never
// zero times.
//
// Publish publishes with QoS 1 and returns once the broker has
// acknowledged every message (PUBACK); the publishes of one call, and of
// concurrent calls, are in flight together. When the connection is lost
// before a PUBACK, the message is published again on the next connection,
// until the call's context ends: the call succeeds after the reconnection
// or returns an error, and never loses a message silently.
//
// Every subscription has a connection (an MQTT session) of its own, so
// that overlapping filters do not deliver a message twice to one session
// (ActiveMQ does) and one subscription's unacked messages do not use up
// another's in-flight window. A subscription without a name has a clean
// session, under Options.ClientID (or a random one) with a "-sN" suffix,
// and is subscribed again after every reconnection; messages published
// while it is disconnected are not kept for it. A durable subscription
// (SubscribeOptions.Name) has a persistent session (CleanSession false)
// whose client id is the name: the broker keeps its messages while it is
// closed or disconnected, and Subscribe with the same name takes them. On
// ActiveMQ that is a durable topic subscription keyed by the client id.
// The subscription is made again on every connection, whether or not the
// broker kept it.
//
// Acks are manual: paho's automatic ack is off, and a message is acked
// (PUBACK) only when Ack is called for it. MQTT confirms no PUBACK, so a
// nil error from Ack means the PUBACK was handed to the connection. An
// unacked message holds a place of the broker's in-flight window
// (Mosquitto's max_inflight_messages, 20 by default; ActiveMQ's prefetch):
// a subscription whose messages are never acked stops receiving. A
// persistent session gets its unacked messages again when it reconnects,
// flagged as duplicates (ReceiveCount 2); a delivery of a lost connection
// cannot be acked (postroom.ErrReceiptExpired).
//
// MQTT 3.1.1 has no negative acknowledgement: Nack returns an error
// matching postroom.ErrUnsupported and [broker.Capabilities] says Nack false.
// To have a message delivered again, leave it unacked and close the
// durable subscription and subscribe again (or let the consumer helper
// give it to a dead-letter sender).
//
// # Broker crashes
//
// ActiveMQ syncs its journal before it sends the PUBACK of a persistent
// QoS 1 publish: a message whose Publish returned nil survives a crash of
// the broker (none was lost when it was killed with SIGKILL under load;
// TestFaultBrokerKill). Mosquitto 2.0 keeps its store in memory and
// writes all of it out at each save: a crash loses what changed since
// the last save, acknowledged or not, including the messages waiting for
// durable subscriptions: with a timed autosave_interval (1,800 s by
// default; 60 s in the test) a kill lost 1,140 of 2,000 messages.
// With autosave_on_changes true and autosave_interval 1 it saves after
// every round of its event loop that changed something, but it sends the
// round's PUBACKs before that save, so a crash in between still loses
// them (one acknowledged message in 2 of 5 kills). Use Mosquitto where a
// crash may lose a few acknowledged messages.
//
// Either broker may deliver a message twice after a crash: a publish
// whose PUBACK died with the connection is published again (a second
// message with the same id), and a message whose PUBACK from the
// subscriber the broker had not stored comes again. Such duplicates can
// arrive without the DUP flag, with ReceiveCount 1; a handler that must
// not act twice drops duplicates by message id.
//
// # Envelope
//
// MQTT 3.1.1 has no headers, so each published payload is an envelope
// (version 1) that carries the message id, the send time, the subject,
// the group id and the typed attributes before the body:
//
//	magic     4 bytes: 0x00 'p' 'r' 0x01 (a NUL first, so no text payload looks like one)
//	id        uvarint length, bytes
//	sent at   uvarint Unix milliseconds (0: unknown)
//	subject   uvarint length, bytes
//	group id  uvarint length, bytes
//	count     uvarint number of attributes
//	each      name, type, value: each a uvarint length and bytes (the raw
//	          bytes of a Binary value, the text of the others)
//	body      the rest of the payload
//
// A payload that does not start with the magic bytes (or is not a
// well-formed envelope) is delivered as the body, with no attributes: a
// message from a client that is not postroom. pubsub.Message.Subject is
// delivered as the attribute "Subject". For subscribers that are not
// postroom, Options.RawPayload publishes bare bodies (and refuses
// attributes, subjects and group ids with postroom.ErrUnsupported).
//
// # Topics
//
// Topic names are MQTT topic names; a topic to subscribe to may be a
// filter with "+" (one level) and "#" (the remaining levels), which
// cannot be published to. [TopicOf] tells the topic of a delivery. On
// ActiveMQ, MQTT "a/b" is the STOMP and JMS topic "a.b" (ActiveMQ swaps
// "/" and ".", "+" and "*", "#" and ">").
//
// # Reconnection and failover
//
// paho's own reconnection is off: the driver makes each connection, with
// backoff (Options.Backoff) after a loss, trying every endpoint in order,
// and subscribes again. The broker's state, reported by
// [Broker.NotifyState], is that of all its connections: Reconnecting as
// soon as one is lost, Connected when all are back. Reads are buffered
// (paho reads packet headers a byte at a time) and, on Linux, TCP_QUICKACK
// is kept on, because a broker with Nagle's algorithm on (Mosquitto by
// default) otherwise holds back its PUBACKs for the client's delayed
// acknowledgement on every burst of publishes.
//
// # As
//
// [queue.Delivery.As] gives the received message: a paho.Message (the
// paho.Message interface of github.com/eclipse/paho.mqtt.golang).
//
// # Limits
//
// At most [MaxBatch] messages per Publish, Receive or Ack call. No queues,
// no nack, no deduplication, no filter policies. Client ids must be
// unique among a broker's connections (a second connection with the same
// id makes the broker close the first), which includes the names of
// durable subscriptions.
package mqtt
