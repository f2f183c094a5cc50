package amqp

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/postroom/postroom"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name      string
		url       string
		opts      Options
		endpoints []endpoint
		check     func(t *testing.T, c *config)
	}{
		{
			name:      "defaults",
			url:       "amqp://guest:guest@127.0.0.1:5672/",
			endpoints: []endpoint{{"amqp://guest:guest@127.0.0.1:5672/", "127.0.0.1:5672"}},
			check: func(t *testing.T, c *config) {
				assert.Equal(t, DefaultPrefetch, c.Prefetch)
				assert.Equal(t, DefaultWaitTime, c.WaitTime)
				assert.Equal(t, defaultRetryBuckets, c.RetryBuckets)
				assert.False(t, c.DropUnroutable)
			},
		},
		{
			name: "amqps default port and failover hosts",
			url:  "amqps://u:p@b-1.mq.us-east-1.amazonaws.com/vh?failover=b-2.mq.us-east-1.amazonaws.com:5671,b-3:5671&heartbeat=30",
			endpoints: []endpoint{
				{"amqps://u:p@b-1.mq.us-east-1.amazonaws.com/vh?heartbeat=30", "b-1.mq.us-east-1.amazonaws.com:5671"},
				{"amqps://u:p@b-2.mq.us-east-1.amazonaws.com:5671/vh?heartbeat=30", "b-2.mq.us-east-1.amazonaws.com:5671"},
				{"amqps://u:p@b-3:5671/vh?heartbeat=30", "b-3:5671"},
			},
		},
		{
			name: "query parameters",
			url:  "amqp://h/?prefetch=5&queue_type=quorum&wait_time=3s&drop_unroutable=true&queue=orders",
			endpoints: []endpoint{
				{"amqp://h/", "h:5672"},
			},
			check: func(t *testing.T, c *config) {
				assert.Equal(t, 5, c.Prefetch)
				assert.Equal(t, QueueTypeQuorum, c.QueueType)
				assert.Equal(t, 3*time.Second, c.WaitTime)
				assert.True(t, c.DropUnroutable)
			},
		},
		{
			name: "options win over the URL",
			url:  "amqp://h/?prefetch=5",
			opts: Options{Prefetch: 7, Endpoints: []string{"amqp://other:1234/"}},
			endpoints: []endpoint{
				{"amqp://h/", "h:5672"},
				{"amqp://other:1234/", "other:1234"},
			},
			check: func(t *testing.T, c *config) { assert.Equal(t, 7, c.Prefetch) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newConfig(tc.url, tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.endpoints, c.endpoints)
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestNewConfigInvalid(t *testing.T) {
	tests := []struct {
		name string
		url  string
		opts Options
	}{
		{"scheme", "http://h/", Options{}},
		{"no host", "amqp:///vh", Options{}},
		{"negative prefetch", "amqp://h/", Options{Prefetch: -1}},
		{"huge prefetch", "amqp://h/", Options{Prefetch: 70000}},
		{"queue type", "amqp://h/", Options{QueueType: "stream"}},
		{"negative wait", "amqp://h/", Options{WaitTime: -time.Second}},
		{"negative attempts", "amqp://h/", Options{MaxReconnectAttempts: -1}},
		{"empty buckets", "amqp://h/", Options{RetryBuckets: []time.Duration{}}},
		{"unordered buckets", "amqp://h/", Options{RetryBuckets: []time.Duration{2 * time.Second, time.Second}}},
		{"prefetch parameter", "amqp://h/?prefetch=0", Options{}},
		{"queue type parameter", "amqp://h/?queue_type=lazy", Options{}},
		{"failover without port", "amqp://h/?failover=h2", Options{}},
		{"bad endpoint", "amqp://h/", Options{Endpoints: []string{"stomp://h2:61613"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newConfig(tc.url, tc.opts)
			assert.ErrorIs(t, err, postroom.ErrInvalid)
			_, err = Dial(context.Background(), tc.url, tc.opts)
			assert.ErrorIs(t, err, postroom.ErrInvalid, "Dial validates before it connects")
		})
	}
}

func TestBuckets(t *testing.T) {
	c, err := newConfig("amqp://h/", Options{})
	require.NoError(t, err)
	tests := []struct {
		delay time.Duration
		want  time.Duration
		name  string
	}{
		{time.Millisecond, 100 * time.Millisecond, "100ms"},
		{time.Second, time.Second, "1s"},
		{1100 * time.Millisecond, 2 * time.Second, "2s"},
		{4 * time.Minute, 5 * time.Minute, "5m"},
		{12 * time.Hour, 12 * time.Hour, "12h"},
	}
	for _, tc := range tests {
		got, ok := c.bucket(tc.delay)
		require.True(t, ok, "%v", tc.delay)
		assert.Equal(t, tc.want, got, "%v", tc.delay)
		assert.Equal(t, "orders.retry."+tc.name, retryQueueName("orders", got))
	}
	_, ok := c.bucket(13 * time.Hour)
	assert.False(t, ok, "over the last bucket")
	assert.Equal(t, "1500ms", bucketName(1500*time.Millisecond))
	// A retry queue outlives every message in it.
	for _, b := range c.RetryBuckets {
		rq := &retryQueue{bucket: b}
		assert.Greater(t, rq.expires()/2, b)
	}
}

// FuzzNewConfig checks that any URL either gives a usable configuration,
// whose endpoints amqp091 can parse and which carry none of postroom's own
// parameters, or an error matching postroom.ErrInvalid.
func FuzzNewConfig(f *testing.F) {
	f.Add("amqps://u:p@b-1.mq.us-east-1.amazonaws.com:5671/vhost?failover=b-2:5671&prefetch=50&queue=orders")
	f.Add("amqp://guest:guest@127.0.0.1:5672/?queue_type=quorum&wait_time=2s&drop_unroutable=true")
	f.Add("amqp://h/%2f?topic=prices&heartbeat=10")
	f.Add("amqp://[::1")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := newConfig(raw, Options{})
		if err != nil {
			require.ErrorIs(t, err, postroom.ErrInvalid)
			return
		}
		require.NotEmpty(t, c.endpoints)
		require.Positive(t, c.Prefetch)
		for _, e := range c.endpoints {
			_, err := amqp091.ParseURI(e.url)
			require.NoError(t, err, "endpoint %q of %q", e.url, raw)
			u, err := url.Parse(e.url)
			require.NoError(t, err)
			for _, p := range postroomParams {
				require.False(t, u.Query().Has(p), "postroom's parameter %s reaches amqp091 in %q", p, e.url)
			}
		}
	})
}

func TestOpenQueueType(t *testing.T) {
	b := &Broker{cfg: &config{}}
	_, err := b.OpenQueue(t.Context(), "orders", QueueOptions{Type: "stream"})
	if !errors.Is(err, postroom.ErrInvalid) {
		t.Fatalf("OpenQueue with Type stream = %v, want an error matching ErrInvalid", err)
	}
	if want := `amqp: open queue: invalid argument: queue type "stream" (want "classic" or "quorum")`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
