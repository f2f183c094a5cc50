package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/localaws"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() {
		runErr = run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, nil, pw, io.Discard)
		pw.Close()
	})
	lines := bufio.NewScanner(pr)
	require.True(t, lines.Scan())
	assert.Contains(t, lines.Text(), "postroom: serving SQS, SNS and EventBridge on http://127.0.0.1:")
	require.True(t, lines.Scan())
	url, ok := strings.CutPrefix(lines.Text(), "export AWS_ENDPOINT_URL=")
	require.True(t, ok, lines.Text())
	go func() { // drain the rest
		for lines.Scan() {
		}
	}()

	c := sqs.NewFromConfig(localaws.New(localaws.Options{}).AWSConfig(url))
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("seed")})
	require.NoError(t, err)
	assert.Equal(t, url+"/000000000000/seed", *q.QueueUrl)

	// A long poll pending (or not yet arrived) does not hold up the stop:
	// localaws's own tests show Close answering a pending poll.
	var polled sync.WaitGroup
	var got *sqs.ReceiveMessageOutput
	var perr error
	start := time.Now()
	polled.Go(func() {
		got, perr = c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 20})
	})
	cancel()
	polled.Wait()
	wg.Wait()
	require.NoError(t, runErr)
	if perr == nil {
		assert.Empty(t, got.Messages)
	}
	assert.Less(t, time.Since(start), 15*time.Second)
}

func TestRunErrors(t *testing.T) {
	assert.Error(t, run(context.Background(), nil, nil, io.Discard, io.Discard))
	assert.Error(t, run(context.Background(), []string{"nope"}, nil, io.Discard, io.Discard))
	assert.Error(t, run(context.Background(), []string{"serve", "-access-key", "k"}, nil, io.Discard, io.Discard))
	assert.Error(t, run(context.Background(), []string{"serve", "-addr", "256.0.0.1:1"}, nil, io.Discard, io.Discard))
}
