package localaws

import (
	"errors"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

// codeOf returns the service code and message of an error from package
// memory, if it carries them.
func codeOf(err error) (code, msg string, ok bool) {
	var pe *postroom.Error
	if errors.As(err, &pe) {
		return pe.Code, pe.Message, true
	}
	return "", "", false
}

// entryErr returns the error of batch entry i of err: err itself when it is
// not a batch error.
func entryErr(err error, i int) error { return postroom.EntryErr(err, i) }

// isBatchErr reports whether err reports per-entry failures.
func isBatchErr(err error) bool {
	var be *postroom.BatchError
	return errors.As(err, &be)
}

// deadLetterSource returns the ARN of the queue a redrive moved d from.
func deadLetterSource(d *queue.Delivery) string { return d.DeadLetterSource }
