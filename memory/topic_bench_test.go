package memory

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// BenchmarkTopicPublish publishes 256-byte messages to a topic with 10
// filtered subscriptions, of which each message matches 2, and drains the
// queues as it goes. One op is one published message.
func BenchmarkTopicPublish(b *testing.B) {
	ctx := context.Background()
	t, err := NewTopic("bench", TopicOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var qs []*Queue
	for i := range 10 {
		q, err := NewQueue(fmt.Sprintf("bench-%d", i), QueueOptions{})
		if err != nil {
			b.Fatal(err)
		}
		policy := fmt.Sprintf(`{"shard":[%d],"kind":[{"prefix":"order"}]}`, i%5)
		if _, err := t.SubscribeQueue(q, SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{FilterPolicy: policy, RawDelivery: true}}); err != nil {
			b.Fatal(err)
		}
		qs = append(qs, q)
	}
	body := bytes.Repeat([]byte("x"), 256)
	msgs := make([]*pubsub.Message, 10)
	for i := range msgs {
		msgs[i] = &pubsub.Message{Body: body, Attributes: queue.Attributes{
			"shard": queue.Int(int64(i % 5)), "kind": queue.String("order.placed")}}
	}
	drain := func() {
		for _, q := range qs {
			for {
				ds, _ := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, NoWait: true})
				if len(ds) == 0 {
					break
				}
				_ = q.Ack(ctx, ds...)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		if err := t.Publish(ctx, msgs...); err != nil {
			b.Fatal(err)
		}
		n += len(msgs)
		if n%1000 == 0 {
			b.StopTimer()
			drain()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
