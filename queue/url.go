package queue

import (
	"context"
	"net/url"

	"github.com/postroom/postroom/internal/registry"
)

// An Opener opens queues for the URL schemes it was registered under. The
// method is named for what it opens, so that one driver value can be a
// queue, pubsub, eventbus and broker Opener at once.
type Opener interface {
	OpenQueueURL(ctx context.Context, u *url.URL) (Queue, error)
}

var openers = registry.New[Opener]("queue")

// Register makes o open queue URLs with scheme. It panics when scheme is
// registered already.
func Register(scheme string, o Opener) { openers.Register(scheme, o) }

// Open opens the queue a URL names, with the driver registered for the
// URL's scheme, for example "mem://orders?visibility=30s". Each driver
// documents its URL form and query parameters. An unknown scheme returns
// an error matching postroom.ErrNotFound; a URL that does not parse, one
// matching postroom.ErrInvalid.
func Open(ctx context.Context, rawURL string) (Queue, error) {
	o, u, err := openers.Lookup(rawURL)
	if err != nil {
		return nil, err
	}
	return o.OpenQueueURL(ctx, u)
}

// Schemes returns the schemes queue.Open knows, sorted.
func Schemes() []string { return openers.Schemes() }
