package awseventbridge_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/awseventbridge"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/localaws"
)

// localEnv points the SDK's default chain at a local endpoint and returns
// its URL.
func localEnv(t *testing.T) string {
	t.Helper()
	_, cfg := localaws.NewTestServer(t, localaws.Options{})
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	return aws.ToString(cfg.BaseEndpoint)
}

func TestOpenURL(t *testing.T) {
	endpoint := localEnv(t)
	ctx := context.Background()
	for _, raw := range []string{
		"awseventbridge://default?endpoint=" + url.QueryEscape(endpoint),
		"awseventbridge://default?region=eu-west-1&endpoint=" + url.QueryEscape(endpoint),
		"awseventbridge:///arn:aws:events:eu-west-2:000000000000:event-bus/default?endpoint=" + url.QueryEscape(endpoint),
	} {
		b, err := eventbus.Open(ctx, raw)
		require.NoError(t, err, raw)
		require.NoError(t, b.Put(ctx, &eventbus.Event{Source: "orders", DetailType: "created", Detail: []byte(`{"id":1}`)}))
		require.NoError(t, b.Close())
	}
	// The region comes from the parameter, then from the ARN.
	b, err := eventbus.Open(ctx, "awseventbridge://default?region=eu-west-1&endpoint="+url.QueryEscape(endpoint))
	require.NoError(t, err)
	assert.Contains(t, b.(*awseventbridge.Bus).ARN(), ":eu-west-1:")
	b, err = eventbus.Open(ctx, "awseventbridge:///arn:aws:events:eu-west-2:000000000000:event-bus/default?endpoint="+url.QueryEscape(endpoint))
	require.NoError(t, err)
	assert.Contains(t, b.(*awseventbridge.Bus).ARN(), ":eu-west-2:")

	_, err = eventbus.Open(ctx, "awseventbridge://nosuch?endpoint="+url.QueryEscape(endpoint))
	require.ErrorIs(t, err, postroom.ErrNotFound)
	assert.Regexp(t, `^awseventbridge: `, err.Error())
}

func TestOpenURLRejects(t *testing.T) {
	for name, raw := range map[string]string{
		"unknown parameter": "awseventbridge://default?region=us-east-1&batch=5",
		"no name":           "awseventbridge://?region=us-east-1",
		"path in name":      "awseventbridge://orders/more?region=us-east-1",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := eventbus.Open(context.Background(), raw)
			require.ErrorIs(t, err, postroom.ErrInvalid)
			assert.Regexp(t, `^awseventbridge: open `, err.Error())
		})
	}
	assert.Contains(t, eventbus.Schemes(), awseventbridge.Scheme)
}

func FuzzParseURL(f *testing.F) {
	f.Add("awseventbridge://default?region=us-east-1")
	f.Add("awseventbridge:///arn:aws:events:eu-west-1:123456789012:event-bus/orders")
	f.Add("awseventbridge:orders?x=1")
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != awseventbridge.Scheme {
			return
		}
		q := u.Query()
		q.Del("region")
		q.Del("profile")
		q.Del("endpoint")
		if len(q) == 0 {
			return // would reach the network
		}
		_, err = awseventbridge.OpenURL(context.Background(), u)
		if err == nil {
			t.Fatalf("%q: want an error for unknown parameters", raw)
		}
		if !errorsIsInvalid(err) {
			t.Fatalf("%q: %v does not match postroom.ErrInvalid", raw, err)
		}
	})
}

func errorsIsInvalid(err error) bool { return errors.Is(err, postroom.ErrInvalid) }
