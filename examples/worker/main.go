// Command worker is the long-polling worker a team runs on EC2: it reads
// jobs from a queue, handles several at a time, retries failures with
// exponential backoff, moves the jobs that keep failing to a dead-letter
// queue, and stops cleanly on SIGTERM or SIGINT, finishing the jobs in hand.
//
// By default it reads the in-memory queue mem://jobs, seeds it with demo
// jobs (some slow, some flaky, one malformed, one that always fails) and
// exits once the queue is empty, so that it can run in CI:
//
//	go run ./examples/worker
//	go run ./examples/worker -concurrency 8 -demo-jobs 40
//
// On a real queue it runs until it is stopped:
//
//	go run ./examples/worker -queue awssqs://jobs -dlq awssqs://jobs-dlq -concurrency 32
//
// The queue URLs may also come from the environment, QUEUE_URL and
// DLQ_URL, and an SQS queue's own https:// URL works as well. On SQS the
// AWS SDK's default configuration applies (AWS_REGION, credentials from the
// environment, the shared files or the instance role; AWS_ENDPOINT_URL for
// a local endpoint such as `postroom serve`). -demo-jobs seeds a real queue
// too when given explicitly:
//
//	go run ./examples/worker -queue awssqs://jobs -dlq awssqs://jobs-dlq -demo-jobs 12 -exit-when-idle
//
// A job is a JSON object: {"id": 7, "work_ms": 300, "fail_times": 1} works
// for 300 ms and fails on its first receive. Anything else is a permanent
// failure, dead-lettered at once.
//
// # Which dead-letter mechanism
//
// There are two ways to stop retrying a job that keeps failing; use one.
//
//   - The queue's redrive policy (SQS: a RedrivePolicy with maxReceiveCount
//     on the queue; mem://: memory.QueueOptions.RedrivePolicy). Prefer it
//     when the queue has one: run with -max-attempts 0 (and no -dlq, unless
//     malformed jobs should go there at once). The queue counts every
//     receive, including those of workers that crashed holding the job, and
//     moves the job itself.
//   - The worker's -max-attempts with -dlq (consumer.Retry.MaxAttempts and
//     DeadLetter): the worker sends the job to the dead-letter queue after
//     its last failed attempt. Use it when the transport has no redrive
//     policy (most brokers) or the dead letters must go elsewhere. This demo
//     uses it, since mem://jobs is opened without one.
//
// Either way, a job whose handler returns consumer.Permanent(err) goes to
// -dlq at once; without -dlq it is retried until the redrive policy moves
// it.
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
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/postroom/postroom/awssqs" // registers awssqs:// and SQS's https:// queue URLs
	"github.com/postroom/postroom/backoff"
	"github.com/postroom/postroom/consumer"
	_ "github.com/postroom/postroom/memory" // registers mem://
	"github.com/postroom/postroom/queue"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	queueURL     string
	dlqURL       string
	concurrency  int
	maxAttempts  int
	retryInitial time.Duration
	retryMax     time.Duration
	drain        time.Duration
	jobTimeout   time.Duration
	demoJobs     int
	exitWhenIdle bool
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.queueURL, "queue", envOr("QUEUE_URL", "mem://jobs"), "URL of the queue to read (default from $QUEUE_URL)")
	fs.StringVar(&c.dlqURL, "dlq", os.Getenv("DLQ_URL"), "URL of the dead-letter queue (default from $DLQ_URL) the worker sends malformed jobs to, and failing ones after -max-attempts (default: the queue's name + \"-dlq\" on mem://; none otherwise)")
	fs.IntVar(&c.concurrency, "concurrency", 4, "jobs handled at once")
	fs.IntVar(&c.maxAttempts, "max-attempts", 3, "receives before the worker moves a failing job to -dlq (ignored without -dlq); 0 leaves it to the queue's redrive policy, which is better when the queue has one (SQS maxReceiveCount): do not use both")
	fs.DurationVar(&c.retryInitial, "retry-initial", 500*time.Millisecond, "delay before the first retry; it doubles for each later one")
	fs.DurationVar(&c.retryMax, "retry-max", 5*time.Minute, "longest delay between retries")
	fs.DurationVar(&c.drain, "drain", 30*time.Second, "how long running jobs get to finish on SIGTERM")
	fs.DurationVar(&c.jobTimeout, "job-timeout", 0, "cancel a job that runs longer, and retry it (0: no limit; the visibility heartbeat keeps long jobs in flight)")
	fs.IntVar(&c.demoJobs, "demo-jobs", 12, "demo jobs to seed a mem:// queue with")
	fs.BoolVar(&c.exitWhenIdle, "exit-when-idle", false, "exit once the queue is empty (default true on mem://)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	onMemory := strings.HasPrefix(c.queueURL, "mem://")
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if onMemory && !set["exit-when-idle"] {
		c.exitWhenIdle = true
	}
	if onMemory && c.dlqURL == "" {
		name, _, _ := strings.Cut(strings.TrimPrefix(c.queueURL, "mem://"), "?")
		c.dlqURL = "mem://" + name + "-dlq"
	}
	if !onMemory && !set["demo-jobs"] {
		c.demoJobs = 0
	}
	return c, nil
}

