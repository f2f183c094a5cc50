// Command lambda runs one order handler three ways, unchanged: as the
// long-polling worker a team runs on EC2, as an AWS Lambda function that an
// SQS event source mapping invokes, and under a local event source mapping
// on the memory driver, which applies Lambda's rules to test the function
// before it is deployed.
//
// By default it is the worker, on an in-memory queue seeded with demo
// orders (one flaky, one malformed), and it exits once the queue is empty:
//
//	go run ./examples/lambda
//	go run ./examples/lambda -mapping     # the Lambda function, locally
//
// On a real queue the worker runs until it is stopped:
//
//	go run ./examples/lambda -queue https://sqs.eu-west-1.amazonaws.com/123456789012/orders
//
// Built for Lambda, the same binary is the function: the Lambda runtime sets
// AWS_LAMBDA_RUNTIME_API (and the retired go1.x runtime
// _LAMBDA_SERVER_PORT), and main then hands the function to lambda.Start.
//
//	GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./examples/lambda
//	zip function.zip bootstrap   # runtime provided.al2023, handler "bootstrap"
//
// Give the function's SQS trigger ReportBatchItemFailures: the function
// reports the orders that failed, and Lambda deletes the others. The
// queue's redrive policy moves an order that keeps failing to the
// dead-letter queue, on EC2 and in Lambda alike.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/postroom/postroom/awslambda"
	_ "github.com/postroom/postroom/awssqs" // registers https:// SQS queue URLs
	"github.com/postroom/postroom/backoff"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if underLambda() {
		lambda.Start(function(newStore(), log))
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "lambda:", err)
		os.Exit(1)
	}
}

// underLambda reports whether the process is a Lambda function: the
// runtime API address is set by the provided runtimes, the server port by
// the retired go1.x runtime.
func underLambda() bool {
	return os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" || os.Getenv("_LAMBDA_SERVER_PORT") != ""
}

// An order is what the messages carry.
type order struct {
	ID    string  `json:"order"`
	Total float64 `json:"total"`
}

// A store records placed orders: the stand-in for the application's
// database. Placing an order twice is harmless (deliveries are at least
// once).
type store struct {
	mu     sync.Mutex // guards placed
	placed map[string]float64
}

func newStore() *store { return &store{placed: map[string]float64{}} }

func (s *store) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.placed)
}

