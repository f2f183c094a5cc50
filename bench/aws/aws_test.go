// Package aws compares postroom's SQS driver with Go CDK's awssnssqs and
// Watermill's SQS Pub/Sub (watermill-aws) on the in-process local AWS
// endpoint (package localaws), through aws-sdk-go-v2 SQS clients with the
// same configuration: 256-byte messages, conc producers sending one
// message at a time and conc consumers receiving and acking one message at
// a time. It reports throughput, SQS API calls per message (every request
// the client makes while the benchmark is timed: sends, receives, including
// empty ones, and deletes), the ReceiveMessage calls among them (recvs/msg)
// and allocations.
//
//	go test -run '^$' -bench . -benchtime 4000x ./aws/
package aws

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsqs "github.com/ThreeDotsLabs/watermill-aws/sqs"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"gocloud.dev/pubsub"
	"gocloud.dev/pubsub/awssnssqs"

	"github.com/postroom/postroom/awssqs"
	"github.com/postroom/postroom/localaws"
	"github.com/postroom/postroom/queue"
)

const bodySize = 256

var body = bytes.Repeat([]byte("b"), bodySize)

// counter is an http.RoundTripper that counts the requests it passes on,
// and the ReceiveMessage ones apart.
type counter struct {
	next     http.RoundTripper
	n, recvs atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	if r.Header.Get("X-Amz-Target") == "AmazonSQS.ReceiveMessage" {
		c.recvs.Add(1)
	}
	return c.next.RoundTrip(r)
}

// env is one benchmark's endpoint, client and queue.
type env struct {
	calls *counter
	cfg   aws.Config // for libraries that make their own client
	sqs   *sqs.Client
	name  string
	url   string
}

var seq atomic.Int64

func newEnv(b *testing.B) *env {
	b.Helper()
	_, cfg := localaws.NewTestServer(b, localaws.Options{})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	c := &counter{next: tr}
	cfg.HTTPClient = &http.Client{Transport: c}
	client := sqs.NewFromConfig(cfg)
	name := fmt.Sprintf("bench-%d", seq.Add(1))
	out, err := client.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tr.CloseIdleConnections)
	return &env{calls: c, cfg: cfg, sqs: client, name: name, url: aws.ToString(out.QueueUrl)}
}

// run times the workload: conc producers share b.N sends, and conc
// consumers run recv until b.N messages were acked; then flush, when set,
// makes the calls the library still owes (acks it batches in the
// background). It reports msgs/s and calls/msg.
func run(b *testing.B, e *env, conc int, send func(context.Context) error, recv func(ctx context.Context, acked *atomic.Int64) error, flush func()) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var acked atomic.Int64
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ReportAllocs()
	b.ResetTimer()
	calls0, recvs0 := e.calls.n.Load(), e.calls.recvs.Load()
	start := time.Now()
	rctx, stop := context.WithCancel(ctx)
	var wg, consumers sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := send(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
		consumers.Go(func() {
			for rctx.Err() == nil {
				if err := recv(rctx, &acked); err != nil && rctx.Err() == nil {
					b.Error(err)
					return
				}
				if acked.Load() >= int64(b.N) {
					stop()
				}
			}
		})
	}
	wg.Wait()
	consumers.Wait()
	if flush != nil {
		flush()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(e.calls.n.Load()-calls0)/float64(b.N), "calls/msg")
	b.ReportMetric(float64(e.calls.recvs.Load()-recvs0)/float64(b.N), "recvs/msg")
}

func BenchmarkSendReceiveAck(b *testing.B) {
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("conc%d/postroom", conc), func(b *testing.B) { benchPostroom(b, conc) })
		b.Run(fmt.Sprintf("conc%d/gocloud-awssnssqs", conc), func(b *testing.B) { benchGoCloud(b, conc) })
		b.Run(fmt.Sprintf("conc%d/watermill-aws", conc), func(b *testing.B) { benchWatermill(b, conc) })
	}
}

// benchPostroom: Send of one message; Receive of up to 10 with a long
// poll, then an Ack of each delivery in turn. The driver coalesces the
// single sends and acks of concurrent goroutines into batch calls.
func benchPostroom(b *testing.B, conc int) {
	e := newEnv(b)
	q, err := awssqs.New(context.Background(), e.sqs, e.url, awssqs.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	run(b, e, conc,
		func(ctx context.Context) error { return q.Send(ctx, &queue.Message{Body: body}) },
		func(ctx context.Context, acked *atomic.Int64) error {
			ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: awssqs.MaxBatch, WaitTime: time.Second})
			if err != nil {
				return err
			}
			for _, d := range ds {
				if err := q.Ack(ctx, d); err != nil {
					return err
				}
				acked.Add(1)
			}
			return nil
		}, nil)
}

// benchGoCloud: Go CDK's Topic.Send and Subscription.Receive and Ack with
// their default batching, on the same queue kind, with raw bodies.
func benchGoCloud(b *testing.B, conc int) {
	e := newEnv(b)
	ctx := context.Background()
	topic := awssnssqs.OpenSQSTopicV2(ctx, e.sqs, e.url, nil)
	sub := awssnssqs.OpenSubscriptionV2(ctx, e.sqs, e.url, &awssnssqs.SubscriptionOptions{Raw: true})
	shutdown := func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = topic.Shutdown(sctx)
		_ = sub.Shutdown(sctx) // sends the acks it holds
	}
	run(b, e, conc,
		func(ctx context.Context) error { return topic.Send(ctx, &pubsub.Message{Body: body}) },
		func(ctx context.Context, acked *atomic.Int64) error {
			m, err := sub.Receive(ctx)
			if err != nil {
				return err
			}
			m.Ack()
			acked.Add(1)
			return nil
		}, shutdown)
}

// benchWatermill: Watermill's Publisher.Publish of one message
// (SendMessage) and conc subscriptions, each receiving with its defaults
// (one message a long poll) and deleting a message once it is acked.
func benchWatermill(b *testing.B, conc int) {
	e := newEnv(b)
	logger := watermill.NopLogger{}
	pub, err := wsqs.NewPublisher(wsqs.PublisherConfig{AWSConfig: e.cfg, DoNotCreateQueueIfNotExists: true}, logger)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	sub, err := wsqs.NewSubscriber(wsqs.SubscriberConfig{AWSConfig: e.cfg, DoNotCreateQueueIfNotExists: true}, logger)
	if err != nil {
		b.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	chans := make(chan (<-chan *message.Message), conc)
	for range conc {
		ch, err := sub.Subscribe(sctx, e.name)
		if err != nil {
			b.Fatal(err)
		}
		chans <- ch
	}
	run(b, e, conc,
		func(context.Context) error { return pub.Publish(e.name, message.NewMessage(watermill.NewUUID(), body)) },
		func(ctx context.Context, acked *atomic.Int64) error {
			var ch <-chan *message.Message
			select {
			case ch = <-chans: // this consumer's subscription, for its whole run
			case <-ctx.Done():
				return ctx.Err()
			}
			for {
				select {
				case m := <-ch:
					m.Ack()
					if acked.Add(1) >= int64(b.N) {
						return nil
					}
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}, func() { _ = sub.Close() })
}
