// Command fanout shows the SNS → SQS fan-out on the in-memory drivers: an
// "order placed" topic delivers into a billing queue and a shipping queue,
// each subscribed with its own filter policy, and each queue is drained by
// a consumer.Consumer.
//
//	go run ./examples/fanout
//
// Billing takes every order with an amount (a numeric filter on a Number
// attribute); shipping takes only orders that ship, and reads the SNS JSON
// envelope to get at the published message.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatalf("fanout: %v", err)
	}
}

type order struct {
	ID       string  `json:"id"`
	Amount   float64 `json:"amount"`
	Shipping string  `json:"shipping"` // "" for digital goods
}

func run(ctx context.Context, out *os.File) error {
	topic, err := memory.NewTopic("order-placed", memory.TopicOptions{})
	if err != nil {
		return err
	}
	defer topic.Close()

	billing, err := memory.NewQueue("billing", memory.QueueOptions{})
	if err != nil {
		return err
	}
	defer billing.Close()
	shipping, err := memory.NewQueue("shipping", memory.QueueOptions{})
	if err != nil {
		return err
	}
	defer shipping.Close()

	// Billing: orders of 10 or more, raw bodies.
	if _, err := topic.SubscribeQueue(billing, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{
		FilterPolicy: `{"amount":[{"numeric":[">=",10]}]}`,
		RawDelivery:  true,
	}}); err != nil {
		return err
	}
	// Shipping: orders that ship, chosen by their JSON body, in the SNS envelope.
	if _, err := topic.SubscribeQueue(shipping, memory.SubscriptionOptions{SubscribeOptions: pubsub.SubscribeOptions{
		FilterPolicy:      `{"shipping":[{"anything-but":""}]}`,
		FilterPolicyScope: pubsub.ScopeMessageBody,
	}}); err != nil {
		return err
	}

	orders := []order{
		{ID: "o-1", Amount: 25, Shipping: "express"},
		{ID: "o-2", Amount: 5, Shipping: "standard"},
		{ID: "o-3", Amount: 99.5},
		{ID: "o-4", Amount: 3},
	}
	for _, o := range orders {
		body, _ := json.Marshal(o)
		m := &pubsub.Message{Body: body, Subject: "order placed",
			Attributes: queue.Attributes{"amount": queue.Float(o.Amount)}}
		if err := topic.Publish(ctx, m); err != nil {
			return err
		}
		fmt.Fprintf(out, "published %s (amount %v, shipping %q)\n", o.ID, o.Amount, o.Shipping)
	}

	var mu sync.Mutex
	var lines []string
	record := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	bill := func(ctx context.Context, d *queue.Delivery) error {
		var o order
		if err := json.Unmarshal(d.Body, &o); err != nil {
			return consumer.Permanent(err)
		}
		record("billing  charged %s %.2f", o.ID, o.Amount)
		return nil
	}
	ship := func(ctx context.Context, d *queue.Delivery) error {
		var env memory.Notification // the SNS envelope
		if err := json.Unmarshal(d.Body, &env); err != nil {
			return consumer.Permanent(err)
		}
		var o order
		if err := json.Unmarshal([]byte(env.Message), &o); err != nil {
			return consumer.Permanent(err)
		}
		record("shipping sent %s by %s (subject %q)", o.ID, o.Shipping, env.Subject)
		return nil
	}
	if err := drain(ctx, billing, bill); err != nil {
		return err
	}
	if err := drain(ctx, shipping, ship); err != nil {
		return err
	}
	sort.Strings(lines)
	fmt.Fprintln(out, strings.Join(lines, "\n"))
	return nil
}

// drain runs a consumer on q until q is empty.
func drain(ctx context.Context, q *memory.Queue, h consumer.Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, err := consumer.New(q, h, consumer.Options{Concurrency: 4, WaitTime: 100 * time.Millisecond,
		Hooks: consumer.Hooks{EmptyPoll: func() { cancel() }}})
	if err != nil {
		return err
	}
	return c.Run(ctx)
}
