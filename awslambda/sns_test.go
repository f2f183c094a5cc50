package awslambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/awslambda"
	"github.com/postroom/postroom/queue"
)

func TestSNSHandler(t *testing.T) {
	rec := &recorder{}
	out, err := invoke(t, awslambda.SNSHandler(rec.handle), fixture(t, "sns.json"))
	require.NoError(t, err)
	assert.Equal(t, "null", string(out))
	require.Len(t, rec.seen, 1)
	d := rec.seen[0]
	assert.Equal(t, "6a1d9c3e-4f27-5b80-a9e1-2c3d4e5f6a7b", d.ID)
	assert.JSONEq(t, `{"order":"A-1001","total":42.5}`, string(d.Body))
	assert.Equal(t, queue.Attributes{
		"tenant":   queue.String("acme"),
		"total":    queue.Number("42.5"),
		"checksum": queue.Binary([]byte{1, 2, 0xff}),
		"tags":     queue.StringArray("priority", "eu"),
		"Subject":  queue.String("Order placed"),
	}, d.Attributes)
	assert.Equal(t, time.Date(2023, 11, 12, 10, 38, 10, 123e6, time.UTC), d.SentAt.UTC())
	assert.Equal(t, 1, d.ReceiveCount)
	var raw events.SNSEventRecord
	require.True(t, d.As(&raw))
	assert.Equal(t, "arn:aws:sns:eu-central-1:111122223333:order-events", raw.SNS.TopicArn)
}

func TestSNSHandlerErrors(t *testing.T) {
	boom := errors.New("boom")
	var ev events.SNSEvent
	require.NoError(t, json.Unmarshal(fixture(t, "sns.json"), &ev))
	id := ev.Records[0].SNS.MessageID

	err := awslambda.SNSHandler(func(context.Context, *queue.Delivery) error { return boom })(context.Background(), ev)
	assert.ErrorIs(t, err, boom)
	assert.EqualError(t, err, "awslambda: handle message "+id+": boom")

	err = awslambda.SNSHandler(func(context.Context, *queue.Delivery) error { panic("oops") })(context.Background(), ev)
	assert.ErrorContains(t, err, "handler panicked: oops")

	// A subject does not replace an attribute of that name.
	ev.Records[0].SNS.MessageAttributes["Subject"] = map[string]any{"Type": "String", "Value": "mine"}
	d, err := awslambda.SNSDelivery(ev.Records[0], time.Now())
	require.NoError(t, err)
	assert.Equal(t, "mine", d.Attributes.Get("Subject"))

	for name, attr := range map[string]any{
		"binary not base64":     map[string]any{"Type": "Binary", "Value": "TestBinary"},
		"array not an array":    map[string]any{"Type": "String.Array", "Value": `"x"`},
		"no type":               map[string]any{"Value": "x"},
		"value not a string":    map[string]any{"Type": "Number", "Value": 42},
		"attribute not an obj.": "x",
	} {
		t.Run(name, func(t *testing.T) {
			r := ev.Records[0]
			r.SNS.MessageAttributes = map[string]any{"bad": attr}
			_, err := awslambda.SNSDelivery(r, time.Now())
			assert.ErrorIs(t, err, postroom.ErrInvalid)
			assert.ErrorContains(t, err, `awslambda: convert SNS record: invalid argument: message `+id+`: attribute "bad"`)
			err = awslambda.SNSHandler(func(context.Context, *queue.Delivery) error { return nil })(context.Background(), events.SNSEvent{Records: []events.SNSEventRecord{r}})
			assert.ErrorIs(t, err, postroom.ErrInvalid)
		})
	}
}
