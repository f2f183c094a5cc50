// Command amazonmq sends messages through a broker and receives them back:
// on a queue (point to point) and on a topic with two subscriptions (fan
// out). It runs on the in-memory broker by default, and on a real broker by
// URL, the same program:
//
//	go run ./examples/amazonmq
//	go run ./examples/amazonmq -broker amqp://guest:guest@127.0.0.1:5672/
//	go run ./examples/amazonmq -broker stomp://127.0.0.1:61613
//	go run ./examples/amazonmq -broker mqtt://127.0.0.1:1884
//
// Amazon MQ endpoints are TLS-only: amqps://user:pass@b-….mq.us-east-1.amazonaws.com:5671,
// stomp+ssl://b-…:61614, mqtts://b-…:8883.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/postroom/postroom"
	_ "github.com/postroom/postroom/amazonmq/amqp"
	_ "github.com/postroom/postroom/amazonmq/mqtt"
	_ "github.com/postroom/postroom/amazonmq/stomp"
	"github.com/postroom/postroom/broker"
	_ "github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

func main() {
	url := flag.String("broker", "mem://", "URL of the broker")
	name := flag.String("name", fmt.Sprintf("postroom-example-%d", time.Now().Unix()), "name of the queue and topic to use")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, *url, *name); err != nil {
		log.SetFlags(0)
		log.Printf("amazonmq: %v", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, name string) error {
	b, err := broker.Open(ctx, url)
	if err != nil {
		return err
	}
	defer b.Close()
	stop := b.NotifyState(func(c broker.StateChange) { fmt.Printf("broker: %s → %s\n", c.From, c.To) })
	defer stop()
	caps := b.Capabilities()
	fmt.Printf("connected to %s (queues=%v topics=%v durable=%v nack=%v)\n", url, caps.Queues, caps.Topics, caps.Durable, caps.Nack)

	if caps.Queues {
		if err := pointToPoint(ctx, b, name); err != nil {
			return fmt.Errorf("queue: %w", err)
		}
	} else {
		_, err := b.Queue(ctx, name)
		fmt.Printf("queue: this protocol has none (%v)\n", errors.Is(err, postroom.ErrUnsupported))
	}
	if caps.Topics {
		if err := fanOut(ctx, b, name); err != nil {
			return fmt.Errorf("topic: %w", err)
		}
	}
	return nil
}

func pointToPoint(ctx context.Context, b broker.Broker, name string) error {
	q, err := b.Queue(ctx, name)
	if err != nil {
		return err
	}
	defer deleteIfPossible(q)
	m := &queue.Message{Body: []byte("order 42 placed"), Attributes: queue.Attributes{"amount": queue.Number("99.5")}}
	if err := q.Send(ctx, m); err != nil {
		return err
	}
	fmt.Printf("queue: sent %q\n", m.Body)
	d, err := receiveOne(ctx, q)
	if err != nil {
		return err
	}
	fmt.Printf("queue: received %q amount=%s (receive count %d)\n", d.Body, d.Attributes.Get("amount"), d.ReceiveCount)
	return q.Ack(ctx, d)
}

func fanOut(ctx context.Context, b broker.Broker, name string) error {
	t, err := b.Topic(ctx, name)
	if err != nil {
		return err
	}
	defer deleteIfPossible(t)
	var subs []pubsub.Subscription
	for range 2 {
		s, err := t.Subscribe(ctx, pubsub.SubscribeOptions{RawDelivery: true})
		if err != nil {
			return err
		}
		defer s.Close()
		subs = append(subs, s)
	}
	m := &pubsub.Message{Body: []byte("price changed")}
	if err := t.Publish(ctx, m); err != nil {
		return err
	}
	fmt.Printf("topic: published %q\n", m.Body)
	for i, s := range subs {
		d, err := receiveOne(ctx, s)
		if err != nil {
			return err
		}
		fmt.Printf("topic: subscription %d received %q\n", i+1, d.Body)
		if err := s.Ack(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// deleteIfPossible removes a queue or topic from the broker when the driver
// can (a broker keeps durable queues after the program ends).
func deleteIfPossible(v any) {
	if d, ok := v.(interface{ Delete(context.Context) error }); ok {
		_ = d.Delete(context.Background())
	}
}

func receiveOne(ctx context.Context, r queue.Receiver) (*queue.Delivery, error) {
	for {
		ds, err := r.Receive(ctx, queue.ReceiveOptions{MaxMessages: 1, WaitTime: 5 * time.Second})
		if err != nil {
			return nil, err
		}
		if len(ds) > 0 {
			return ds[0], nil
		}
	}
}
