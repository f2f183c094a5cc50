package queue

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/postroom/postroom"
)

// An Opener opens queues for the URL schemes it was registered under.
type Opener interface {
	OpenQueue(ctx context.Context, u *url.URL) (Queue, error)
}

// OpenerFunc adapts a function to [Opener].
type OpenerFunc func(ctx context.Context, u *url.URL) (Queue, error)

// OpenQueue calls f.
func (f OpenerFunc) OpenQueue(ctx context.Context, u *url.URL) (Queue, error) { return f(ctx, u) }

// Registry maps URL schemes to openers. The queue, pubsub and broker
// packages each keep one; drivers add to them in init.
type Registry[O any] struct {
	kind string // "queue", "pubsub", …: the prefix of error messages

	mu      sync.RWMutex // guards openers
	openers map[string]O
}

// NewRegistry returns an empty registry whose errors start with kind.
func NewRegistry[O any](kind string) *Registry[O] {
	return &Registry[O]{kind: kind, openers: make(map[string]O)}
}

// Register makes o the opener of scheme. Like sql.Register it panics when
// scheme is already registered, or is not a valid scheme: both are
// programming errors found at init.
func (r *Registry[O]) Register(scheme string, o O) {
	if !validScheme(scheme) {
		panic(fmt.Sprintf("%s: Register of invalid scheme %q", r.kind, scheme))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.openers[scheme]; dup {
		panic(fmt.Sprintf("%s: Register called twice for scheme %q", r.kind, scheme))
	}
	r.openers[scheme] = o
}

// Lookup parses rawURL and returns the opener of its scheme.
func (r *Registry[O]) Lookup(rawURL string) (O, *url.URL, error) {
	var zero O
	u, err := url.Parse(rawURL)
	if err != nil {
		return zero, nil, fmt.Errorf("%s: open %q: %w", r.kind, rawURL, errInvalidURL(err))
	}
	if u.Scheme == "" {
		return zero, nil, fmt.Errorf("%s: open %q: %w: the URL has no scheme (want scheme://name)", r.kind, rawURL, postroom.ErrInvalid)
	}
	r.mu.RLock()
	o, ok := r.openers[u.Scheme]
	r.mu.RUnlock()
	if !ok {
		return zero, nil, fmt.Errorf("%s: open %q: %w: unknown scheme %q (registered: %s; is the driver package imported?)",
			r.kind, rawURL, postroom.ErrNotFound, u.Scheme, strings.Join(r.Schemes(), ", "))
	}
	return o, u, nil
}

// Schemes returns the registered schemes, sorted.
func (r *Registry[O]) Schemes() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := make([]string, 0, len(r.openers))
	for k := range r.openers {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

func errInvalidURL(err error) error { return fmt.Errorf("%w: %v", postroom.ErrInvalid, err) }

// validScheme reports whether s is a URL scheme as RFC 3986 defines it.
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

var openers = NewRegistry[Opener]("queue")

// Register makes o open queue URLs with scheme. It panics when scheme is
// registered already.
func Register(scheme string, o Opener) { openers.Register(scheme, o) }

// Open opens the queue a URL names, with the driver registered for the
// URL's scheme, for example "mem://orders?visibility=30s". Each driver
// documents its URL form and query parameters.
func Open(ctx context.Context, rawURL string) (Queue, error) {
	o, u, err := openers.Lookup(rawURL)
	if err != nil {
		return nil, err
	}
	return o.OpenQueue(ctx, u)
}

// Schemes returns the schemes queue.Open knows, sorted.
func Schemes() []string { return openers.Schemes() }
