package awslambda

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postroom/postroom/consumer"
)

// SNSHandler returns the handler of a Lambda function subscribed to an SNS
// topic: it handles each record of the event with h, as the delivery
// [SNSDelivery] makes of it. SNS invokes functions asynchronously: when h
// fails or panics, the function returns the error and Lambda retries the
// whole event (twice by default, then the function's on-failure
// destination or dead-letter queue). A record that cannot be converted
// fails the invocation the same way.
func SNSHandler(h consumer.Handler) func(ctx context.Context, ev events.SNSEvent) error {
	return func(ctx context.Context, ev events.SNSEvent) error {
		now := time.Now()
		for _, r := range ev.Records {
			d, err := SNSDelivery(r, now)
			if err != nil {
				return err
			}
			if err := call(ctx, h, d); err != nil {
				return messageError(d, err)
			}
		}
		return nil
	}
}
