// Package broker defines a [Broker]: one live connection to a message broker
// (the shape of an Amazon MQ broker) that vends queues and topics, recovers
// from lost connections, and reports its state.
//
// Drivers: package memory (in process), amazonmq/amqp (AMQP 0-9-1, the
// RabbitMQ engine), amazonmq/stomp and amazonmq/mqtt (the ActiveMQ engine).
// Not every protocol has every capability: MQTT has topics but no queues, no
// headers and no nack. [Broker.Capabilities] says what a driver can do, and
// a method it cannot serve returns an error matching postroom.ErrUnsupported.
//
// # Reconnection
//
// A broker reconnects with backoff when its connection drops, re-declares
// the topology it declared, and restores its subscriptions. A send or
// publish during an outage either succeeds once the connection is back or
// returns an error before its context ends: it is never lost silently.
// [Broker.NotifyState] reports each change of [State].
package broker
