// Package svcerr reads the service error code and message that the memory
// drivers put in their errors, for the protocol layers of the local AWS
// endpoint to answer with.
package svcerr

import (
	"errors"

	"github.com/postroom/postroom"
)

// Of returns the service's error code and message carried by err, and the
// sentinel it matches; code is "" when err carries none.
func Of(err error) (code, message string, kind error) {
	var pe *postroom.Error
	if errors.As(err, &pe) {
		msg := pe.Message
		if msg == "" && pe.Err != nil {
			msg = pe.Err.Error()
		}
		return pe.Code, msg, pe.Kind
	}
	return "", err.Error(), nil
}
