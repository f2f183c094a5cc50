package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// The handler, unit-tested on a memory queue: what a team writes first.
func TestHandleOrder(t *testing.T) {
	q, err := memory.NewQueue("orders", memory.QueueOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Close() })
	ctx := context.Background()
	require.NoError(t, q.Send(ctx,
		&queue.Message{Body: []byte(`{"order":"A-1","total":12.5}`)},
		&queue.Message{Body: []byte(`{"order":"A-2","total":3}`), Attributes: queue.Attributes{"fail-times": queue.Int(1)}},
		&queue.Message{Body: []byte(`{"order":"A-3","total":-1}`)},
		&queue.Message{Body: []byte(`not json`)},
	))
	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10})
	require.NoError(t, err)
	require.Len(t, ds, 4)

	s := newStore()
	h := handler(s, quiet)
	assert.NoError(t, h(ctx, ds[0]))
	assert.ErrorContains(t, h(ctx, ds[1]), "order A-2: payment service unavailable (receive 1)")
	assert.ErrorIs(t, h(ctx, ds[2]), consumer.ErrPermanent)
	assert.ErrorIs(t, h(ctx, ds[3]), consumer.ErrPermanent)
	assert.Equal(t, map[string]float64{"A-1": 12.5}, s.placed)

	ds[1].ReceiveCount = 2 // its second receive succeeds
	assert.NoError(t, h(ctx, ds[1]))
	assert.Equal(t, 2, s.count())
}

// The Lambda entry point, invoked as the Lambda runtime does, with the
// event an SQS trigger sends.
func TestFunction(t *testing.T) {
	record := func(id, body string, receives int, attrs string) string {
		return `{"messageId":"` + id + `","receiptHandle":"rh-` + id + `","body":` + strconvQuote(body) + `,
			"attributes":{"ApproximateReceiveCount":"` + strconv.Itoa(receives) + `","SentTimestamp":"1699783090123",
			"SenderId":"AROAEXAMPLE:orders-api","ApproximateFirstReceiveTimestamp":"1699783090200"},
			"messageAttributes":` + attrs + `,"md5OfBody":"","eventSource":"aws:sqs",
			"eventSourceARN":"arn:aws:sqs:eu-west-1:111122223333:orders","awsRegion":"eu-west-1"}`
	}
	payload := `{"Records":[` + strings.Join([]string{
		record("m1", `{"order":"A-1","total":12.5}`, 1, `{}`),
		record("m2", `{"order":"A-2","total":3}`, 1, `{"fail-times":{"stringValue":"1","stringListValues":[],"binaryListValues":[],"dataType":"Number"}}`),
		record("m3", `not json`, 1, `{}`),
		record("m4", `{"order":"A-4","total":1}`, 2, `{"fail-times":{"stringValue":"1","stringListValues":[],"binaryListValues":[],"dataType":"Number"}}`),
	}, ",") + `]}`

	s := newStore()
	out, err := lambda.NewHandler(function(s, quiet)).Invoke(context.Background(), []byte(payload))
	require.NoError(t, err)
	var resp events.SQSEventResponse
	require.NoError(t, json.Unmarshal(out, &resp))
	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m2"}, {ItemIdentifier: "m3"}}, resp.BatchItemFailures)
	assert.Equal(t, map[string]float64{"A-1": 12.5, "A-4": 1}, s.placed)
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// The worker on memory: the flaky order succeeds on its second receive, the
// malformed one is moved to the dead-letter queue by the redrive policy.
func TestWorkerOnMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), nil, &out))
		log := out.String()
		assert.Contains(t, log, "worker started")
		assert.Contains(t, log, "payment service unavailable (receive 1)")
		assert.Equal(t, 3, strings.Count(log, "is not an order"), log)
		assert.Contains(t, log, `msg=done placed=7 dead_lettered=1`)
	})
}

// The Lambda function under a local event source mapping on memory: the
// same outcome, through batch item failures and the visibility timeout.
func TestFunctionUnderMapping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), []string{"-mapping", "-demo-orders", "12"}, &out))
		log := out.String()
		assert.Contains(t, log, "event source mapping started")
		assert.Contains(t, log, `msg=invoked messages=10 failed=1 err=<nil>`) // the flaky order
		assert.Contains(t, log, `msg=invoked messages=2 failed=1 err=<nil>`)  // the malformed one
		assert.Equal(t, 3, strings.Count(log, "is not an order"), log)
		assert.Contains(t, log, `msg=done placed=11 dead_lettered=1`)
		// Two returns after the 10-second visibility timeout, and the
		// receive that dead-letters the order.
		assert.GreaterOrEqual(t, time.Since(start), 30*time.Second)
	})
}

func TestFlags(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, config{demoOrders: 8}, c)
	c, err = parseFlags([]string{"-queue", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "https://sqs.eu-west-1.amazonaws.com/123456789012/orders", c.queueURL)
	_, err = parseFlags([]string{"-mapping", "-queue", "x"}, io.Discard)
	assert.ErrorContains(t, err, "-mapping runs on the in-memory queue")
	_, err = parseFlags([]string{"-h"}, io.Discard)
	assert.True(t, errors.Is(err, flag.ErrHelp))
}

func TestUnderLambda(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	t.Setenv("_LAMBDA_SERVER_PORT", "")
	assert.False(t, underLambda())
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
	assert.True(t, underLambda())
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	t.Setenv("_LAMBDA_SERVER_PORT", "8001")
	assert.True(t, underLambda())
}
