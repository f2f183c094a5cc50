package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/internal/testsupport/testenv"
	"github.com/postroom/postroom/pubsub"
)

// withParam adds a query parameter to a broker URL.
func withParam(base, path, kv string) string {
	base = strings.TrimSuffix(base, "/") + path
	if strings.Contains(base, "?") {
		return base + "&" + kv
	}
	return base + "?" + kv
}

// unique returns a name no earlier run used.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

// unsubscribe deletes a durable subscription the binary made.
func unsubscribe(t *testing.T, topicURL, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tp, err := pubsub.Open(ctx, topicURL)
	if !assert.NoError(t, err) {
		return
	}
	defer tp.Close()
	sub, err := tp.Subscribe(ctx, pubsub.SubscribeOptions{Name: name, RawDelivery: true})
	if !assert.NoError(t, err) {
		return
	}
	defer sub.Close()
	if u, ok := sub.(pubsub.Unsubscriber); ok {
		assert.NoError(t, u.Unsubscribe(ctx))
	}
}

// TestCLIBrokerQueues runs send, receive and the verbs brokers cannot do
// with the binary against RabbitMQ (AMQP) and ActiveMQ (STOMP).
func TestCLIBrokerQueues(t *testing.T) {
	c := buildCLI(t)
	for _, b := range []struct {
		name, env, what string
		queueURL        func(base, q string) string
	}{
		{"amqp", "POSTROOM_AMQP_URL", "RabbitMQ", func(base, q string) string { return withParam(base, "/", "queue="+q) }},
		{"stomp", "POSTROOM_STOMP_URL", "ActiveMQ over STOMP", func(base, q string) string { return strings.TrimSuffix(base, "/") + "/" + q }},
	} {
		t.Run(b.name, func(t *testing.T) {
			base := testenv.Get(t, b.env, b.what)
			q := b.queueURL(base, unique("cli-q"))

			var sent sendOut
			c.ok("send", q, "Hello, SQS!", "--attr", "kind=greeting", "--attr", "n:Number=7").json(t, &sent)
			assert.NotEmpty(t, sent.MessageId)

			// Without --ack the broker gets the message back when the
			// command ends.
			var got receiveOut
			c.ok("receive", "--wait", "10s", q).json(t, &got)
			require.Len(t, got.Messages, 1)
			assert.Equal(t, "Hello, SQS!", got.Messages[0].Body)

			c.ok("receive", "--wait", "10s", "--ack", q).json(t, &got)
			require.Len(t, got.Messages, 1)
			m := got.Messages[0]
			assert.Equal(t, sent.MessageId, m.MessageId)
			assert.Equal(t, "Hello, SQS!", m.Body)
			assert.Equal(t, sent.MD5OfMessageBody, m.MD5OfBody)
			assert.Equal(t, "greeting", m.MessageAttributes["kind"].StringValue)
			assert.Equal(t, "7", m.MessageAttributes["n"].StringValue)
			assert.Equal(t, "Number", m.MessageAttributes["n"].DataType)
			assert.Equal(t, "2", m.Attributes["ApproximateReceiveCount"], "the second delivery of the message")

			// Acked: nothing is left.
			assert.Empty(t, c.ok("receive", "--wait", "1s", q).stdout)

			// Receipts end with the connection: delete says so.
			line := c.fails(1, "delete", q, m.ReceiptHandle)
			assert.Contains(t, line, "receive --ack")
			assert.Contains(t, line, "operation not supported")

			// Standard input, several messages.
			for i := range 3 {
				r := c.runIn(fmt.Sprintf("m%d", i), "send", q)
				require.Equal(t, 0, r.code, r.stderr)
			}
			var bodies []string
			for len(bodies) < 3 {
				c.ok("receive", "--wait", "10s", "--max", "10", "--ack", q).json(t, &got)
				require.NotEmpty(t, got.Messages)
				for _, m := range got.Messages {
					bodies = append(bodies, m.Body)
				}
			}
			assert.ElementsMatch(t, []string{"m0", "m1", "m2"}, bodies)
		})
	}
}