// envOr returns the environment variable name, or def when it is empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// run is the worker: it returns when ctx is cancelled and the jobs in hand
// are done, or, with -exit-when-idle, when the queue is empty.
func run(ctx context.Context, args []string, out io.Writer) error {
	cfg, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(out, nil))

	q, err := queue.Open(ctx, cfg.queueURL)
	if err != nil {
		return err
	}
	defer q.Close()
	var dlq queue.Queue
	if cfg.dlqURL != "" {
		if dlq, err = queue.Open(ctx, cfg.dlqURL); err != nil {
			return err
		}
		defer dlq.Close()
	}
	if cfg.demoJobs > 0 {
		if err := seed(ctx, q, cfg.demoJobs); err != nil {
			return fmt.Errorf("seeding demo jobs: %w", err)
		}
		log.Info("seeded demo jobs", "queue", cfg.queueURL, "jobs", cfg.demoJobs)
	}

	var done, retried, deadLettered atomic.Int64
	opts := consumer.Options{
		Concurrency: cfg.concurrency,
		Retry: consumer.Retry{
			Backoff: backoff.Exponential{Initial: cfg.retryInitial, Max: cfg.retryMax, Jitter: backoff.EqualJitter},
		},
		ShutdownTimeout: cfg.drain,
		Hooks: consumer.Hooks{
			Handled: func(d *queue.Delivery, elapsed time.Duration) {
				done.Add(1)
				log.Info("job done", "id", d.ID, "attempt", d.ReceiveCount, "took", elapsed)
			},
			Failed: func(d *queue.Delivery, err error) {
				retried.Add(1)
				log.Warn("job failed", "id", d.ID, "attempt", d.ReceiveCount, "err", err)
			},
			DeadLettered: func(d *queue.Delivery, cause error) {
				deadLettered.Add(1)
				log.Error("job dead-lettered", "id", d.ID, "attempts", d.ReceiveCount, "cause", cause)
			},
			PollError: func(err error, pause time.Duration) {
				log.Warn("receive failed", "err", err, "retry_in", pause)
			},
			Panic: func(ds []*queue.Delivery, p *consumer.PanicError) {
				log.Error("job panicked", "panic", p.Value, "stack", string(p.Stack))
			},
			AckFailed: func(d *queue.Delivery, err error, retry bool) {
				log.Warn("delete failed", "id", d.ID, "err", err, "retrying", retry)
			},
		},
	}
	if dlq != nil {
		// The worker's own dead-lettering: see "Which dead-letter
		// mechanism" above.
		opts.Retry.DeadLetter = dlq
		opts.Retry.MaxAttempts = cfg.maxAttempts
	}
	h := consumer.Handler(handle)
	if cfg.jobTimeout > 0 {
		h = consumer.Chain(h, consumer.Timeout(cfg.jobTimeout))
	}
	c, err := consumer.New(q, h, opts)
	if err != nil {
		return err
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	idle := make(chan struct{})
	if cfg.exitWhenIdle {
		st, ok := q.(queue.Stater)
		if !ok {
			return fmt.Errorf("-exit-when-idle: %s does not report message counts", cfg.queueURL)
		}
		go func() { // owned by run, which waits for it below
			defer close(idle)
			waitIdle(runCtx, st)
			stop()
		}()
	} else {
		close(idle)
	}

	log.Info("worker started", "queue", cfg.queueURL, "concurrency", cfg.concurrency, "dlq", cfg.dlqURL)
	err = c.Run(runCtx)
	stop()
	<-idle
	if ctx.Err() != nil {
		log.Info("signal received: stopped after finishing the jobs in hand")
	} else if cfg.exitWhenIdle {
		log.Info("queue is empty")
	}
	log.Info("worker stopped", "done", done.Load(), "failed_attempts", retried.Load(), "dead_lettered", deadLettered.Load())
	return err
}

// A job is what the demo's messages carry.
type job struct {
	ID        int `json:"id"`
	WorkMS    int `json:"work_ms"`
	FailTimes int `json:"fail_times"`
}

// handle does one job: it works for the job's time, honouring
// cancellation, and fails on the job's first fail_times receives.
func handle(ctx context.Context, d *queue.Delivery) error {
	var j job
	if err := json.Unmarshal(d.Body, &j); err != nil {
		return consumer.Permanent(fmt.Errorf("malformed job: %w", err))
	}
	select {
	case <-time.After(time.Duration(j.WorkMS) * time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	if d.ReceiveCount <= j.FailTimes {
		return fmt.Errorf("job %d: simulated failure %d of %d", j.ID, d.ReceiveCount, j.FailTimes)
	}
	return nil
}

// seed sends n demo jobs: mostly quick ones, a few flaky ones, one that
// always fails and one that is not JSON.
func seed(ctx context.Context, q queue.Sender, n int) error {
	var batch []*queue.Message
	for i := 1; i <= n; i++ {
		j := job{ID: i, WorkMS: 50 + 37*i%200}
		switch {
		case i%5 == 0:
			j.FailTimes = 1 // flaky: succeeds on its second receive
		case i == n-1:
			j.FailTimes = 100 // always fails: dead-lettered after -max-attempts
		}
		body, _ := json.Marshal(j)
		if i == n {
			body = []byte("{not json")
		}
		batch = append(batch, &queue.Message{Body: body})
		if len(batch) == 10 || i == n {
			if err := q.Send(ctx, batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

// waitIdle returns when the queue holds no message, visible, in flight or
// delayed (acks included), or when ctx ends.
func waitIdle(ctx context.Context, st queue.Stater) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s, err := st.Stats(ctx)
		if err == nil && s.Visible+s.InFlight+s.Delayed == 0 {
			return
		}
	}
}
