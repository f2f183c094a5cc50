package consumer_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

// BenchmarkConsumer measures the consumer on the memory queue with a no-op
// handler, beside a hand-written receive(10)/ack loop on the same queue.
// Each iteration is one message; msgs/s counts the whole run, the final
// ack flush included.
//
// A third loop, receive(1) with acks by ten, is what the consumer does at
// concurrency 1, where it may hold one message only: it shows how much of
// the gap is the queue's cost per receive call rather than the consumer's.
func BenchmarkConsumer(b *testing.B) {
	for _, conc := range []int{1, 8} {
		b.Run(fmt.Sprintf("consumer/concurrency=%d", conc), func(b *testing.B) {
			q := benchQueue(b)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var n atomic.Int64
			total := int64(b.N)
			c, err := consumer.New(q, func(context.Context, *queue.Delivery) error {
				if n.Add(1) == total {
					cancel()
				}
				return nil
			}, consumer.Options{Concurrency: conc})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if err := c.Run(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			b.StopTimer()
			if n.Load() != total {
				b.Fatalf("handled %d of %d", n.Load(), total)
			}
		})
	}
	b.Run("handwritten/receive10-ack10", func(b *testing.B) { benchLoop(b, 10) })
	b.Run("handwritten/receive1-ack10", func(b *testing.B) { benchLoop(b, 1) })
}

func benchLoop(b *testing.B, receive int) {
	q := benchQueue(b)
	ctx := context.Background()
	h := func(context.Context, *queue.Delivery) error { return nil }
	acks := make([]*queue.Delivery, 0, 10)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; {
		ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: receive, WaitTime: 20 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range ds {
			if h(ctx, d) == nil {
				acks = append(acks, d)
			}
		}
		done += len(ds)
		if len(acks) == cap(acks) || done == b.N {
			if err := q.Ack(ctx, acks...); err != nil {
				b.Fatal(err)
			}
			acks = acks[:0]
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// benchQueue returns a queue holding b.N messages.
func benchQueue(b *testing.B) *memory.Queue {
	b.Helper()
	q, err := memory.NewQueue("bench", memory.QueueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = q.Close() })
	ctx := context.Background()
	msgs := make([]*queue.Message, 10)
	for sent := 0; sent < b.N; sent += len(msgs) {
		msgs = msgs[:min(10, b.N-sent)]
		for i := range msgs {
			msgs[i] = &queue.Message{Body: []byte("job")}
		}
		if err := q.Send(ctx, msgs...); err != nil {
			b.Fatal(err)
		}
	}
	return q
}
