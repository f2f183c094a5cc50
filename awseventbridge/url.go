package awseventbridge

import (
	"context"
	"net/url"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/internal/awsurl"
)

// Scheme is the URL scheme of event buses.
const Scheme = "awseventbridge"

func init() {
	eventbus.Register(Scheme, opener{})
}

type opener struct{}

func (opener) OpenBusURL(ctx context.Context, u *url.URL) (eventbus.Bus, error) {
	return OpenURL(ctx, u)
}

// OpenURL opens the event bus u names, with a configuration from the
// SDK's default chain: "awseventbridge://default?region=eu-west-1" for the
// account's default bus, "awseventbridge://orders" by name, or
// "awseventbridge:///arn:aws:events:eu-west-1:123456789012:event-bus/orders"
// by ARN. It takes the query parameters region, profile and endpoint, and
// no others; without region, a bus given by ARN is opened in the ARN's
// region.
func OpenURL(ctx context.Context, u *url.URL) (*Bus, error) {
	op := "open " + strconv.Quote(u.Redacted())
	if u.Scheme != Scheme {
		return nil, &postroom.Error{Pkg: pkgName, Op: op, Message: "unknown scheme " + strconv.Quote(u.Scheme), Kind: postroom.ErrInvalid}
	}
	name, cfg, err := awsurl.NameOrARN(ctx, pkgName, op, "bus", u)
	if err != nil {
		return nil, err
	}
	return New(ctx, eventbridge.NewFromConfig(cfg), name, Options{})
}
