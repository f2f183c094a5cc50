package main

import (
	"context"
	"testing"
	"time"

	"github.com/postroom/postroom/internal/testsupport/testenv"
)

func TestMemory(t *testing.T) {
	if err := run(context.Background(), "mem://", "example"); err != nil {
		t.Fatal(err)
	}
}

// TestBrokers runs the example on each real broker the environment names.
func TestBrokers(t *testing.T) {
	for _, tc := range []struct{ name, env, what string }{
		{"rabbitmq", "POSTROOM_AMQP_URL", "RabbitMQ"},
		{"activemq-stomp", "POSTROOM_STOMP_URL", "ActiveMQ over STOMP"},
		{"activemq-mqtt", "POSTROOM_MQTT_URL", "ActiveMQ over MQTT"},
		{"mosquitto", "POSTROOM_MOSQUITTO_URL", "Mosquitto"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := testenv.Get(t, tc.env, tc.what)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := run(ctx, url, "postroom-example-"+tc.name); err != nil {
				t.Fatal(err)
			}
		})
	}
}
