package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// On memory the worker seeds demo jobs, handles them (retrying the flaky
// ones, dead-lettering the bad ones) and exits once the queue is empty.
func TestWorkerDemo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"-queue", "mem://worker-demo", "-demo-jobs", "12"}, &out)
		require.NoError(t, err)
		log := out.String()
		assert.Equal(t, 10, strings.Count(log, "msg=\"job done\""), log)
		assert.Equal(t, 2, strings.Count(log, "msg=\"job dead-lettered\""), log)
		assert.Contains(t, log, "malformed job")
		assert.Contains(t, log, "queue is empty")
		assert.Contains(t, log, `msg="worker stopped" done=10 failed_attempts=6 dead_lettered=2`)

		dlq, err := queue.Open(context.Background(), "mem://worker-demo-dlq")
		require.NoError(t, err) // closed by run: opened again, empty
		_ = dlq.Close()
	})
}

// A signal (a cancelled context) stops the worker after the jobs in hand.
func TestWorkerStopsOnSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var out bytes.Buffer
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-queue", "mem://worker-signal", "-exit-when-idle=false", "-demo-jobs", "40"}, &out)
		}()
		time.Sleep(100 * time.Millisecond)
		cancel()
		require.NoError(t, <-done)
		log := out.String()
		assert.Contains(t, log, "signal received")
		assert.NotContains(t, log, "queue is empty")
	})
}

func TestWorkerFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want config
	}{
		{
			name: "memory defaults",
			want: config{queueURL: "mem://jobs", dlqURL: "mem://jobs-dlq", concurrency: 4, maxAttempts: 3,
				retryInitial: 500 * time.Millisecond, retryMax: 5 * time.Minute, drain: 30 * time.Second,
				demoJobs: 12, exitWhenIdle: true},
		},
		{
			name: "real queue",
			args: []string{"-queue", "sqs://example/jobs", "-concurrency", "32"},
			want: config{queueURL: "sqs://example/jobs", concurrency: 32, maxAttempts: 3,
				retryInitial: 500 * time.Millisecond, retryMax: 5 * time.Minute, drain: 30 * time.Second},
		},
		{
			name: "memory, run forever",
			args: []string{"-queue", "mem://q?visibility=10s", "-exit-when-idle=false"},
			want: config{queueURL: "mem://q?visibility=10s", dlqURL: "mem://q-dlq", concurrency: 4, maxAttempts: 3,
				retryInitial: 500 * time.Millisecond, retryMax: 5 * time.Minute, drain: 30 * time.Second,
				demoJobs: 12},
		},
		{
			name: "real queue with demo jobs",
			args: []string{"-queue", "awssqs://jobs", "-dlq", "awssqs://jobs-dlq", "-demo-jobs", "5", "-exit-when-idle"},
			want: config{queueURL: "awssqs://jobs", dlqURL: "awssqs://jobs-dlq", concurrency: 4, maxAttempts: 3,
				retryInitial: 500 * time.Millisecond, retryMax: 5 * time.Minute, drain: 30 * time.Second,
				demoJobs: 5, exitWhenIdle: true},
		},
		{
			name: "redrive policy, job timeout",
			args: []string{"-queue", "sqs://example/jobs", "-max-attempts", "0", "-job-timeout", "2s"},
			want: config{queueURL: "sqs://example/jobs", concurrency: 4, jobTimeout: 2 * time.Second,
				retryInitial: 500 * time.Millisecond, retryMax: 5 * time.Minute, drain: 30 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("QUEUE_URL", "")
			t.Setenv("DLQ_URL", "")
			got, err := parseFlags(tt.args, &bytes.Buffer{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := parseFlags([]string{"-h"}, &bytes.Buffer{})
	assert.ErrorIs(t, err, flag.ErrHelp)
}

// The queue URLs come from the environment when no flag names them.
func TestWorkerFlagsFromEnvironment(t *testing.T) {
	t.Setenv("QUEUE_URL", "awssqs://jobs?region=eu-west-1")
	t.Setenv("DLQ_URL", "awssqs://jobs-dlq?region=eu-west-1")
	got, err := parseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "awssqs://jobs?region=eu-west-1", got.queueURL)
	assert.Equal(t, "awssqs://jobs-dlq?region=eu-west-1", got.dlqURL)
	assert.Zero(t, got.demoJobs, "no demo jobs on a real queue unless asked")
	assert.False(t, got.exitWhenIdle)

	got, err = parseFlags([]string{"-queue", "mem://other"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "mem://other", got.queueURL, "the flag wins")
}