// handleOrder is the handler, the same on every runtime. A body that is not
// an order is a permanent failure; an order whose "fail-times" attribute
// says so fails on its first receives, as a call to a flaky payment
// service would.
func (s *store) handleOrder(ctx context.Context, d *queue.Delivery) error {
	var o order
	if err := json.Unmarshal(d.Body, &o); err != nil || o.ID == "" || o.Total < 0 {
		return consumer.Permanent(fmt.Errorf("message %s is not an order: %q", d.ID, d.Body))
	}
	if n, _ := strconv.Atoi(d.Attributes.Get("fail-times")); d.ReceiveCount <= n {
		return fmt.Errorf("order %s: payment service unavailable (receive %d)", o.ID, d.ReceiveCount)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.placed[o.ID] = o.Total
	return nil
}

// logging is middleware that logs each order's outcome.
func logging(log *slog.Logger) consumer.Middleware {
	return func(next consumer.Handler) consumer.Handler {
		return func(ctx context.Context, d *queue.Delivery) error {
			err := next(ctx, d)
			if err != nil {
				log.Warn("order failed", "id", d.ID, "receive", d.ReceiveCount, "err", err)
			} else {
				log.Info("order placed", "id", d.ID, "receive", d.ReceiveCount)
			}
			return err
		}
	}
}

// handler is the handler with its middleware: what the worker runs, and
// what the Lambda function runs.
func handler(s *store, log *slog.Logger) consumer.Handler {
	return consumer.Chain(s.handleOrder, logging(log))
}

// function is the Lambda function: the handler behind the SQS adapter.
func function(s *store, log *slog.Logger) awslambda.SQSFunction {
	return awslambda.SQSHandler(handler(s, log), awslambda.SQSOptions{})
}

// config is the command line.
type config struct {
	queueURL   string
	mapping    bool
	demoOrders int
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("lambda", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.queueURL, "queue", "", "URL of the queue the worker reads (default: an in-memory queue with demo orders)")
	fs.BoolVar(&c.mapping, "mapping", false, "run the Lambda function under a local event source mapping on the in-memory queue instead of the worker")
	fs.IntVar(&c.demoOrders, "demo-orders", 8, "demo orders for the in-memory queue")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.mapping && c.queueURL != "" {
		return c, errors.New("-mapping runs on the in-memory queue: leave out -queue")
	}
	return c, nil
}

// run is the program off Lambda: the worker, or with -mapping the
// function under a local event source mapping.
func run(ctx context.Context, args []string, out io.Writer) error {
	cfg, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(out, nil))
	s := newStore()

	if cfg.queueURL != "" {
		q, err := queue.Open(ctx, cfg.queueURL)
		if err != nil {
			return err
		}
		defer q.Close()
		return worker(ctx, q, s, log)
	}

	// The demo: an in-memory queue with SQS's semantics and a redrive
	// policy, as the real queue would have.
	w := memory.NewWorld(memory.WorldOptions{})
	defer w.Close()
	dlq, err := w.NewQueue("orders-dlq", memory.QueueOptions{})
	if err != nil {
		return err
	}
	q, err := w.NewQueue("orders", memory.QueueOptions{
		VisibilityTimeout: 10 * time.Second,
		RedrivePolicy:     &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: 3},
	})
	if err != nil {
		return err
	}
	if err := seed(ctx, q, cfg.demoOrders); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	idle := make(chan struct{})
	go func() { // owned by run, which waits for it below
		defer close(idle)
		waitIdle(runCtx, q)
		stop()
	}()
	if cfg.mapping {
		err = mapping(runCtx, q, s, log)
	} else {
		err = worker(runCtx, q, s, log)
	}
	stop()
	<-idle
	st, _ := dlq.Stats(context.Background())
	log.Info("done", "placed", s.count(), "dead_lettered", st.Visible)
	return err
}

// worker long-polls q and handles the orders, as on EC2.
func worker(ctx context.Context, q queue.Receiver, s *store, log *slog.Logger) error {
	c, err := consumer.New(q, handler(s, log), consumer.Options{
		Retry: consumer.Retry{Backoff: backoff.Exponential{Initial: time.Second, Max: 10 * time.Second}},
	})
	if err != nil {
		return err
	}
	log.Info("worker started")
	return c.Run(ctx)
}

// mapping invokes the Lambda function with batches of q's messages, as
// Lambda's event source mapping would.
func mapping(ctx context.Context, q *memory.Queue, s *store, log *slog.Logger) error {
	m, err := awslambda.NewMapping(q, function(s, log), awslambda.MappingOptions{
		ReportBatchItemFailures: true,
		MaximumBatchingWindow:   time.Second,
		Hooks: awslambda.MappingHooks{Invoked: func(ds []*queue.Delivery, failed []string, err error) {
			log.Info("invoked", "messages", len(ds), "failed", len(failed), "err", err)
		}},
	})
	if err != nil {
		return err
	}
	log.Info("event source mapping started", "queue", q.ARN())
	return m.Run(ctx)
}

// seed sends n demo orders: the third fails on its first receive, the
// last is not an order.
func seed(ctx context.Context, q queue.Sender, n int) error {
	var msgs []*queue.Message
	for i := 1; i <= n; i++ {
		m := &queue.Message{Body: fmt.Appendf(nil, `{"order":"A-%d","total":%d.50}`, 1000+i, 10*i)}
		switch {
		case i == n:
			m.Body = []byte("not an order")
		case i == 3:
			m.Attributes = queue.Attributes{"fail-times": queue.Int(1)}
		}
		msgs = append(msgs, m)
	}
	for len(msgs) > 0 {
		k := min(len(msgs), 10)
		if err := q.Send(ctx, msgs[:k]...); err != nil {
			return err
		}
		msgs = msgs[k:]
	}
	return nil
}

// waitIdle returns when q holds no message, or when ctx ends.
func waitIdle(ctx context.Context, q queue.Stater) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := q.Stats(ctx)
		if err == nil && st.Visible+st.InFlight+st.Delayed == 0 {
			return
		}
	}
}
