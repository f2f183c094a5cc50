// Command postroom runs postroom's tools. Its serve verb is a local AWS
// endpoint: SQS (AWS JSON 1.0 and Query), SNS (Query) and EventBridge (AWS
// JSON 1.1) served from memory, for the AWS CLI, the SDKs and the AWS
// drivers.
//
// Usage:
//
//	postroom serve [-addr 127.0.0.1:4566] [-account 000000000000] [-access-key KEY -secret-key SECRET] [-data DIR] [-v]
//
// It prints the endpoint and the environment to use, and stops cleanly on
// SIGINT or SIGTERM: pending long polls return, requests in flight finish,
// the listener closes. State lives in memory: a restart starts empty,
// unless -data names a directory. Then a clean stop saves every queue
// (attributes, tags, messages with their receive counts, in-flight and
// delayed ones included), topic, subscription, rule, target and archive
// there, and the next start restores them; receipt handles stay valid. A
// crash (SIGKILL, power loss) loses everything since the last clean stop:
// the state is written only on the way out. Replays, message move tasks
// and deliveries being retried are not kept.
//
// The other verbs work over the URL of any driver (awssqs://, an SQS queue
// URL, awssns://, awseventbridge://, amqp://, stomp://, mqtt://, mem://)
// and print JSON shaped like the AWS CLI's:
//
//	postroom send QUEUE-URL [BODY] [--attr k=v] [--group G] [--dedup-id D] [--delay 10s]
//	postroom receive QUEUE-URL [--wait 20s] [--max 10] [--visibility 30s] [--ack]
//	postroom receive TOPIC-URL (--subscription NAME | --topic) [...]
//	postroom delete QUEUE-URL RECEIPT-HANDLE...
//	postroom purge QUEUE-URL
//	postroom stats QUEUE-URL
//	postroom publish TOPIC-URL [BODY] [--subject S] [--attr k=v]
//	postroom put-events BUS-URL (--source S --detail-type T --detail JSON | --entries JSON)
//	postroom test-event-pattern --event-pattern JSON --event JSON
//	postroom test-filter-policy --filter-policy JSON [--scope MessageBody --message JSON | --attr k=v]
//
// postroom VERB --help describes a verb. The exit code is 0 when the verb
// did its work, 1 when the operation failed, 2 for a usage error; errors
// are one line on standard error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/postroom/postroom/localaws"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "postroom:", err)
		os.Exit(exitCode(err))
	}
}

const usage = `usage: postroom VERB [flags] [arguments]

Verbs:
  serve               run a local AWS endpoint (SQS, SNS, EventBridge) in memory
  send                send a message to a queue
  receive             receive messages from a queue or topic
  delete              delete received messages by receipt handle (SQS)
  purge               delete every message of a queue
  stats               print a queue's approximate message counts
  publish             publish a message to a topic
  put-events          put events on an event bus
  test-event-pattern  match an EventBridge event pattern, offline
  test-filter-policy  match an SNS filter policy, offline

URLs name queues, topics and buses of any driver: awssqs://name,
https://sqs.REGION.amazonaws.com/ACCOUNT/name, awssns://name,
awseventbridge://bus, amqp://host/?queue=name, amqp://host/?topic=name,
stomp://host/name, mqtt://host/topic, mem://name (in this process only).
For the local endpoint of serve, add ?endpoint=http://127.0.0.1:4566 to
an AWS URL, or give a queue URL it returned, http://127.0.0.1:4566/ACCOUNT/name.
Run postroom VERB --help for a verb's flags. Exit codes: 0 done,
1 the operation failed, 2 usage error.
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("no verb given (see postroom help)")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if v := findVerb(args[0]); v != nil {
		return runVerb(ctx, v, args[1:], &env{stdin: stdin, stdout: stdout})
	}
	return usageErrorf("unknown verb %q (see postroom help)", args[0])
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:4566", "address to listen on")
	account := fs.String("account", localaws.DefaultAccountID, "account id in queue URLs and ARNs")
	key := fs.String("access-key", "", "with -secret-key, require SigV4 signatures by this access key")
	secret := fs.String("secret-key", "", "secret of -access-key")
	verbose := fs.Bool("v", false, "log every request")
	data := fs.String("data", "", "directory to save state to on a clean stop and restore it from on start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*key == "") != (*secret == "") {
		return errors.New("serve: -access-key and -secret-key go together")
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	url := "http://" + ln.Addr().String()
	srv, err := localaws.Open(localaws.Options{AccountID: *account, AccessKey: *key, SecretKey: *secret, Logger: logger, BaseURL: url, DataDir: *data})
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("serve: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	envKey, envSecret := "test", "test"
	if *key != "" {
		envKey, envSecret = *key, *secret
	}
	fmt.Fprintf(stdout, "postroom: serving SQS, SNS and EventBridge on %s (account %s)\n", url, *account)
	fmt.Fprintf(stdout, "export AWS_ENDPOINT_URL=%s\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_DEFAULT_REGION=us-east-1\n",
		url, envKey, envSecret)
	fmt.Fprintf(stdout, "# AWS CLI 2.9 ignores AWS_ENDPOINT_URL: pass --endpoint-url %s\n", url)
	if *data != "" {
		fmt.Fprintf(stdout, "# state is saved to %s on a clean stop (SIGINT, SIGTERM) and restored on start\n", *data)
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		srv.Drain()
		if cerr := srv.Close(); cerr != nil {
			return fmt.Errorf("serve: %w; %w", err, cerr)
		}
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Long polls return first, then in-flight requests finish, then the
	// state is saved.
	srv.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	serr := hs.Shutdown(sctx)
	<-errc // http.ErrServerClosed
	if err := srv.Close(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("serve: shutdown: %w", serr)
	}
	fmt.Fprintln(stdout, "postroom: stopped")
	return nil
}
