package awslambda_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/awslambda"
	"github.com/postroom/postroom/eventbus"
)

func TestEventBridgeHandler(t *testing.T) {
	var got *eventbus.Event
	h := func(ctx context.Context, ev *eventbus.Event) error {
		got = ev
		return nil
	}
	out, err := invoke(t, awslambda.EventBridgeHandler(h), fixture(t, "eventbridge.json"))
	require.NoError(t, err)
	assert.Equal(t, "null", string(out))
	require.NotNil(t, got)
	assert.Equal(t, "0d6f2b1c-8e4a-7f35-19c2-a4b6d8e0f213", got.ID)
	assert.Equal(t, "com.example.orders", got.Source)
	assert.Equal(t, "Order Placed", got.DetailType)
	assert.JSONEq(t, `{"order":"A-1001","total":42.5,"items":[{"sku":"KB-01","qty":1}]}`, string(got.Detail))
	assert.Equal(t, []string{"arn:aws:dynamodb:ap-southeast-2:111122223333:table/orders"}, got.Resources)
	assert.Equal(t, time.Date(2023, 11, 12, 10, 38, 10, 0, time.UTC), got.Time.UTC())

	parsed, err := awslambda.ParseEvent(fixture(t, "eventbridge.json"))
	require.NoError(t, err)
	assert.Equal(t, got, parsed)

	boom := errors.New("boom")
	_, err = invoke(t, awslambda.EventBridgeHandler(func(context.Context, *eventbus.Event) error { return boom }), fixture(t, "eventbridge.json"))
	assert.EqualError(t, err, "awslambda: handle event 0d6f2b1c-8e4a-7f35-19c2-a4b6d8e0f213: boom")
	_, err = invoke(t, awslambda.EventBridgeHandler(func(context.Context, *eventbus.Event) error { panic("oops") }), fixture(t, "eventbridge.json"))
	assert.ErrorContains(t, err, "handler panicked: oops")
}

func TestParseEventInvalid(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":          `{`,
		"no source":         `{"detail-type":"x","detail":{}}`,
		"no detail-type":    `{"source":"x","detail":{}}`,
		"detail not object": `{"source":"x","detail-type":"y","detail":"z"}`,
		"no detail":         `{"source":"x","detail-type":"y"}`,
		"bad time":          `{"source":"x","detail-type":"y","detail":{},"time":"yesterday"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := awslambda.ParseEvent([]byte(in))
			assert.ErrorIs(t, err, postroom.ErrInvalid)
			assert.ErrorContains(t, err, "awslambda: parse event")
		})
	}
}
