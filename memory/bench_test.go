package memory

import (
	"bytes"
	"context"
	"testing"

	"github.com/postroom/postroom/queue"
)

// BenchmarkMemoryQueue measures send → receive → ack of 256-byte messages,
// in batches of 10 and one at a time.
func BenchmarkMemoryQueue(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 256)
	for _, bc := range []struct {
		name  string
		batch int
	}{{"batch=10", 10}, {"batch=1", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			q, err := NewQueue("bench", QueueOptions{})
			if err != nil {
				b.Fatal(err)
			}
			msgs := make([]*queue.Message, bc.batch)
			for i := range msgs {
				msgs[i] = &queue.Message{Body: body}
			}
			opts := queue.ReceiveOptions{MaxMessages: bc.batch, NoWait: true}
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for n < b.N {
				if err := q.Send(ctx, msgs...); err != nil {
					b.Fatal(err)
				}
				ds, err := q.Receive(ctx, opts)
				if err != nil || len(ds) != bc.batch {
					b.Fatalf("receive: %d, %v", len(ds), err)
				}
				if err := q.Ack(ctx, ds...); err != nil {
					b.Fatal(err)
				}
				n += bc.batch
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
