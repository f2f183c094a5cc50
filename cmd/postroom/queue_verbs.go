package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/sqsmd5"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

var sendVerb = &verb{
	name: "send",
	args: "QUEUE-URL [BODY]",
	summary: `Sends one message to a queue, like aws sqs send-message, and prints
{"MessageId", "MD5OfMessageBody", "MD5OfMessageAttributes"}. The body is
BODY, or standard input when BODY is absent or "-".`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
		mf := addMessageFlags(fs, "queues")
		var delay seconds
		fs.Var(&delay, "delay", "delay before the first delivery (`duration` or seconds)")
		return func(ctx context.Context, e *env, args []string) error {
			body, at, err := mf.read(e, args)
			if err != nil {
				return err
			}
			q, err := openQueue(ctx, "send", args[0])
			if err != nil {
				return err
			}
			defer q.Close()
			m := &queue.Message{Body: body, Attributes: at, GroupID: *mf.group, DeduplicationID: *mf.dedup, Delay: delay.d}
			if err := q.Send(ctx, m); err != nil {
				return failed(firstError(err))
			}
			return writeJSON(e.stdout, struct {
				MessageId              string
				MD5OfMessageBody       string
				MD5OfMessageAttributes string `json:",omitempty"`
			}{m.ID, sqsmd5.Body(body), sqsmd5.Attributes(at)})
		}
	},
}

var receiveVerb = &verb{
	name: "receive",
	args: "QUEUE-URL | TOPIC-URL",
	summary: `Receives messages, like aws sqs receive-message, and prints
{"Messages": [{"MessageId", "ReceiptHandle", "MD5OfBody", "Body",
"Attributes", "MD5OfMessageAttributes", "MessageAttributes"}]}; nothing when
no message came, as the AWS CLI. Without --ack the messages stay in flight
on SQS until their visibility timeout; a broker gets them back when the
command ends. A topic URL is received from through a subscription: a
durable one with --subscription, or one that lives as long as the command
with --topic (the default for MQTT, which has no queues).`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
		var wait, vis seconds
		fs.Var(&wait, "wait", "how long to wait for a first message (`duration` or seconds; 0 is a short poll;\ndefault: the queue's or driver's own)")
		max := fs.Int("max", 1, "most messages to return (1 to 10 on SQS)")
		fs.Var(&vis, "visibility", "visibility timeout of the received messages (`duration` or seconds;\n0 makes them visible again at once)")
		ack := fs.Bool("ack", false, "delete (ack) the messages once printed")
		sub := fs.String("subscription", "", "receive from the durable subscription of this `name` to the topic URL\n(it keeps messages between runs where the transport can)")
		topic := fs.Bool("topic", false, "the URL names a topic: receive what is published during the wait")
		return func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args, 1, 1); err != nil {
				return err
			}
			opts := queue.ReceiveOptions{MaxMessages: *max, WaitTime: wait.d, NoWait: wait.set && wait.d == 0, VisibilityTimeout: vis.d}
			if *max < 1 {
				return usageErrorf("receive: --max must be at least 1")
			}
			r, closeR, err := openReceiver(ctx, args[0], *sub, *topic)
			if err != nil {
				return err
			}
			defer closeR()
			ds, err := r.Receive(ctx, opts)
			if err != nil {
				return failed(err)
			}
			if vis.set && vis.d == 0 && len(ds) > 0 && !*ack {
				// SQS's VisibilityTimeout=0: visible again at once.
				if err := r.Nack(ctx, 0, ds...); err != nil {
					return failed(firstError(err))
				}
			}
			if len(ds) == 0 {
				return nil
			}
			out := struct{ Messages []awsMessage }{}
			for _, d := range ds {
				out.Messages = append(out.Messages, toAWSMessage(d))
			}
			if err := writeJSON(e.stdout, out); err != nil {
				return failed(err)
			}
			if *ack {
				return failed(firstError(r.Ack(ctx, ds...)))
			}
			return nil
		}
	},
}

