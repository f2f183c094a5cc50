package awslambda_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/postroom/postroom/awslambda"
	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/queue"
)

// A consumer.Handler becomes the handler of a function with an SQS
// trigger; in main, pass it to lambda.Start. Here the runtime's own
// handler wrapper invokes it with an event, as Lambda would.
func ExampleSQSHandler() {
	handle := func(ctx context.Context, d *queue.Delivery) error {
		if string(d.Body) == "bad" {
			return errors.New("cannot handle it")
		}
		fmt.Printf("handled %s (receive %d)\n", d.Body, d.ReceiveCount)
		return nil
	}
	fn := awslambda.SQSHandler(consumer.Chain(handle), awslambda.SQSOptions{})

	event := `{"Records":[
		{"messageId":"m1","body":"good","attributes":{"ApproximateReceiveCount":"1"},"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:111122223333:jobs"},
		{"messageId":"m2","body":"bad","attributes":{"ApproximateReceiveCount":"2"},"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:111122223333:jobs"}]}`
	out, err := lambda.NewHandler(fn).Invoke(context.Background(), []byte(event))
	fmt.Println(string(out), err)
	// Output:
	// handled good (receive 1)
	// {"batchItemFailures":[{"itemIdentifier":"m2"}]} <nil>
}
