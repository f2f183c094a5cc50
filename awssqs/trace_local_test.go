package awssqs_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/awssqs"
	"github.com/postroom/postroom/localaws"
	"github.com/postroom/postroom/queue"
	"github.com/postroom/postroom/queue/queuetest"
)

// bodyRecorder is an http.RoundTripper that keeps the body of every
// request it passes on.
type bodyRecorder struct {
	mu     sync.Mutex
	bodies []string
}

func (r *bodyRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestTraceHeaderLocal sends a message with an X-Ray trace header through
// the SDK to the local endpoint and receives it: the header travels as the
// AWSTraceHeader system attribute, and comes back in the delivery.
func TestTraceHeaderLocal(t *testing.T) {
	_, cfg := localaws.NewTestServer(t, localaws.Options{})
	rec := &bodyRecorder{}
	cfg.HTTPClient = &http.Client{Transport: rec}
	q := newQueue(t, sqs.NewFromConfig(cfg), queuetest.Config{}, awssqs.Options{})
	const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, q.Send(ctx, &queue.Message{Body: []byte("traced"),
		Attributes: queue.Attributes{awssqs.TraceHeaderAttribute: queue.String(header), "k": queue.String("v")}}))

	rec.mu.Lock()
	var sent string
	for _, b := range rec.bodies {
		if bytes.Contains([]byte(b), []byte(`"traced"`)) {
			sent = b
		}
	}
	rec.mu.Unlock()
	assert.Contains(t, sent, `"MessageSystemAttributes":{"AWSTraceHeader":{"DataType":"String","StringValue":"`+header+`"}}`)
	assert.NotContains(t, sent, `"MessageAttributes":{"AWSTraceHeader"`)

	ds, err := q.Receive(ctx, queue.ReceiveOptions{MaxMessages: 1, WaitTime: 5 * time.Second})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	d := ds[0]
	assert.Equal(t, queue.String("v"), d.Attributes["k"])
	require.NoError(t, q.Ack(ctx, d))
	assert.Equal(t, header, awssqs.TraceHeader(d))
	assert.Len(t, d.Attributes, 2)
}
