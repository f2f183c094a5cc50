// Command events routes "Order Placed" events on an event bus the way an
// Amazon EventBridge application does, on the in-memory driver:
//
//	go run ./examples/events
//
// One rule turns every placed order into a short notification with an
// input transformer and sends it to a queue; a second rule catches the
// high-value orders with a numeric pattern and sends their detail to
// another queue. The program puts a few events, drains both queues with a
// consumer.Consumer, prints what happened and exits.
//
// The bus and queues are opened by URL, so the same program runs on other
// drivers, for example with -bus and -notify pointing at EventBridge and
// SQS drivers.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sync/atomic"
	"time"

	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/eventbus"
	_ "github.com/postroom/postroom/memory" // registers mem://
	"github.com/postroom/postroom/queue"
)

// config names the bus and the queues the program uses.
type config struct {
	bus, notify, highValue string
}

func main() {
	var c config
	flag.StringVar(&c.bus, "bus", "mem://shop", "URL of the event bus")
	flag.StringVar(&c.notify, "notify", "mem://order-notifications", "URL of the queue of order notifications")
	flag.StringVar(&c.highValue, "high", "mem://high-value-orders", "URL of the queue of high-value orders")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, c); err != nil {
		log.SetFlags(0)
		log.Fatalf("events: %v", err)
	}
}

const (
	orderPlaced  = `{"source":["com.example.shop"],"detail-type":["Order Placed"]}`
	highValue    = `{"source":["com.example.shop"],"detail-type":["Order Placed"],"detail":{"order":{"total":[{"numeric":[">=",1000]}]}}}`
	notification = `{"message": "Order <id> placed by <customer>", "orderId": <id>, "total": <total>, "rule": <aws.events.rule-name>}`
)

func run(ctx context.Context, w io.Writer, c config) error {
	bus, err := eventbus.Open(ctx, c.bus)
	if err != nil {
		return err
	}
	defer bus.Close()
	rules, ok := bus.(eventbus.RuleManager)
	if !ok {
		return fmt.Errorf("the bus %s cannot manage rules", c.bus)
	}
	notify, err := queue.Open(ctx, c.notify)
	if err != nil {
		return err
	}
	defer notify.Close()
	high, err := queue.Open(ctx, c.highValue)
	if err != nil {
		return err
	}
	defer high.Close()

	// aws events put-rule --name order-placed --event-pattern …
	// aws events put-targets --rule order-placed --targets '[{…"InputTransformer":…}]'
	if err := rules.PutRule(ctx, eventbus.Rule{Name: "order-placed", EventPattern: orderPlaced}); err != nil {
		return err
	}
	if err := rules.PutTargets(ctx, "order-placed", eventbus.Target{
		ID:    "notify",
		Queue: notify,
		InputTransformer: &eventbus.InputTransformer{
			InputPathsMap: map[string]string{
				"id":       "$.detail.order.id",
				"customer": "$.detail.customer.name",
				"total":    "$.detail.order.total",
			},
			InputTemplate: notification,
		},
	}); err != nil {
		return err
	}
	fmt.Fprintf(w, "rule order-placed: %s\n  → %s with input template %s\n", orderPlaced, c.notify, notification)

	if err := rules.PutRule(ctx, eventbus.Rule{Name: "high-value-orders", EventPattern: highValue}); err != nil {
		return err
	}
	if err := rules.PutTargets(ctx, "high-value-orders", eventbus.Target{ID: "review", Queue: high, InputPath: "$.detail"}); err != nil {
		return err
	}
	fmt.Fprintf(w, "rule high-value-orders: %s\n  → %s with input path $.detail\n", highValue, c.highValue)

	// aws events put-events --entries …
	events := []*eventbus.Event{
		order("o-1001", "Ada", 25.50),
		order("o-1002", "Grace", 1499),
		order("o-1003", "Edsger", 999.99),
		{Source: "com.example.shop", DetailType: "Order Shipped", Detail: json.RawMessage(`{"order":{"id":"o-1000"}}`)},
	}
	if err := bus.Put(ctx, events...); err != nil {
		return err
	}
	for _, e := range events {
		fmt.Fprintf(w, "put %-13s %s id=%s\n", e.DetailType, e.Detail, e.ID)
	}

	if err := drain(ctx, notify, 3, func(d *queue.Delivery) {
		fmt.Fprintf(w, "notification:     %s\n", d.Body)
	}); err != nil {
		return err
	}
	if err := drain(ctx, high, 1, func(d *queue.Delivery) {
		fmt.Fprintf(w, "high-value order: %s\n", d.Body)
	}); err != nil {
		return err
	}
	for _, q := range []queue.Queue{notify, high} {
		if st, ok := q.(queue.Stater); ok {
			s, err := st.Stats(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "queue drained: %d visible, %d in flight\n", s.Visible, s.InFlight)
		}
	}
	return nil
}

// order is an "Order Placed" event.
func order(id, customer string, total float64) *eventbus.Event {
	detail, _ := json.Marshal(map[string]any{
		"order":    map[string]any{"id": id, "total": total},
		"customer": map[string]any{"name": customer},
	})
	return &eventbus.Event{Source: "com.example.shop", DetailType: "Order Placed", Detail: detail}
}

// drain runs a consumer.Consumer on r until it has handled want messages (and
// acked them), or 10 seconds have passed.
func drain(ctx context.Context, r queue.Receiver, want int, handle func(*queue.Delivery)) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var handled atomic.Int64
	c, err := consumer.New(r, func(_ context.Context, d *queue.Delivery) error {
		handle(d)
		if handled.Add(1) == int64(want) {
			cancel() // stop polling; Run acks what was handled before it returns
		}
		return nil
	}, consumer.Options{Concurrency: 1, WaitTime: time.Second})
	if err != nil {
		return err
	}
	if err := c.Run(ctx); err != nil {
		return err
	}
	if n := handled.Load(); n != int64(want) {
		return fmt.Errorf("handled %d messages, want %d", n, want)
	}
	return nil
}
