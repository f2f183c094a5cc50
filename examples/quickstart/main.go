// Command quickstart walks the classic Amazon SQS tutorial — create a
// queue, send "Hello, SQS!", receive it, delete it with its receipt handle —
// on the in-memory driver, with no network and no credentials:
//
//	go run ./examples/quickstart
//
// The same program runs on any other driver by URL, for example
//
//	go run ./examples/quickstart -queue 'amqp://guest:guest@127.0.0.1:5672/?queue=MyQueue'
//	go run ./examples/quickstart -queue 'stomp://127.0.0.1:61613/MyQueue'
//	go run ./examples/quickstart -queue awssqs://MyQueue
//
// The URL may also come from the environment variable QUEUE_URL. On Amazon
// SQS the queue must exist (aws sqs create-queue --queue-name MyQueue), and
// the AWS SDK's default configuration applies: AWS_REGION, credentials from
// the environment, the shared files or the instance role, and
// AWS_ENDPOINT_URL for a local endpoint such as `postroom serve`.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	_ "github.com/postroom/postroom/amazonmq/amqp"  // registers amqp:// and amqps://
	_ "github.com/postroom/postroom/amazonmq/stomp" // registers stomp:// and stomp+ssl://
	_ "github.com/postroom/postroom/awssqs"         // registers awssqs:// and SQS's https:// queue URLs
	_ "github.com/postroom/postroom/memory"         // registers mem://
	"github.com/postroom/postroom/queue"
)

func main() {
	def := "mem://MyQueue?visibility=30s"
	if env := os.Getenv("QUEUE_URL"); env != "" {
		def = env
	}
	url := flag.String("queue", def, "URL of the queue to use (default from $QUEUE_URL)")
	flag.Parse()
	if err := run(context.Background(), *url); err != nil {
		log.SetFlags(0)
		log.Fatalf("quickstart: %v", err)
	}
}

func run(ctx context.Context, url string) error {
	// aws sqs create-queue --queue-name MyQueue
	q, err := queue.Open(ctx, url)
	if err != nil {
		return err
	}
	defer q.Close()
	fmt.Printf("created queue %s\n", url)

	// aws sqs send-message --queue-url … --message-body "Hello, SQS!"
	m := &queue.Message{
		Body:       []byte("Hello, SQS!"),
		Attributes: queue.Attributes{"Author": queue.String("quickstart")},
	}
	if err := q.Send(ctx, m); err != nil {
		return err
	}
	fmt.Printf("sent     id=%s body=%q\n", m.ID, m.Body)

	// aws sqs receive-message --queue-url … --wait-time-seconds 10
	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 1, WaitTime: 10 * time.Second})
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		return fmt.Errorf("no message received within 10s")
	}
	d := ds[0]
	fmt.Printf("received id=%s body=%q author=%s receive-count=%d\n", d.ID, d.Body, d.Attributes.Get("Author"), d.ReceiveCount)
	fmt.Printf("         receipt=%s\n", d.Receipt)

	// aws sqs delete-message --queue-url … --receipt-handle …
	if err := q.Ack(ctx, d); err != nil {
		return err
	}
	fmt.Printf("deleted  id=%s\n", d.ID)

	if st, ok := q.(queue.Stater); ok {
		s, err := st.Stats(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("queue now holds %d visible, %d in flight, %d delayed\n", s.Visible, s.InFlight, s.Delayed)
	}
	return nil
}
