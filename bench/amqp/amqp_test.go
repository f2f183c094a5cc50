// Package amqp compares postroom's AMQP driver with raw amqp091-go,
// Watermill's AMQP Pub/Sub and Go CDK's rabbitpubsub, end to end against a
// real RabbitMQ: persistent 256-byte messages, publisher confirms, one
// consumer acking every message.
//
//	POSTROOM_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/ \
//	  go test -run '^$' -bench . -benchtime 20000x ./amqp/
package amqp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"
	"gocloud.dev/pubsub"
	"gocloud.dev/pubsub/rabbitpubsub"

	postroom "github.com/postroom/postroom/amazonmq/amqp"
	"github.com/postroom/postroom/queue"
)

const (
	bodySize = 256
	batch    = 100 // messages published before waiting for their confirms
	prefetch = 50  // unacked deliveries per consumer
	// receiveBatch is the most deliveries one postroom Receive returns, to
	// be acked together: small enough that acks flow while the broker
	// refills the prefetch.
	receiveBatch = 10
	// concurrency is the number of publishing goroutines of the libraries
	// that wait for each confirm in turn (Watermill) or batch concurrent
	// sends (Go CDK).
	concurrency = 16
)

var body = bytes.Repeat([]byte("b"), bodySize)

func amqpURL(b *testing.B) string {
	u := os.Getenv("POSTROOM_AMQP_URL")
	if u == "" {
		b.Skip("set POSTROOM_AMQP_URL to run against RabbitMQ (e.g. amqp://guest:guest@127.0.0.1:5672/)")
	}
	return u
}

func name(what string) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return "postroom-bench-" + what + "-" + hex.EncodeToString(r[:])
}

// admin declares and deletes the topology of a benchmark.
func admin(b *testing.B, url string) *amqp091.Channel {
	b.Helper()
	conn, err := amqp091.Dial(url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	return ch
}

func declareQueue(b *testing.B, ch *amqp091.Channel, q string) {
	b.Helper()
	if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = ch.QueueDelete(q, false, false, false) })
}

// report records throughput: b.N messages went through in the timed part.
func report(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

func BenchmarkEndToEnd(b *testing.B) {
	b.Run("raw-amqp091", benchRaw)
	b.Run("postroom", benchPostroom)
	b.Run("watermill-amqp", benchWatermill)
	b.Run("gocloud-rabbitpubsub", benchGoCloud)
}

// benchRaw is the baseline: amqp091-go used directly, as a careful
// program would: a publishing and a consuming connection, batches of
// persistent mandatory publishes whose confirms are awaited together, a
// consumer with prefetch acking each delivery.
func benchRaw(b *testing.B) {
	url := amqpURL(b)
	q := name("raw")
	declareQueue(b, admin(b, url), q)

	pubConn, err := amqp091.Dial(url)
	if err != nil {
		b.Fatal(err)
	}
	defer pubConn.Close()
	subConn, err := amqp091.Dial(url)
	if err != nil {
		b.Fatal(err)
	}
	defer subConn.Close()
	pch, err := pubConn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	if err := pch.Confirm(false); err != nil {
		b.Fatal(err)
	}
	returns := pch.NotifyReturn(make(chan amqp091.Return, batch))
	sch, err := subConn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	if err := sch.Qos(prefetch, 0, false); err != nil {
		b.Fatal(err)
	}
	deliveries, err := sch.Consume(q, "", false, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		for range b.N {
			d := <-deliveries
			if err := d.Ack(false); err != nil {
				b.Error(err)
				return
			}
		}
	})
	ctx := context.Background()
	dcs := make([]*amqp091.DeferredConfirmation, 0, batch)
	for sent := 0; sent < b.N; {
		dcs = dcs[:0]
		for ; len(dcs) < batch && sent < b.N; sent++ {
			dc, err := pch.PublishWithDeferredConfirmWithContext(ctx, "", q, true, false, amqp091.Publishing{
				DeliveryMode: amqp091.Persistent,
				MessageId:    "m",
				Timestamp:    time.Now(),
				Body:         body,
			})
			if err != nil {
				b.Fatal(err)
			}
			dcs = append(dcs, dc)
		}
		for _, dc := range dcs {
			if !dc.Wait() {
				b.Fatal("nacked")
			}
		}
		select {
		case r := <-returns:
			b.Fatalf("returned: %s", r.ReplyText)
		default:
		}
	}
	wg.Wait()
	report(b, start)
}

