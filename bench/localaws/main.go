// Command localaws measures the local AWS endpoint (package localaws) with
// the Go SDK, and moto_server beside it on the same program:
//
//   - round trip: 4 producers send batches of 10 messages of 256 bytes, 4
//     consumers receive 10 at a time with long polls and delete them in
//     batches, until N messages made the round trip; msgs/s and p50/p99
//     per API call;
//   - receive latency from a queue with a backlog of -backlog messages
//     against a queue that is almost empty;
//   - memory per queued 256-byte message with -queued messages in a
//     memory queue (the endpoint's store), from runtime.MemStats;
//   - SNS fan-out: Publish to a topic with -subscribers subscribed queues.
//
// moto_server is started on a free port when it is on PATH (-moto "" skips
// it); it is slow, so it gets its own, smaller -moto-n.
//
//	cd bench && go run ./localaws -n 50000 -moto-n 200 -fanout 10000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postroom/postroom/localaws"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

type config struct {
	n, motoN, fanout, backlog, queued, subscribers int
	rounds                                         int
	producers, consumers, size                     int
	moto, cpuprofile                               string
}

func main() {
	var c config
	flag.IntVar(&c.n, "n", 50000, "messages in the round trip against the local endpoint")
	flag.IntVar(&c.motoN, "moto-n", 200, "messages in the round trip against moto_server (0 skips it)")
	flag.IntVar(&c.fanout, "fanout", 10000, "messages published to the fan-out topic (0 skips it)")
	flag.IntVar(&c.subscribers, "subscribers", 10, "queues subscribed to the fan-out topic")
	flag.IntVar(&c.backlog, "backlog", 100000, "messages queued for the receive latency with a backlog (0 skips it)")
	flag.IntVar(&c.queued, "queued", 1000000, "messages queued to measure memory per message (0 skips it)")
	flag.IntVar(&c.rounds, "rounds", 3, "round trips against the local endpoint (the machine may be shared: the best is reported too)")
	flag.IntVar(&c.producers, "producers", 4, "producers")
	flag.IntVar(&c.consumers, "consumers", 4, "consumers")
	flag.IntVar(&c.size, "size", 256, "message body size in bytes")
	flag.StringVar(&c.moto, "moto", "moto_server", "moto_server command (empty skips it)")
	flag.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the local round trip to this file")
	flag.Parse()
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

func run(c config) error {
	ctx := context.Background()
	url, stop, err := startLocal()
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("GOMAXPROCS %d, %d producers, %d consumers, batches of 10 × %d B\n\n", runtime.GOMAXPROCS(0), c.producers, c.consumers, c.size)

	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	var local result
	for i := range max(1, c.rounds) {
		r, err := roundTrip(ctx, url, fmt.Sprintf("bench-%d", i), c, c.n)
		if err != nil {
			return fmt.Errorf("local endpoint: %w", err)
		}
		r.print(fmt.Sprintf("local endpoint, round %d", i+1))
		if r.rate() > local.rate() || local.n == 0 {
			local = r
		}
	}
	if c.cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	fmt.Printf("local endpoint, best round: %.0f msgs/s\n\n", local.rate())

	if c.motoN > 0 && c.moto != "" {
		if _, err := exec.LookPath(c.moto); err != nil {
			fmt.Printf("moto_server: skipped (%v)\n\n", err)
		} else {
			murl, mstop, err := startMoto(c.moto)
			if err != nil {
				return err
			}
			moto, err := roundTrip(ctx, murl, "bench", c, c.motoN)
			mstop()
			if err != nil {
				return fmt.Errorf("moto_server: %w", err)
			}
			moto.print("moto_server")
			fmt.Printf("ratio local/moto: %.0f×\n\n", local.rate()/moto.rate())
		}
	}
	if c.backlog > 0 {
		if err := receiveLatency(ctx, url, c); err != nil {
			return err
		}
	}
	if c.fanout > 0 {
		if err := fanout(ctx, url, c); err != nil {
			return err
		}
	}
	if c.queued > 0 {
		memoryPerMessage(ctx, c)
	}
	return nil
}

// startLocal serves a localaws.Server on a free local port.
func startLocal() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := localaws.New(localaws.Options{})
	hs := &http.Server{Handler: srv}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		srv.Drain()
		_ = hs.Close()
		_ = srv.Close()
	}, nil
}

