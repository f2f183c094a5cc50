// Package snsapi serves Amazon SNS's Query protocol for the local AWS
// endpoint.
package snsapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/postroom/postroom/localaws/internal/awsreq"
	"github.com/postroom/postroom/memory"
)

const xmlns = "http://sns.amazonaws.com/doc/2010-03-31/"

// Serve answers one SNS Query request whose form is already parsed. Until
// SNS is served, every action gets InvalidAction.
func Serve(ctx context.Context, w http.ResponseWriter, r *http.Request, form url.Values, world *memory.World, region, account string) {
	awsreq.WriteQueryError(w, xmlns, awsreq.RequestID(), awsreq.InvalidAction(form.Get("Action")))
}
