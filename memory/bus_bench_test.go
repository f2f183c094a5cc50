package memory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

// discard is a queue target that counts what it is sent.
type discard struct{ n atomic.Int64 }

func (d *discard) Send(ctx context.Context, msgs ...*queue.Message) error {
	d.n.Add(int64(len(msgs)))
	return nil
}

// noisePattern returns the i-th of 1,000 patterns of every kind that do not
// match the benchmark's events.
func noisePattern(i int) string {
	switch i % 10 {
	case 0:
		return fmt.Sprintf(`{"source":["com.example.svc-%d"]}`, i)
	case 1:
		return fmt.Sprintf(`{"detail-type":[{"prefix":"Type%d-"}]}`, i)
	case 2:
		return fmt.Sprintf(`{"detail":{"amount":[{"numeric":[">",%d,"<=",%d]}]}}`, 1000+i, 2000+i)
	case 3:
		return fmt.Sprintf(`{"detail":{"status":[{"anything-but":["s%d","t%d"]}],"kind":["k%d"]}}`, i, i, i)
	case 4:
		return fmt.Sprintf(`{"detail":{"sku":[{"wildcard":"sku-%d-*"}]}}`, i)
	case 5:
		return fmt.Sprintf(`{"detail":{"flag%d":[{"exists":true}]}}`, i)
	case 6:
		return fmt.Sprintf(`{"source":[{"suffix":".svc%d"}]}`, i)
	case 7:
		return fmt.Sprintf(`{"detail":{"city":[{"equals-ignore-case":"City%d"}]}}`, i)
	case 8:
		return fmt.Sprintf(`{"$or":[{"detail":{"a":["%d"]}},{"detail":{"b":[%d]}}]}`, i, i)
	default:
		return fmt.Sprintf(`{"detail":{"ip":[{"cidr":"10.%d.0.0/16"}]}}`, i%256)
	}
}

// BenchmarkBusPutEvents measures Put on a bus with 1,000 rules of every
// pattern kind (and, for comparison, with 10), of which three match each
// event and deliver it to a target each: as is, through an InputPath, and
// through an input transformer.
func BenchmarkBusPutEvents(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct{ rules, batch int }{{1000, 1}, {1000, 10}, {10, 10}} {
		batch := bc.batch
		b.Run(fmt.Sprintf("rules=%d/batch=%d", bc.rules, batch), func(b *testing.B) {
			bus, err := memory.NewBus("bench", memory.BusOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer bus.Close()
			for i := range bc.rules - 3 {
				if err := bus.PutRule(ctx, eventbus.Rule{Name: fmt.Sprint("noise-", i), EventPattern: noisePattern(i)}); err != nil {
					b.Fatal(i, err)
				}
			}
			sink := &discard{}
			matching := []struct {
				name, pattern string
				target        eventbus.Target
			}{
				{"match-source", `{"source":["com.example.shop"]}`, eventbus.Target{ID: "t", Queue: sink}},
				{"match-amount", `{"detail":{"amount":[{"numeric":[">=",10]}]}}`, eventbus.Target{ID: "t", Queue: sink, InputPath: "$.detail"}},
				{"match-type", `{"detail-type":[{"wildcard":"Order *"}]}`, eventbus.Target{ID: "t", Queue: sink,
					InputTransformer: &eventbus.InputTransformer{
						InputPathsMap: map[string]string{"sku": "$.detail.sku", "amount": "$.detail.amount"},
						InputTemplate: `{"sku": <sku>, "amount": <amount>, "rule": <aws.events.rule-name>}`,
					}}},
			}
			for _, m := range matching {
				if err := bus.PutRule(ctx, eventbus.Rule{Name: m.name, EventPattern: m.pattern}); err != nil {
					b.Fatal(err)
				}
				if err := bus.PutTargets(ctx, m.name, m.target); err != nil {
					b.Fatal(err)
				}
			}
			detail := json.RawMessage(`{"amount":42.5,"status":"placed","sku":"sku-x-1","city":"Paris","ip":"192.168.1.1","a":"x","b":1,"kind":"none","lines":[{"sku":"s1","qty":2},{"sku":"s2","qty":1}]}`)
			events := make([]*eventbus.Event, batch)
			for i := range events {
				events[i] = &eventbus.Event{Source: "com.example.shop", DetailType: "Order Placed", Detail: detail,
					Resources: []string{"arn:aws:shop:::order/o-1"}}
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := bus.Put(ctx, events...); err != nil {
					b.Fatal(err)
				}
			}
			if got, want := sink.n.Load(), int64(3*batch*b.N); got != want {
				b.Fatalf("delivered %d, want %d", got, want)
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