// startMoto starts moto_server on a free port and waits until it answers.
func startMoto(command string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(command, "-p", fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("moto_server: %w", err)
	}
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err := http.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			return url, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("moto_server did not answer within 60 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clientConfig returns an SDK configuration for url with a connection pool big enough
// for the load.
func clientConfig(url string) aws.Config {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 64, 64
	cfg := localaws.New(localaws.Options{}).AWSConfig(url)
	cfg.HTTPClient = &http.Client{Transport: tr}
	return cfg
}

// latencies records the duration of API calls by name.
type latencies struct {
	mu sync.Mutex
	by map[string][]time.Duration
}

func (l *latencies) add(api string, d time.Duration) {
	l.mu.Lock()
	if l.by == nil {
		l.by = map[string][]time.Duration{}
	}
	l.by[api] = append(l.by[api], d)
	l.mu.Unlock()
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func (l *latencies) print() {
	for _, api := range []string{"SendMessageBatch", "ReceiveMessage", "DeleteMessageBatch"} {
		ds := l.by[api]
		fmt.Printf("  %-19s %7d calls  p50 %8v  p99 %8v\n", api, len(ds), pct(ds, .5).Round(time.Microsecond), pct(ds, .99).Round(time.Microsecond))
	}
}

type result struct {
	n       int
	elapsed time.Duration
	lat     *latencies
	empty   int // receives that returned nothing
}

func (r result) rate() float64 {
	if r.n == 0 {
		return 0
	}
	return float64(r.n) / r.elapsed.Seconds()
}

func (r result) print(name string) {
	fmt.Printf("%s: %d messages round trip in %v: %.0f msgs/s (%d empty receives)\n", name, r.n, r.elapsed.Round(time.Millisecond), r.rate(), r.empty)
	r.lat.print()
	fmt.Println()
}

// roundTrip sends n messages with c.producers producers and receives and
// deletes them with c.consumers consumers.
func roundTrip(ctx context.Context, url, name string, c config, n int) (result, error) {
	cl := sqs.NewFromConfig(clientConfig(url))
	q, err := cl.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return result{}, err
	}
	body := aws.String(strings.Repeat("x", c.size))
	batches := (n + 9) / 10
	var (
		next     atomic.Int64 // batches taken by producers
		deleted  atomic.Int64
		empty    atomic.Int64
		lat      = &latencies{}
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) {
		if deleted.Load() >= int64(n) {
			return // the round trip is over: a call cut short by its end
		}
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	ids := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	start := time.Now()
	for range c.producers {
		wg.Go(func() {
			for ctx.Err() == nil {
				b := next.Add(1) - 1
				if b >= int64(batches) {
					return
				}
				k := min(10, n-int(b)*10)
				entries := make([]types.SendMessageBatchRequestEntry, k)
				for i := range entries {
					entries[i] = types.SendMessageBatchRequestEntry{Id: &ids[i], MessageBody: body}
				}
				t0 := time.Now()
				out, err := cl.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries})
				lat.add("SendMessageBatch", time.Since(t0))
				if err != nil {
					fail(err)
					return
				}
				if len(out.Failed) > 0 {
					fail(fmt.Errorf("send: %s", *out.Failed[0].Message))
					return
				}
			}
		})
	}
	for range c.consumers {
		wg.Go(func() {
			for ctx.Err() == nil && deleted.Load() < int64(n) {
				t0 := time.Now()
				got, err := cl.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20})
				if ctx.Err() != nil {
					return
				}
				lat.add("ReceiveMessage", time.Since(t0))
				if err != nil {
					fail(err)
					return
				}
				if len(got.Messages) == 0 {
					empty.Add(1)
					continue
				}
				entries := make([]types.DeleteMessageBatchRequestEntry, len(got.Messages))
				for i, m := range got.Messages {
					entries[i] = types.DeleteMessageBatchRequestEntry{Id: &ids[i], ReceiptHandle: m.ReceiptHandle}
				}
				t0 = time.Now()
				out, err := cl.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries})
				lat.add("DeleteMessageBatch", time.Since(t0))
				if err != nil {
					fail(err)
					return
				}
				if deleted.Add(int64(len(out.Successful))) >= int64(n) {
					cancel() // ends the other consumers' long polls
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return result{}, firstErr
	}
	if d := deleted.Load(); d < int64(n) {
		return result{}, fmt.Errorf("only %d of %d messages made the round trip", d, n)
	}
	return result{n: n, elapsed: elapsed, lat: lat, empty: int(empty.Load())}, nil
}

// receiveLatency compares ReceiveMessage on a queue with a backlog with
// one on a queue that holds only the batch being received.
func receiveLatency(ctx context.Context, url string, c config) error {
	cl := sqs.NewFromConfig(clientConfig(url))
	body := aws.String(strings.Repeat("x", c.size))
	ids := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	fill := func(qurl *string, n int) error {
		var wg sync.WaitGroup
		var next atomic.Int64
		var firstErr error
		var once sync.Once
		for range 8 {
			wg.Go(func() {
				for b := next.Add(1) - 1; b < int64((n+9)/10); b = next.Add(1) - 1 {
					entries := make([]types.SendMessageBatchRequestEntry, 10)
					for i := range entries {
						entries[i] = types.SendMessageBatchRequestEntry{Id: &ids[i], MessageBody: body}
					}
					out, err := cl.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: entries})
					if err == nil && len(out.Failed) > 0 {
						err = fmt.Errorf("send: %s", *out.Failed[0].Message)
					}
					if err != nil {
						once.Do(func() { firstErr = err })
						return
					}
				}
			})
		}
		wg.Wait()
		return firstErr
	}
	retried := 0
	measure := func(name string, refill bool) ([]time.Duration, error) {
		q, err := cl.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			return nil, err
		}
		if !refill {
			t0 := time.Now()
			if err := fill(q.QueueUrl, c.backlog); err != nil {
				return nil, err
			}
			fmt.Printf("  backlog of %d messages queued in %v\n", c.backlog, time.Since(t0).Round(time.Millisecond))
		}
		var ds []time.Duration
		for range 2000 {
			if refill {
				if err := fill(q.QueueUrl, 10); err != nil {
					return nil, err
				}
			}
			t0 := time.Now()
			got, err := cl.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
			ds = append(ds, time.Since(t0))
			if err != nil {
				return nil, err
			}
			if ar, ok := retry.GetAttemptResults(got.ResultMetadata); ok && len(ar.Results) > 1 {
				// The SDK retried after a failed attempt, whose messages
				// stay in flight for the visibility timeout. Under CPU
				// load this is the client-side "use of closed network
				// connection" race of Go's transport that
				// aws/aws-sdk-go-v2 issues #1825 and #2737 describe (the
				// SDK retries net.ErrClosed since v2 PR #2949).
				retried++
				if retried == 1 {
					fmt.Printf("  (%s: receive %d retried by the SDK after: %v)\n", name, len(ds), ar.Results[0].Err)
				}
			} else if len(got.Messages) != 10 {
				return nil, fmt.Errorf("%s: receive %d: received %d messages, not 10", name, len(ds), len(got.Messages))
			}
			if len(got.Messages) == 0 {
				continue
			}
			entries := make([]types.DeleteMessageBatchRequestEntry, len(got.Messages))
			for i, m := range got.Messages {
				entries[i] = types.DeleteMessageBatchRequestEntry{Id: &ids[i], ReceiptHandle: m.ReceiptHandle}
			}
			if _, err := cl.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries}); err != nil {
				return nil, err
			}
		}
		return ds, nil
	}
	fmt.Println("receive latency (ReceiveMessage of 10, then DeleteMessageBatch, 2000 times, one client):")
	small, err := measure("latency-small", true)
	if err != nil {
		return err
	}
	big, err := measure("latency-backlog", false)
	if err != nil {
		return err
	}
	fmt.Printf("  %-28s p50 %8v  p99 %8v\n", "queue holding 10 messages:", pct(small, .5).Round(time.Microsecond), pct(small, .99).Round(time.Microsecond))
	fmt.Printf("  %-28s p50 %8v  p99 %8v\n", fmt.Sprintf("backlog of %d:", c.backlog), pct(big, .5).Round(time.Microsecond), pct(big, .99).Round(time.Microsecond))
	fmt.Printf("  receives retried by the SDK: %d\n\n", retried)
	return nil
}

