package main

// The drivers whose URL schemes the verbs open: mem:// (in this process
// only), awssqs:// and SQS queue URLs (https://sqs.…), awssns://,
// awseventbridge://, amqp(s)://, stomp(+ssl)://, mqtt(s)://.
import (
	_ "github.com/postroom/postroom/amazonmq/amqp"
	_ "github.com/postroom/postroom/amazonmq/mqtt"
	_ "github.com/postroom/postroom/amazonmq/stomp"
	_ "github.com/postroom/postroom/awseventbridge"
	_ "github.com/postroom/postroom/awssns"
	_ "github.com/postroom/postroom/awssqs"
	_ "github.com/postroom/postroom/memory"
)
