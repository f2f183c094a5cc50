// Package registry maps URL schemes to the openers drivers register with
// queue, pubsub, eventbus and broker. Each of those packages keeps one
// Registry and exports only Register, Open and Schemes.
package registry

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/errkit"
)

// A Registry maps URL schemes to openers of type O.
type Registry[O any] struct {
	pkg errkit.Pkg // "queue", "pubsub", …: the prefix of its errors

	mu      sync.RWMutex // guards openers
	openers map[string]O
}

// New returns an empty registry whose errors and panics start with pkg.
func New[O any](pkg string) *Registry[O] {
	return &Registry[O]{pkg: errkit.Pkg(pkg), openers: make(map[string]O)}
}

// Register makes o the opener of scheme. Like sql.Register it panics when
// scheme is already registered, or is not a valid scheme: both are
// programming errors found at init.
func (r *Registry[O]) Register(scheme string, o O) {
	if !validScheme(scheme) {
		panic(fmt.Sprintf("%s: Register of invalid scheme %q", r.pkg, scheme))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.openers[scheme]; dup {
		panic(fmt.Sprintf("%s: Register called twice for scheme %q", r.pkg, scheme))
	}
	r.openers[scheme] = o
}

// Lookup parses rawURL and returns the opener of its scheme. Its errors
// are *postroom.Error of kind ErrInvalid (a URL that does not parse or has
// no scheme) or ErrNotFound (a scheme nobody registered).
func (r *Registry[O]) Lookup(rawURL string) (O, *url.URL, error) {
	var zero O
	op := fmt.Sprintf("open %q", rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return zero, nil, r.pkg.Wrap(postroom.ErrInvalid, op, err)
	}
	if u.Scheme == "" {
		return zero, nil, r.pkg.New(postroom.ErrInvalid, op, "the URL has no scheme (want scheme://name)")
	}
	r.mu.RLock()
	o, ok := r.openers[u.Scheme]
	r.mu.RUnlock()
	if !ok {
		registered := "none"
		if s := r.Schemes(); len(s) > 0 {
			registered = strings.Join(s, ", ")
		}
		return zero, nil, r.pkg.Errorf(postroom.ErrNotFound, op,
			"unknown scheme %q (registered: %s); did you import the driver?", u.Scheme, registered)
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
