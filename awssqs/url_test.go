package awssqs

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

func TestOpenURLRejects(t *testing.T) {
	for name, raw := range map[string]string{
		"unknown parameter": "awssqs://orders?region=us-east-1&visibility=30s",
		"no name":           "awssqs://?region=us-east-1",
		"path in name":      "awssqs://orders/more?region=us-east-1",
		"not SQS":           "https://example.com/123456789012/orders",
		"no account":        "https://sqs.us-east-1.amazonaws.com/orders",
		"extra path":        "https://sqs.us-east-1.amazonaws.com/123456789012/orders/x",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := queue.Open(context.Background(), raw)
			require.ErrorIs(t, err, postroom.ErrInvalid)
		})
	}
}

func TestSQSHostRegion(t *testing.T) {
	for host, want := range map[string]string{
		"sqs.eu-west-1.amazonaws.com":      "eu-west-1",
		"SQS.us-east-2.amazonaws.com":      "us-east-2",
		"sqs.cn-north-1.amazonaws.com.cn":  "cn-north-1",
		"us-west-2.queue.amazonaws.com":    "us-west-2",
		"sqs.amazonaws.com":                "",
		"sqs.eu-west-1.amazonaws.com.evil": "",
		"sqs.a.b.amazonaws.com":            "",
		"sns.eu-west-1.amazonaws.com":      "",
		"localhost":                        "",
	} {
		got, ok := sqsHostRegion(host)
		assert.Equal(t, want, got, host)
		assert.Equal(t, want != "", ok, host)
	}
}

func TestSchemesRegistered(t *testing.T) {
	assert.Contains(t, queue.Schemes(), "awssqs")
	assert.Contains(t, queue.Schemes(), "https")
}

func FuzzOpenURL(f *testing.F) {
	f.Add("awssqs://orders?region=us-east-1")
	f.Add("https://sqs.us-east-1.amazonaws.com/123456789012/orders")
	f.Add("awssqs:orders")
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "awssqs" && u.Scheme != "https") {
			return
		}
		q := u.Query()
		q.Del("region")
		q.Del("profile")
		q.Del("endpoint")
		if len(q) == 0 {
			return // would reach the network
		}
		_, err = OpenURL(context.Background(), u)
		if err == nil {
			t.Fatalf("%q: want an error for unknown parameters", raw)
		}
	})
}
