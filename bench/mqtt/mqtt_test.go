// Package mqtt compares postroom's MQTT driver with raw paho.mqtt.golang,
// end to end against Mosquitto and ActiveMQ: 256-byte messages published
// with QoS 1 (every PUBACK awaited), one QoS 1 subscriber acking every
// message.
//
//	POSTROOM_MOSQUITTO_URL=tcp://127.0.0.1:1883 POSTROOM_MQTT_URL=tcp://127.0.0.1:1884 \
//	  go test -run '^$' -bench . -benchtime 50000x ./mqtt/
//
// raw-paho publishes asynchronously with up to 100 publishes awaiting
// their PUBACK, and its subscriber acks in paho's router (the default).
// postroom publishes from 4 goroutines, 25 messages per Publish (each
// message in the postroom envelope), so that about as many publishes are
// in flight, and its subscriber acks after Receive.
package mqtt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	postroom "github.com/postroom/postroom/amazonmq/mqtt"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

const (
	bodySize   = 256
	window     = 100 // raw-paho: publishes awaiting their PUBACK
	publishers = 4   // postroom: publishing goroutines
	perPublish = 25  // postroom: messages per Publish
)

var body = bytes.Repeat([]byte("b"), bodySize)

func name(what string) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return "postroom-bench-" + what + "-" + hex.EncodeToString(r[:])
}

func report(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

func BenchmarkEndToEnd(b *testing.B) {
	for _, target := range []struct{ name, env string }{
		{"mosquitto", "POSTROOM_MOSQUITTO_URL"},
		{"activemq", "POSTROOM_MQTT_URL"},
	} {
		b.Run(target.name, func(b *testing.B) {
			url := os.Getenv(target.env)
			if url == "" {
				b.Skipf("set %s to run against %s (e.g. tcp://127.0.0.1:1883)", target.env, target.name)
			}
			b.Run("raw-paho", func(b *testing.B) { benchRaw(b, url) })
			b.Run("postroom", func(b *testing.B) { benchPostroom(b, url) })
		})
	}
}

func pahoClient(b *testing.B, url, id string, onMessage paho.MessageHandler) paho.Client {
	b.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(true).
		SetProtocolVersion(4).SetAutoReconnect(false).SetOrderMatters(true).
		SetDefaultPublishHandler(onMessage)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("connect: %v", tok.Error())
	}
	b.Cleanup(func() { c.Disconnect(250) })
	return c
}

// benchRaw is the baseline: paho used directly, as a careful program
// would: a publishing and a subscribing client, QoS 1 publishes with a
// window of PUBACKs in flight, the subscriber acking in paho's router.
func benchRaw(b *testing.B, url string) {
	topic := "postroom/bench/" + name("raw")
	var got atomic.Int64
	done := make(chan struct{})
	sub := pahoClient(b, url, name("raw-sub"), func(_ paho.Client, m paho.Message) {
		if got.Add(1) == int64(b.N) {
			close(done)
		}
	})
	if tok := sub.Subscribe(topic, 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("subscribe: %v", tok.Error())
	}
	pub := pahoClient(b, url, name("raw-pub"), nil)

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	inflight := make([]paho.Token, 0, window)
	for range b.N {
		if len(inflight) == window {
			if tok := inflight[0]; !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
				b.Fatalf("publish: %v", tok.Error())
			}
			inflight = inflight[1:]
		}
		inflight = append(inflight, pub.Publish(topic, 1, false, body))
	}
	for _, tok := range inflight {
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			b.Fatalf("publish: %v", tok.Error())
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("received %d of %d", got.Load(), b.N)
	}
	report(b, start)
}

// benchPostroom publishes b.N messages, every one confirmed by its PUBACK,
// and receives them with Receive (up to 100) and Ack on a subscription.
func benchPostroom(b *testing.B, url string) {
	ctx := context.Background()
	pb, err := postroom.Dial(ctx, url, postroom.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer pb.Close()
	sb, err := postroom.Dial(ctx, url, postroom.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	topic := "postroom/bench/" + name("postroom")
	pt, err := pb.OpenTopic(ctx, topic, postroom.TopicOptions{})
	if err != nil {
		b.Fatal(err)
	}
	st, err := sb.OpenTopic(ctx, topic, postroom.TopicOptions{})
	if err != nil {
		b.Fatal(err)
	}
	sub, err := st.Subscribe(ctx, pubsub.SubscribeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		for got := 0; got < b.N; {
			ds, err := sub.Receive(ctx, queue.ReceiveOptions{MaxMessages: postroom.MaxBatch, WaitTime: 5 * time.Second})
			if err != nil {
				done <- err
				return
			}
			if len(ds) == 0 {
				done <- context.DeadlineExceeded
				return
			}
			if err := sub.Ack(ctx, ds...); err != nil {
				done <- err
				return
			}
			got += len(ds)
		}
		done <- nil
	}()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() {
			ms := make([]*pubsub.Message, perPublish)
			for {
				k := int(next.Add(perPublish)) - perPublish
				if k >= b.N {
					return
				}
				ms = ms[:min(perPublish, b.N-k)]
				for i := range ms {
					ms[i] = &pubsub.Message{Body: body}
				}
				if err := pt.Publish(ctx, ms...); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	report(b, start)
}
