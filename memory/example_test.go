package memory_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// Send, receive and acknowledge, as with SQS: an unacknowledged message
// comes back with a higher receive count.
func ExampleNewQueue() {
	ctx := context.Background()
	q, err := memory.NewQueue("orders", memory.QueueOptions{})
	if err != nil {
		panic(err)
	}
	defer q.Close()

	if err := q.Send(ctx, &queue.Message{Body: []byte("order 1"), Attributes: queue.Attributes{"kind": queue.String("new")}}); err != nil {
		panic(err)
	}
	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10})
	if err != nil {
		panic(err)
	}
	d := ds[0]
	fmt.Println(string(d.Body), d.Attributes.Get("kind"), d.ReceiveCount)

	// Not acknowledged: visible again at once, received a second time.
	if err := q.Nack(ctx, 0, d); err != nil {
		panic(err)
	}
	ds, _ = q.Receive(ctx, queue.ReceiveOptions{})
	fmt.Println(string(ds[0].Body), ds[0].ReceiveCount)
	if err := q.Ack(ctx, ds...); err != nil {
		panic(err)
	}
	st, _ := q.Stats(ctx)
	fmt.Println("left:", st.Visible+st.InFlight)
	// Output:
	// order 1 new 1
	// order 1 2
	// left: 0
}

// A topic fans out into queues, each with its own filter policy: the SNS →
// SQS fan-out.
func ExampleNewTopic() {
	ctx := context.Background()
	w := memory.NewWorld(memory.WorldOptions{})
	defer w.Close()
	topic, _ := w.NewTopic("orders", memory.TopicOptions{})
	big, _ := w.NewQueue("big-orders", memory.QueueOptions{})
	all, _ := w.NewQueue("all-orders", memory.QueueOptions{})

	_, err := topic.SubscribeQueue(big, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{
		FilterPolicy: `{"total":[{"numeric":[">=",100]}]}`,
		RawDelivery:  true,
	}})
	if err != nil {
		panic(err)
	}
	// Without raw delivery, the queue gets SNS's JSON envelope.
	if _, err := topic.SubscribeQueue(all, memory.SubscriptionOptions{}); err != nil {
		panic(err)
	}
	for _, total := range []string{"20", "150"} {
		err := topic.Publish(ctx, &pubsub.Message{Body: []byte("total " + total), Attributes: queue.Attributes{"total": queue.Number(total)}})
		if err != nil {
			panic(err)
		}
	}

	ds, _ := big.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10})
	for _, d := range ds {
		fmt.Println("big:", string(d.Body))
	}
	ds, _ = all.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10})
	for _, d := range ds {
		var n memory.Notification
		if err := json.Unmarshal(d.Body, &n); err != nil {
			panic(err)
		}
		fmt.Println("all:", n.Message, "from", n.TopicARN)
	}
	// Output:
	// big: total 150
	// all: total 20 from arn:aws:sns:us-east-1:000000000000:orders
	// all: total 150 from arn:aws:sns:us-east-1:000000000000:orders
}

// A world is one account in one region: its resources find each other by
// ARN, and another world's "orders" is another queue.
func ExampleNewWorld() {
	ctx := context.Background()
	w := memory.NewWorld(memory.WorldOptions{AccountID: "123456789012", Region: "eu-west-1"})
	defer w.Close()

	orders, _ := w.NewQueue("orders", memory.QueueOptions{})
	dlq, _ := w.NewQueue("orders-dlq", memory.QueueOptions{})
	_, err := w.NewQueue("payments", memory.QueueOptions{
		RedrivePolicy: &memory.RedrivePolicy{DeadLetterQueueARN: dlq.ARN(), MaxReceiveCount: 3},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(orders.ARN())
	fmt.Println(orders.URL())

	// An EventBridge target named by ARN is the world's queue of that ARN.
	bus, _ := w.Bus("default")
	_ = bus.PutRule(ctx, eventbus.Rule{Name: "all", EventPattern: `{"source":["shop"]}`})
	_ = bus.PutTargets(ctx, "all", eventbus.Target{ID: "orders", ARN: "arn:aws:sqs:eu-west-1:123456789012:orders", InputPath: "$.detail"})
	_ = bus.Put(ctx, &eventbus.Event{Source: "shop", DetailType: "OrderPlaced", Detail: []byte(`{"id":"o-1"}`)})
	ds, _ := orders.Receive(ctx, queue.ReceiveOptions{})
	fmt.Println(string(ds[0].Body))

	// Another world has its own "orders", empty.
	other := memory.NewWorld(memory.WorldOptions{})
	defer other.Close()
	theirs, _ := other.OpenQueue(ctx, "mem://orders")
	st, _ := theirs.Stats(ctx)
	fmt.Println(theirs.ARN(), st.Visible)

	for _, q := range w.Queues("") {
		fmt.Println(q.Name())
	}
	// Output:
	// arn:aws:sqs:eu-west-1:123456789012:orders
	// https://sqs.eu-west-1.amazonaws.com/123456789012/orders
	// {"id":"o-1"}
	// arn:aws:sqs:us-east-1:000000000000:orders 0
	// orders
	// orders-dlq
	// payments
}
