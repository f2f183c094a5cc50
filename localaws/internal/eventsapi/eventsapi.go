// Package eventsapi serves Amazon EventBridge's AWS JSON 1.1 protocol for
// the local AWS endpoint.
package eventsapi

import (
	"context"
	"net/http"

	"github.com/postroom/postroom/localaws/internal/awsreq"
	"github.com/postroom/postroom/memory"
)

// Serve answers one EventBridge request for action (from X-Amz-Target
// "AWSEvents.<Action>"). Until EventBridge is served, every action gets
// UnknownOperationException.
func Serve(ctx context.Context, w http.ResponseWriter, r *http.Request, action string, body []byte, world *memory.World, region, account string) {
	awsreq.WriteJSONError(w, "application/x-amz-json-1.1", awsreq.RequestID(), awsreq.UnknownOperation(), false)
}