// fanout publishes c.fanout messages with c.producers publishers to a
// topic with c.subscribers subscribed queues, and checks every queue got
// them all.
func fanout(ctx context.Context, url string, c config) error {
	cfg := clientConfig(url)
	sq, sn := sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("fanout")})
	if err != nil {
		return err
	}
	var urls []string
	for i := range c.subscribers {
		q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("fanout-%d", i))})
		if err != nil {
			return err
		}
		urls = append(urls, *q.QueueUrl)
		arn := fmt.Sprintf("arn:aws:sqs:us-east-1:%s:fanout-%d", localaws.DefaultAccountID, i)
		if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: &arn}); err != nil {
			return err
		}
	}
	body := aws.String(strings.Repeat("x", c.size))
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	lat := &latencies{}
	start := time.Now()
	for range c.producers {
		wg.Go(func() {
			for next.Add(1) <= int64(c.fanout) {
				t0 := time.Now()
				if _, err := sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: body}); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				lat.add("Publish", time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	for _, u := range urls {
		a, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &u, AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages"}})
		if err != nil {
			return err
		}
		if got := a.Attributes["ApproximateNumberOfMessages"]; got != fmt.Sprint(c.fanout) {
			return fmt.Errorf("fan-out: %s holds %s messages, not %d", u, got, c.fanout)
		}
	}
	ds := lat.by["Publish"]
	fmt.Printf("SNS fan-out to %d queues: %d publishes in %v: %.0f publishes/s, %.0f deliveries/s; Publish p50 %v p99 %v\n\n",
		c.subscribers, c.fanout, elapsed.Round(time.Millisecond), float64(c.fanout)/elapsed.Seconds(),
		float64(c.fanout*c.subscribers)/elapsed.Seconds(), pct(ds, .5).Round(time.Microsecond), pct(ds, .99).Round(time.Microsecond))
	return nil
}

// memoryPerMessage queues c.queued messages in a memory queue, the store
// the endpoint serves, and reports the heap growth per message.
func memoryPerMessage(ctx context.Context, c config) {
	w := memory.NewWorld(memory.WorldOptions{})
	defer w.Close()
	q, err := w.NewQueue("memory", memory.QueueOptions{})
	if err != nil {
		log.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	body := []byte(strings.Repeat("x", c.size))
	batch := make([]*queue.Message, 10)
	start := time.Now()
	for i := 0; i < c.queued; i += 10 {
		for j := range batch {
			batch[j] = &queue.Message{Body: body}
		}
		if err := q.Send(ctx, batch...); err != nil {
			log.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	after := heap()
	st, _ := q.Stats(ctx)
	fmt.Printf("memory: %d messages of %d B queued in %v; heap +%.0f MiB, %.0f B per message (%d visible)\n",
		c.queued, c.size, elapsed.Round(time.Millisecond), float64(after-before)/(1<<20), float64(after-before)/float64(c.queued), st.Visible)
	runtime.KeepAlive(q)
	_ = os.Stdout.Sync()
}