var deleteVerb = &verb{
	name: "delete",
	args: "QUEUE-URL RECEIPT-HANDLE...",
	summary: `Deletes received messages by their receipt handles, like aws sqs
delete-message; prints nothing. Only SQS receipts outlive the receive
command: on a broker, or a mem:// queue, use receive --ack.`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			if len(args) < 2 {
				return wantArgs(args, 2, 2)
			}
			if err := receiptsOutlive(args[0]); err != nil {
				return err
			}
			q, err := openQueue(ctx, "delete", args[0])
			if err != nil {
				return err
			}
			defer q.Close()
			ds := make([]*queue.Delivery, len(args)-1)
			for i, r := range args[1:] {
				ds[i] = &queue.Delivery{Receipt: r}
			}
			return failed(firstError(q.Ack(ctx, ds...)))
		}
	},
}

var purgeVerb = &verb{
	name:    "purge",
	args:    "QUEUE-URL",
	summary: `Deletes every message of a queue, like aws sqs purge-queue; prints nothing.`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args, 1, 1); err != nil {
				return err
			}
			q, err := openQueue(ctx, "purge", args[0])
			if err != nil {
				return err
			}
			defer q.Close()
			p, ok := q.(queue.Purger)
			if !ok {
				return failed(fmt.Errorf("purge: %w: the %s driver cannot purge a queue", postroom.ErrUnsupported, scheme(args[0])))
			}
			return failed(p.Purge(ctx))
		}
	},
}

var statsVerb = &verb{
	name: "stats",
	args: "QUEUE-URL",
	summary: `Prints a queue's approximate message counts as aws sqs
get-queue-attributes prints them: {"Attributes":
{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
"ApproximateNumberOfMessagesDelayed"}}.`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args, 1, 1); err != nil {
				return err
			}
			q, err := openQueue(ctx, "stats", args[0])
			if err != nil {
				return err
			}
			defer q.Close()
			s, ok := q.(queue.Stater)
			if !ok {
				return failed(fmt.Errorf("stats: %w: the %s driver cannot count a queue's messages", postroom.ErrUnsupported, scheme(args[0])))
			}
			st, err := s.Stats(ctx)
			if err != nil {
				return failed(err)
			}
			return writeJSON(e.stdout, map[string]map[string]string{"Attributes": {
				"ApproximateNumberOfMessages":           strconv.Itoa(st.Visible),
				"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(st.InFlight),
				"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(st.Delayed),
			}})
		}
	},
}

// bodyArg returns the body: the argument, or standard input when there is
// none or it is "-".
func bodyArg(e *env, args []string) ([]byte, error) {
	if len(args) > 0 && args[0] != "-" {
		return []byte(args[0]), nil
	}
	b, err := io.ReadAll(e.stdin)
	if err != nil {
		return nil, usageErrorf("reading the body from standard input: %v", err)
	}
	return b, nil
}

// scheme returns the scheme of a URL, or "" when it has none.
func scheme(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Scheme
}

// checkScheme returns a usage error when no driver of the kind (with its
// registered schemes) takes the URL's scheme.
func checkScheme(verbName, rawURL, kind string, schemes []string, hint string) error {
	s := scheme(rawURL)
	if s == "" {
		return usageErrorf("%s: %q is not a URL (want scheme://…)", verbName, rawURL)
	}
	if slices.Contains(schemes, s) {
		return nil
	}
	if hint != "" {
		return usageErrorf("%s: %s:// names no %s: %s", verbName, s, kind, hint)
	}
	return usageErrorf("%s: no %s driver for %s:// (known: %v)", verbName, kind, s, schemes)
}

// openQueue opens a queue URL for a verb.
func openQueue(ctx context.Context, verbName, rawURL string) (queue.Queue, error) {
	rawURL = localQueueURL(rawURL)
	hint := ""
	if slices.Contains(pubsub.Schemes(), scheme(rawURL)) {
		hint = "it is a topic (MQTT has no queues); use publish, or receive --subscription"
	}
	if err := checkScheme(verbName, rawURL, "queue", queue.Schemes(), hint); err != nil {
		return nil, err
	}
	q, err := queue.Open(ctx, rawURL)
	if err != nil {
		return nil, failed(err)
	}
	return q, nil
}

