package memory_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

// A rule with a numeric pattern sends the big orders to a queue, reshaped
// by an input transformer.
func ExampleNewBus() {
	ctx := context.Background()
	bus, err := memory.NewBus("shop", memory.BusOptions{})
	if err != nil {
		panic(err)
	}
	defer bus.Close()
	q, err := memory.NewQueue("big-orders", memory.QueueOptions{})
	if err != nil {
		panic(err)
	}
	err = bus.PutRule(ctx, eventbus.Rule{Name: "big-orders", EventPattern: `{"detail":{"total":[{"numeric":[">=",100]}]}}`})
	if err != nil {
		panic(err)
	}
	err = bus.PutTargets(ctx, "big-orders", eventbus.Target{ID: "q", Queue: q, InputTransformer: &eventbus.InputTransformer{
		InputPathsMap: map[string]string{"id": "$.detail.id", "total": "$.detail.total"},
		InputTemplate: `{"order": <id>, "total": <total>, "note": "order <id> needs a review"}`,
	}})
	if err != nil {
		panic(err)
	}
	err = bus.Put(ctx,
		&eventbus.Event{Source: "com.example.shop", DetailType: "Order Placed", Detail: json.RawMessage(`{"id":"o-1","total":20}`)},
		&eventbus.Event{Source: "com.example.shop", DetailType: "Order Placed", Detail: json.RawMessage(`{"id":"o-2","total":250}`)},
	)
	if err != nil {
		panic(err)
	}
	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, NoWait: true})
	if err != nil {
		panic(err)
	}
	for _, d := range ds {
		fmt.Println(string(d.Body))
	}
	// Output:
	// {"order":"o-2","total":250,"note":"order o-2 needs a review"}
}