// TestCLIBrokerTopics publishes with the binary and receives through a
// durable subscription the binary made, on RabbitMQ, ActiveMQ over STOMP
// and MQTT, and Mosquitto.
func TestCLIBrokerTopics(t *testing.T) {
	c := buildCLI(t)
	for _, b := range []struct {
		name, env, what string
		topicURL        func(base, topic, client string) string
	}{
		{"amqp", "POSTROOM_AMQP_URL", "RabbitMQ",
			func(base, tp, _ string) string { return withParam(base, "/", "topic="+tp) }},
		{"stomp", "POSTROOM_STOMP_URL", "ActiveMQ over STOMP",
			func(base, tp, client string) string { return withParam(base, "/"+tp, "client_id="+client) }},
		{"mqtt-activemq", "POSTROOM_MQTT_URL", "ActiveMQ over MQTT",
			func(base, tp, _ string) string { return strings.TrimSuffix(base, "/") + "/" + tp }},
		{"mqtt-mosquitto", "POSTROOM_MOSQUITTO_URL", "Mosquitto",
			func(base, tp, _ string) string { return strings.TrimSuffix(base, "/") + "/" + tp }},
	} {
		t.Run(b.name, func(t *testing.T) {
			base := testenv.Get(t, b.env, b.what)
			sub := unique("cli-sub")
			tp := b.topicURL(base, unique("cli-t"), sub)

			// The first receive makes the durable subscription.
			assert.Empty(t, c.ok("receive", "--subscription", sub, "--wait", "1s", tp).stdout)
			t.Cleanup(func() { unsubscribe(t, tp, sub) })

			var pub struct{ MessageId string }
			c.ok("publish", tp, "Hello, topic!", "--subject", "greeting", "--attr", "kind=hello").json(t, &pub)
			assert.NotEmpty(t, pub.MessageId)

			var got receiveOut
			c.ok("receive", "--subscription", sub, "--wait", "10s", "--ack", tp).json(t, &got)
			require.Len(t, got.Messages, 1)
			m := got.Messages[0]
			assert.Equal(t, "Hello, topic!", m.Body)
			assert.Equal(t, "hello", m.MessageAttributes["kind"].StringValue)
			assert.Equal(t, "greeting", m.MessageAttributes["Subject"].StringValue)

			assert.Empty(t, c.ok("receive", "--subscription", sub, "--wait", "1s", tp).stdout)
		})
	}
}

// TestCLIMQTTHasNoQueues: send, delete, purge and stats on an MQTT URL are
// usage errors that point at publish and receive.
func TestCLIMQTTHasNoQueues(t *testing.T) {
	c := buildCLI(t)
	// No broker is needed: the scheme is refused before dialing.
	for _, verb := range []string{"send", "purge", "stats"} {
		args := []string{verb, "mqtt://127.0.0.1:1/t"}
		if verb == "send" {
			args = append(args, "x")
		}
		line := c.fails(2, args...)
		assert.Contains(t, line, "MQTT has no queues")
	}
	assert.Contains(t, c.fails(1, "delete", "mqtt://127.0.0.1:1/t", "r"), "receive --ack")
}

// TestCLIReceiveTopic receives with --topic, a subscription that lives as
// long as the command: it gets what is published during its wait.
func TestCLIReceiveTopic(t *testing.T) {
	c := buildCLI(t)
	for _, b := range []struct{ name, env, what string }{
		{"mqtt-mosquitto", "POSTROOM_MOSQUITTO_URL", "Mosquitto"},
		{"amqp", "POSTROOM_AMQP_URL", "RabbitMQ"},
	} {
		t.Run(b.name, func(t *testing.T) {
			base := testenv.Get(t, b.env, b.what)
			tp := strings.TrimSuffix(base, "/") + "/" + unique("cli-live")
			if b.name == "amqp" {
				tp = withParam(base, "/", "topic="+unique("cli-live"))
			}
			cmd := exec.Command(c.bin, "receive", "--topic", "--wait", "20s", "--ack", tp)
			cmd.Env = c.env
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			require.NoError(t, cmd.Start())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// The subscription is made some time after the start: publish
			// until the receive returns.
			tick := time.NewTicker(300 * time.Millisecond)
			defer tick.Stop()
			var err error
		loop:
			for {
				select {
				case err = <-done:
					break loop
				case <-tick.C:
					c.ok("publish", tp, "live")
				}
			}
			require.NoError(t, err, errb.String())
			var got receiveOut
			require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())
			require.NotEmpty(t, got.Messages)
			assert.Equal(t, "live", got.Messages[0].Body)
		})
	}
}