// localQueueURL turns the queue URL of a local SQS endpoint, as postroom
// serve (or LocalStack) prints it, http://HOST:PORT/ACCOUNT/NAME, into
// awssqs://NAME?endpoint=http://HOST:PORT. Other URLs are returned as
// they are.
func localQueueURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.RawQuery != "" {
		return rawURL
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return rawURL
	}
	return "awssqs://" + parts[1] + "?endpoint=" + url.QueryEscape("http://"+u.Host)
}

// openReceiver opens what receive reads: the queue a URL names, or, for a
// topic URL or with a subscription name, a subscription to the topic.
func openReceiver(ctx context.Context, rawURL, sub string, topic bool) (queue.Receiver, func(), error) {
	if sub == "" && !topic {
		rawURL = localQueueURL(rawURL)
	}
	s := scheme(rawURL)
	if sub == "" && !topic && slices.Contains(queue.Schemes(), s) {
		q, err := openQueue(ctx, "receive", rawURL)
		if err != nil {
			return nil, nil, err
		}
		return q, func() { _ = q.Close() }, nil
	}
	if err := checkScheme("receive", rawURL, "queue or topic", pubsub.Schemes(), ""); err != nil {
		return nil, nil, err
	}
	t, err := pubsub.Open(ctx, rawURL)
	if err != nil {
		return nil, nil, failed(err)
	}
	sn, err := t.Subscribe(ctx, pubsub.SubscribeOptions{Name: sub, RawDelivery: true})
	if err != nil {
		_ = t.Close()
		return nil, nil, failed(err)
	}
	return sn, func() { _ = sn.Close(); _ = t.Close() }, nil
}

// receiptsOutlive refuses delete for the drivers whose receipts end with
// the connection, or the process, that received the message.
func receiptsOutlive(rawURL string) error {
	switch s := scheme(rawURL); s {
	case "awssqs", "https", "http":
		return nil
	case "":
		return usageErrorf("delete: %q is not a URL (want scheme://…)", rawURL)
	default:
		return &exitError{code: exitFailed, err: fmt.Errorf("delete: %w: receipts of %s:// end with the receive command that got them; use postroom receive --ack", postroom.ErrUnsupported, s)}
	}
}

// firstError returns the first entry error of a *postroom.BatchError, and
// any other error as it is.
func firstError(err error) error {
	var be *postroom.BatchError
	if errors.As(err, &be) {
		for _, e := range be.Errs {
			if e != nil {
				return e
			}
		}
	}
	return err
}

// awsMessage is a received message as aws sqs receive-message prints it.
type awsMessage struct {
	MessageId              string
	ReceiptHandle          string
	MD5OfBody              string
	Body                   string
	Attributes             map[string]string       `json:",omitempty"`
	MD5OfMessageAttributes string                  `json:",omitempty"`
	MessageAttributes      map[string]awsAttribute `json:",omitempty"`
}

func toAWSMessage(d *queue.Delivery) awsMessage {
	m := awsMessage{
		MessageId:              d.ID,
		ReceiptHandle:          d.Receipt,
		MD5OfBody:              sqsmd5.Body(d.Body),
		Body:                   string(d.Body),
		Attributes:             map[string]string{},
		MD5OfMessageAttributes: sqsmd5.Attributes(d.Attributes),
		MessageAttributes:      awsAttributes(d.Attributes),
	}
	set := func(k, v string) {
		if v != "" {
			m.Attributes[k] = v
		}
	}
	ms := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	set("SentTimestamp", ms(d.SentAt))
	set("ApproximateFirstReceiveTimestamp", ms(d.FirstReceivedAt))
	if d.ReceiveCount > 0 {
		set("ApproximateReceiveCount", strconv.Itoa(d.ReceiveCount))
	}
	set("MessageGroupId", d.GroupID)
	set("MessageDeduplicationId", d.DeduplicationID)
	set("SequenceNumber", d.SequenceNumber)
	set("DeadLetterQueueSourceArn", d.DeadLetterSource)
	return m
}