// benchPostroom does the same work through the driver: Send of 100
// messages, Receive of up to 10, Ack of what came.
func benchPostroom(b *testing.B) {
	url := amqpURL(b)
	ctx := context.Background()
	br, err := postroom.Dial(ctx, url, postroom.Options{Prefetch: prefetch})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	q, err := br.OpenQueue(ctx, name("postroom"), postroom.QueueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = q.Delete(ctx) }()

	msgs := make([]*queue.Message, batch)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		for got := 0; got < b.N; {
			ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: receiveBatch, WaitTime: 5 * time.Second})
			if err != nil {
				b.Error(err)
				return
			}
			if err := q.Ack(ctx, ds...); err != nil {
				b.Error(err)
				return
			}
			got += len(ds)
		}
	})
	for sent := 0; sent < b.N; {
		n := min(batch, b.N-sent)
		for i := range n {
			msgs[i] = &queue.Message{Body: body}
		}
		if err := q.Send(ctx, msgs[:n]...); err != nil {
			b.Fatal(err)
		}
		sent += n
	}
	wg.Wait()
	report(b, start)
}

// benchWatermill publishes with delivery confirmation from concurrent
// goroutines (Watermill waits for each confirm before the next publish on
// a channel) and consumes with a prefetch.
func benchWatermill(b *testing.B) {
	url := amqpURL(b)
	topic := name("watermill")
	cfg := wamqp.NewDurableQueueConfig(url)
	cfg.Publish.ConfirmDelivery = true
	cfg.Publish.Mandatory = true
	cfg.Publish.ChannelPoolSize = concurrency
	cfg.Consume.Qos.PrefetchCount = prefetch
	logger := watermill.NopLogger{}
	pub, err := wamqp.NewPublisher(cfg, logger)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	sub, err := wamqp.NewSubscriber(cfg, logger)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	defer func() {
		ch := admin(b, url)
		_, _ = ch.QueueDelete(topic, false, false, false)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := sub.SubscribeInitialize(topic); err != nil {
		b.Fatal(err)
	}
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		for range b.N {
			m := <-msgs
			m.Ack()
		}
	})
	work := make(chan struct{}, concurrency)
	var pwg sync.WaitGroup
	for range concurrency {
		pwg.Go(func() {
			for range work {
				if err := pub.Publish(topic, message.NewMessage(watermill.NewUUID(), body)); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	pwg.Wait()
	wg.Wait()
	report(b, start)
}

// benchGoCloud sends through a durable fanout exchange bound to a durable
// queue; the Go CDK batches concurrent sends and waits for their confirms.
// Messages are made persistent with BeforeSend.
func benchGoCloud(b *testing.B) {
	url := amqpURL(b)
	ex, q := name("gocloud-ex"), name("gocloud")
	ch := admin(b, url)
	if err := ch.ExchangeDeclare(ex, amqp091.ExchangeFanout, true, false, false, false, nil); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ch.ExchangeDelete(ex, false, false) })
	declareQueue(b, ch, q)
	if err := ch.QueueBind(q, "", ex, false, nil); err != nil {
		b.Fatal(err)
	}
	pubConn, err := amqp091.Dial(url)
	if err != nil {
		b.Fatal(err)
	}
	defer pubConn.Close()
	subConn, err := amqp091.Dial(url)
	if err != nil {
		b.Fatal(err)
	}
	defer subConn.Close()
	ctx := context.Background()
	topic := rabbitpubsub.OpenTopic(pubConn, ex, nil)
	defer topic.Shutdown(ctx)
	pf := prefetch
	sub := rabbitpubsub.OpenSubscription(subConn, q, &rabbitpubsub.SubscriptionOptions{PrefetchCount: &pf})
	defer sub.Shutdown(ctx)
	persistent := func(as func(any) bool) error {
		var p *amqp091.Publishing
		if as(&p) {
			p.DeliveryMode = amqp091.Persistent
		}
		return nil
	}

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		for range b.N {
			m, err := sub.Receive(ctx)
			if err != nil {
				b.Error(err)
				return
			}
			m.Ack()
		}
	})
	work := make(chan struct{}, concurrency*batch)
	var pwg sync.WaitGroup
	for range concurrency * 8 {
		pwg.Go(func() {
			for range work {
				if err := topic.Send(ctx, &pubsub.Message{Body: body, BeforeSend: persistent}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	pwg.Wait()
	wg.Wait()
	report(b, start)
}
