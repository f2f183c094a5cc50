package stomp

import (
	"context"
	"testing"
	"time"

	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/reconnect"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/brokeraddr"
)

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		opts    Options
		check   func(t *testing.T, c *config)
		wantErr error
	}{
		{
			name: "defaults",
			url:  "stomp://broker.example",
			check: func(t *testing.T, c *config) {
				assert.Equal(t, []brokeraddr.Endpoint{{Scheme: "stomp", Addr: "broker.example:61613", ServerName: "broker.example"}}, c.endpoints)
				assert.Equal(t, DefaultPrefetch, c.Prefetch)
				assert.Equal(t, DefaultWaitTime, c.WaitTime)
				assert.Equal(t, DefaultHeartbeat, c.Heartbeat)
				assert.Equal(t, DefaultDialTimeout, c.DialTimeout)
				assert.Equal(t, reconnect.DefaultBackoff, c.Backoff)
				assert.Empty(t, c.name)
			},
		},
		{
			name: "amazon mq active/standby",
			url:  "stomp+ssl://user:secret@b-1.mq.eu-west-1.amazonaws.com:61614/orders?failover=b-2.mq.eu-west-1.amazonaws.com:61614&client_id=svc",
			check: func(t *testing.T, c *config) {
				assert.Equal(t, []brokeraddr.Endpoint{
					{Scheme: "stomp+ssl", Addr: "b-1.mq.eu-west-1.amazonaws.com:61614", TLS: true, ServerName: "b-1.mq.eu-west-1.amazonaws.com"},
					{Scheme: "stomp+ssl", Addr: "b-2.mq.eu-west-1.amazonaws.com:61614", TLS: true, ServerName: "b-2.mq.eu-west-1.amazonaws.com"},
				}, c.endpoints)
				assert.Equal(t, "user", c.Login)
				assert.Equal(t, "secret", c.Passcode)
				assert.Equal(t, "svc", c.ClientID)
				assert.Equal(t, "orders", c.name)
			},
		},
		{
			name: "tls default port",
			url:  "stomp+ssl://b-1",
			check: func(t *testing.T, c *config) {
				assert.Equal(t, "b-1:61614", c.endpoints[0].Addr)
				assert.True(t, c.endpoints[0].TLS)
			},
		},
		{
			name: "endpoints option after the URL's",
			url:  "stomp://a:1?failover=b:2",
			opts: Options{Endpoints: []string{"c:3", "stomp+ssl://d:4"}},
			check: func(t *testing.T, c *config) {
				require.Len(t, c.endpoints, 4)
				assert.Equal(t, []string{"stomp://a:1", "stomp://b:2", "stomp://c:3", "stomp+ssl://d:4"},
					[]string{c.endpoints[0].String(), c.endpoints[1].String(), c.endpoints[2].String(), c.endpoints[3].String()})
			},
		},
		{
			name: "query parameters",
			url:  "stomp://a?prefetch=7&wait_time=2s&heartbeat=0&dial_timeout=3s&scheduled_delivery=true&ack_receipts=1&host=/",
			check: func(t *testing.T, c *config) {
				assert.Equal(t, 7, c.Prefetch)
				assert.Equal(t, 2*time.Second, c.WaitTime)
				assert.Negative(t, c.Heartbeat, "heartbeat=0 turns heart-beating off")
				assert.Equal(t, 3*time.Second, c.DialTimeout)
				assert.True(t, c.ScheduledDelivery)
				assert.True(t, c.AckReceipts)
				assert.Equal(t, "/", c.Host)
			},
		},
		{
			name: "options win over the query",
			url:  "stomp://u:p@a?prefetch=7&client_id=x",
			opts: Options{Prefetch: 3, ClientID: "y", Login: "me"},
			check: func(t *testing.T, c *config) {
				assert.Equal(t, 3, c.Prefetch)
				assert.Equal(t, "y", c.ClientID)
				assert.Equal(t, "me", c.Login)
				assert.Empty(t, c.Passcode, "the URL's user info is used only when no login is given")
			},
		},
		{name: "wrong scheme", url: "amqp://a", wantErr: postroom.ErrInvalid},
		{name: "no host", url: "stomp:///q", wantErr: postroom.ErrInvalid},
		{name: "bad failover", url: "stomp://a?failover=nohostport", wantErr: postroom.ErrInvalid},
		{name: "bad prefetch", url: "stomp://a?prefetch=-1", wantErr: postroom.ErrInvalid},
		{name: "negative prefetch option", url: "stomp://a", opts: Options{Prefetch: -1}, wantErr: postroom.ErrInvalid},
		{name: "bad duration", url: "stomp://a?wait_time=soon", wantErr: postroom.ErrInvalid},
		{name: "bad bool", url: "stomp://a?ack_receipts=maybe", wantErr: postroom.ErrInvalid},
		{name: "unknown parameter", url: "stomp://a?prefetch_size=5", wantErr: postroom.ErrInvalid},
		{name: "negative reconnect attempts", url: "stomp://a", opts: Options{MaxReconnectAttempts: -1}, wantErr: postroom.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newConfig(tc.url, tc.opts)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func FuzzNewConfig(f *testing.F) {
	f.Add("stomp+ssl://u:p@b-1:61614/q?failover=b-2:61614&prefetch=5&heartbeat=0")
	f.Add("stomp://a?wait_time=1s&client_id=x")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := newConfig(raw, Options{})
		if err != nil {
			require.ErrorIs(t, err, postroom.ErrInvalid)
			return
		}
		require.NotEmpty(t, c.endpoints)
		require.Positive(t, c.Prefetch)
	})
}

func TestNewConfigUnknownParameter(t *testing.T) {
	_, err := newConfig("stomp://a?prefetch_size=5", Options{})
	require.ErrorIs(t, err, postroom.ErrInvalid)
	assert.EqualError(t, err, `stomp: dial: invalid argument: unknown URL parameter "prefetch_size" (known: ack_receipts, client_id, dial_timeout, failover, heartbeat, host, prefetch, scheduled_delivery, wait_time)`)
}

func TestOpenBrokerURLError(t *testing.T) {
	b, err := broker.Open(context.Background(), "stomp://127.0.0.1:1?bogus=1")
	require.ErrorIs(t, err, postroom.ErrInvalid)
	assert.Nil(t, b, "a failed open returns a nil interface, not a nil *Broker in one")
}
