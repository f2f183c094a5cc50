package localaws

import (
	"errors"

	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

type memoryInfo = memory.MessageInfo

// codeOf returns the service code and message of an error from package
// memory, if it carries them.
func codeOf(err error) (code, msg string, ok bool) {
	var qe *queue.Error
	if errors.As(err, &qe) {
		return qe.Code, qe.Message, true
	}
	return "", "", false
}

// entryErr returns the error of batch entry i of err: err itself when it is
// not a batch error.
func entryErr(err error, i int) error { return queue.EntryErr(err, i) }

// isBatchErr reports whether err reports per-entry failures.
func isBatchErr(err error) bool {
	var be *queue.BatchError
	return errors.As(err, &be)
}

// deadLetterSource returns the ARN of the queue a redrive moved d from.
func deadLetterSource(d *queue.Delivery) string {
	var info *memoryInfo
	if d.As(&info) && info != nil {
		return info.DeadLetterQueueSourceARN
	}
	return ""
}
