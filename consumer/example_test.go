package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

func ExampleConsumer() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	q, err := memory.NewQueue("example-orders", memory.QueueOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	for _, body := range []string{"apple", "banana", "cherry"} {
		if err := q.Send(ctx, &queue.Message{Body: []byte(body)}); err != nil {
			log.Fatal(err)
		}
	}

	handled := 0
	c, err := consumer.New(q, func(ctx context.Context, d *queue.Delivery) error {
		fmt.Printf("handled %s\n", d.Body)
		if handled++; handled == 3 {
			stop() // Run returns once the acks are flushed
		}
		return nil // ack
	}, consumer.Options{Concurrency: 1})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Run(ctx); err != nil {
		log.Fatal(err)
	}

	st, _ := q.Stats(context.Background())
	fmt.Println("left in the queue:", st.Visible+st.InFlight+st.Delayed)
	// Output:
	// handled apple
	// handled banana
	// handled cherry
	// left in the queue: 0
}

func ExampleNewBatch() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	q, _ := memory.NewQueue("example-batch", memory.QueueOptions{})
	defer q.Close()
	dlq, _ := memory.NewQueue("example-batch-dlq", memory.QueueOptions{})
	defer dlq.Close()
	_ = q.Send(ctx,
		&queue.Message{Body: []byte(`{"n":1}`)},
		&queue.Message{Body: []byte(`not json`)},
		&queue.Message{Body: []byte(`{"n":3}`)})

	c, err := consumer.NewBatch(q, func(ctx context.Context, ds []*queue.Delivery) error {
		fmt.Println("batch of", len(ds))
		errs := make([]error, len(ds)) // index-aligned: nil means handled
		for i, d := range ds {
			if d.Body[0] != '{' {
				errs[i] = consumer.Permanent(errors.New("not a JSON object"))
			}
		}
		stop()
		return postroom.NewBatchError("queue", errs)
	}, consumer.Options{Retry: consumer.Retry{DeadLetter: dlq}})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Run(ctx); err != nil {
		log.Fatal(err)
	}

	ds, _ := dlq.Receive(context.Background(), queue.ReceiveOptions{NoWait: true})
	for _, d := range ds {
		fmt.Printf("dead-lettered %s\n", d.Body)
	}
	st, _ := q.Stats(context.Background())
	fmt.Println("left in the queue:", st.Visible+st.InFlight+st.Delayed)
	// Output:
	// batch of 3
	// dead-lettered not json
	// left in the queue: 0
}
