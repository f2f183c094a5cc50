// Package stomp compares postroom's STOMP driver with raw go-stomp, end to
// end against a real ActiveMQ: persistent 256-byte messages, every send
// confirmed by the broker's receipt, one consumer acking every message
// (client-individual acks, prefetch 100).
//
//	POSTROOM_STOMP_URL=stomp://127.0.0.1:61613 \
//	  go test -run '^$' -bench . -benchtime 10000x ./stomp/
//
// raw-go-stomp sends with stomp.SendOpt.Receipt, which waits for each
// receipt before the next send can go: one round trip and one broker disk
// sync per message. postroom confirms every send too, but coalesces the
// sends at hand into one transaction whose COMMIT carries the receipt, so
// concurrent senders (postroom-concurrent) or batches (postroom-batch)
// share round trips and disk syncs.
package stomp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gostomp "github.com/go-stomp/stomp/v3"

	postroom "github.com/postroom/postroom/amazonmq/stomp"
	"github.com/postroom/postroom/queue"
)

const (
	bodySize    = 256
	prefetch    = 100
	concurrency = 64  // sending goroutines of postroom-concurrent, one message per Send
	batch       = 100 // messages per Send of postroom-batch
)

var body = bytes.Repeat([]byte("b"), bodySize)

func stompURL(b *testing.B) string {
	u := os.Getenv("POSTROOM_STOMP_URL")
	if u == "" {
		b.Skip("set POSTROOM_STOMP_URL to run against ActiveMQ (e.g. stomp://127.0.0.1:61613)")
	}
	return u
}

func name(what string) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return "postroom.bench." + what + "." + hex.EncodeToString(r[:])
}

func report(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

func BenchmarkEndToEnd(b *testing.B) {
	b.Run("raw-go-stomp", benchRaw)
	b.Run("postroom-concurrent", func(b *testing.B) { benchPostroom(b, concurrency, 1) })
	b.Run("postroom-batch", func(b *testing.B) { benchPostroom(b, 1, batch) })
}

// benchRaw is the baseline: go-stomp used directly, as a careful program
// would: a sending and a consuming connection, each send with a receipt
// (ActiveMQ reports refused sends only then), a client-individual
// subscription with a prefetch whose channel a goroutine drains, acking
// each message.
func benchRaw(b *testing.B) {
	u, err := url.Parse(stompURL(b))
	if err != nil {
		b.Fatal(err)
	}
	dest := "/queue/" + name("raw")
	pub, err := gostomp.Dial("tcp", u.Host)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Disconnect()
	sub, err := gostomp.Dial("tcp", u.Host)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Disconnect()
	s, err := sub.Subscribe(dest, gostomp.AckClientIndividual,
		gostomp.SubscribeOpt.Header("activemq.prefetchSize", "100"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Unsubscribe()

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		for range b.N {
			m, ok := <-s.C
			if !ok || m.Err != nil {
				done <- m.Err
				return
			}
			if err := sub.Ack(m); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range b.N {
		if err := pub.Send(dest, "", body, gostomp.SendOpt.Receipt, gostomp.SendOpt.Header("persistent", "true")); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	report(b, start)
}

// benchPostroom sends b.N messages from senders goroutines, perSend at a
// time, every Send confirmed, and receives them with Receive (up to 100)
// and Ack (one confirmed transaction per call) on a Broker of its own.
func benchPostroom(b *testing.B, senders, perSend int) {
	raw := stompURL(b)
	ctx := context.Background()
	prod, err := postroom.Dial(ctx, raw, postroom.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	cons, err := postroom.Dial(ctx, raw, postroom.Options{Prefetch: prefetch})
	if err != nil {
		b.Fatal(err)
	}
	defer cons.Close()
	n := name("postroom")
	pq, err := prod.OpenQueue(ctx, n, postroom.QueueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	cq, err := cons.OpenQueue(ctx, n, postroom.QueueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	// Subscribe before the clock starts, as the raw consumer does.
	if _, err := cq.Receive(ctx, queue.ReceiveOptions{NoWait: true}); err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		for got := 0; got < b.N; {
			ds, err := cq.Receive(ctx, queue.ReceiveOptions{MaxMessages: postroom.MaxBatch, WaitTime: 5 * time.Second})
			if err != nil {
				done <- err
				return
			}
			if len(ds) == 0 {
				continue
			}
			if err := cq.Ack(ctx, ds...); err != nil {
				done <- err
				return
			}
			got += len(ds)
		}
		done <- nil
	}()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			ms := make([]*queue.Message, perSend)
			for {
				k := int(next.Add(int64(perSend))) - perSend
				if k >= b.N {
					return
				}
				ms = ms[:min(perSend, b.N-k)]
				for i := range ms {
					ms[i] = &queue.Message{Body: body}
				}
				if err := pq.Send(ctx, ms...); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	report(b, start)
}
