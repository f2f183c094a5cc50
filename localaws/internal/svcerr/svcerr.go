// Package svcerr reads the service error code and message that the memory
// drivers put in their errors, for the protocol layers of the local AWS
// endpoint to answer with.
package svcerr

import (
	"errors"

	"github.com/postroom/postroom/queue"
)

// Of returns the service's error code and message carried by err, and the
// sentinel it matches; code is "" when err carries none.
func Of(err error) (code, message string, kind error) {
	var qe *queue.Error
	if errors.As(err, &qe) {
		msg := qe.Message
		if msg == "" && qe.Cause != nil {
			msg = qe.Cause.Error()
		}
		return qe.Code, msg, qe.Err
	}
	return "", err.Error(), nil
}
