// Package memory compares postroom's in-memory queue with the in-memory
// transports users would otherwise pick: Watermill's GoChannel and Go
// CDK's mempubsub. Each benchmark sends 256-byte messages, receives them and
// acknowledges them; one op is one message.
//
//	go test -run '^$' -bench . -benchtime 200000x ./memory/
package memory

import (
	"bytes"
	"context"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"gocloud.dev/pubsub"
	"gocloud.dev/pubsub/mempubsub"

	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

var body = bytes.Repeat([]byte("x"), 256)

func report(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPostroom sends, receives and acks in batches of 10.
func BenchmarkPostroom(b *testing.B) {
	ctx := context.Background()
	q, err := memory.NewQueue("bench", memory.QueueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]*queue.Message, 10)
	for i := range msgs {
		msgs[i] = &queue.Message{Body: body}
	}
	b.ReportAllocs()
	n := 0
	for n < b.N {
		if err := q.Send(ctx, msgs...); err != nil {
			b.Fatal(err)
		}
		ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, NoWait: true})
		if err != nil || len(ds) != 10 {
			b.Fatal(len(ds), err)
		}
		if err := q.Ack(ctx, ds...); err != nil {
			b.Fatal(err)
		}
		n += 10
	}
	report(b, n)
}

// BenchmarkPostroomConsumer runs consumer.Consumer (concurrency 1) with a
// no-op handler. The messages are sent before the timer starts: it measures
// receiving, handling and acking.
func BenchmarkPostroomConsumer(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q, err := memory.NewQueue("bench-consumer", memory.QueueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]*queue.Message, 10)
	for i := range msgs {
		msgs[i] = &queue.Message{Body: body}
	}
	for n := 0; n < b.N; n += 10 {
		if err := q.Send(ctx, msgs...); err != nil {
			b.Fatal(err)
		}
	}
	handled := 0
	c, err := consumer.New(q, func(context.Context, *queue.Delivery) error {
		if handled++; handled >= b.N {
			cancel()
		}
		return nil
	}, consumer.Options{Concurrency: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if err := c.Run(ctx); err != nil {
		b.Fatal(err)
	}
	report(b, handled)
}

// BenchmarkWatermillGoChannel publishes and consumes through a persistent
// GoChannel, acking every message.
func BenchmarkWatermillGoChannel(b *testing.B) {
	ps := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024, Persistent: true}, watermill.NopLogger{})
	defer ps.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := ps.Subscribe(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < b.N; i++ {
			m := <-ch
			m.Ack()
		}
	}()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := ps.Publish("bench", message.NewMessage(watermill.NewUUID(), body)); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	report(b, b.N)
}

// BenchmarkGoCDKMempubsub sends and receives through mempubsub, acking every
// message.
func BenchmarkGoCDKMempubsub(b *testing.B) {
	ctx := context.Background()
	topic := mempubsub.NewTopic()
	defer topic.Shutdown(ctx)
	sub := mempubsub.NewSubscription(topic, 0)
	defer sub.Shutdown(ctx)
	done := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			m, err := sub.Receive(ctx)
			if err != nil {
				done <- err
				return
			}
			m.Ack()
		}
		done <- nil
	}()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := topic.Send(ctx, &pubsub.Message{Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	report(b, b.N)
}
