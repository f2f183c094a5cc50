package mqtt

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
			url:  "mqtt://broker.example",
			check: func(t *testing.T, c *config) {
				assert.Equal(t, []brokeraddr.Endpoint{{Scheme: "mqtt", Addr: "broker.example:1883", ServerName: "broker.example"}}, c.endpoints)
				assert.Equal(t, DefaultKeepAlive, c.KeepAlive)
				assert.Equal(t, DefaultWaitTime, c.WaitTime)
				assert.Equal(t, DefaultDialTimeout, c.DialTimeout)
				assert.Equal(t, reconnect.DefaultBackoff, c.Backoff)
			},
		},
		{
			name: "amazon mq active/standby",
			url:  "mqtt+ssl://user:secret@b-1.mq.eu-west-1.amazonaws.com:8883/sensors/%23?failover=b-2.mq.eu-west-1.amazonaws.com:8883&client_id=svc",
			check: func(t *testing.T, c *config) {
				assert.Equal(t, []brokeraddr.Endpoint{
					{Scheme: "mqtts", Addr: "b-1.mq.eu-west-1.amazonaws.com:8883", TLS: true, ServerName: "b-1.mq.eu-west-1.amazonaws.com"},
					{Scheme: "mqtts", Addr: "b-2.mq.eu-west-1.amazonaws.com:8883", TLS: true, ServerName: "b-2.mq.eu-west-1.amazonaws.com"},
				}, c.endpoints)
				assert.Equal(t, "user", c.Username)
				assert.Equal(t, "secret", c.Password)
				assert.Equal(t, "svc", c.ClientID)
				assert.Equal(t, "sensors/#", c.name)
				assert.Equal(t, "ssl://b-1.mq.eu-west-1.amazonaws.com:8883", pahoURL(c.endpoints[0]))
			},
		},
		{
			name: "paho schemes and default ports",
			url:  "tcp://a?failover=ssl://b,mqtts://c:9,d:4",
			check: func(t *testing.T, c *config) {
				var got []string
				for _, ep := range c.endpoints {
					got = append(got, ep.String())
				}
				assert.Equal(t, []string{"mqtt://a:1883", "mqtts://b:8883", "mqtts://c:9", "mqtt://d:4"}, got)
			},
		},
		{
			name: "query parameters",
			url:  "mqtt://a?keep_alive=5s&wait_time=2s&dial_timeout=3s&raw_payload=true",
			check: func(t *testing.T, c *config) {
				assert.Equal(t, 5*time.Second, c.KeepAlive)
				assert.Equal(t, 2*time.Second, c.WaitTime)
				assert.Equal(t, 3*time.Second, c.DialTimeout)
				assert.True(t, c.RawPayload)
			},
		},
		{name: "wrong scheme", url: "amqp://a", wantErr: postroom.ErrInvalid},
		{name: "no host", url: "mqtt:///t", wantErr: postroom.ErrInvalid},
		{name: "bad failover", url: "mqtt://a?failover=nohostport", wantErr: postroom.ErrInvalid},
		{name: "short keep-alive", url: "mqtt://a?keep_alive=10ms", wantErr: postroom.ErrInvalid},
		{name: "negative wait", url: "mqtt://a", opts: Options{WaitTime: -1}, wantErr: postroom.ErrInvalid},
		{name: "bad bool", url: "mqtt://a?raw_payload=maybe", wantErr: postroom.ErrInvalid},
		{name: "unknown parameter", url: "mqtt://a?keepalive=5s", wantErr: postroom.ErrInvalid},
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
	f.Add("mqtt+ssl://u:p@b-1:8883/t?failover=b-2:8883&keep_alive=5s")
	f.Add("tcp://a?client_id=x&raw_payload=1")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := newConfig(raw, Options{})
		if err != nil {
			require.ErrorIs(t, err, postroom.ErrInvalid)
			return
		}
		require.NotEmpty(t, c.endpoints)
		require.GreaterOrEqual(t, c.KeepAlive, time.Second)
	})
}

func TestNewConfigUnknownParameter(t *testing.T) {
	_, err := newConfig("mqtt://a?keepalive=5s", Options{})
	require.ErrorIs(t, err, postroom.ErrInvalid)
	assert.EqualError(t, err, `mqtt: dial: invalid argument: unknown URL parameter "keepalive" (known: client_id, dial_timeout, failover, keep_alive, raw_payload, wait_time)`)
}

func TestOpenBrokerURLError(t *testing.T) {
	b, err := broker.Open(context.Background(), "mqtt://127.0.0.1:1?bogus=1")
	require.ErrorIs(t, err, postroom.ErrInvalid)
	assert.Nil(t, b, "a failed open returns a nil interface, not a nil *Broker in one")
}
