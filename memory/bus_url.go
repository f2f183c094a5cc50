package memory

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
)

func init() { eventbus.Register(Scheme, busOpener{}) }

// urlBuses are the buses opened by URL, by name, so that every Open of
// "mem://orders" in a process reaches the same bus while it is open.
var (
	urlBusMu sync.Mutex // guards urlBuses
	urlBuses = map[string]*Bus{}
)

type busOpener struct{}

// OpenBus opens "mem://<bus-name>?<options>" with the query parameter
// max_entry_size (bytes). Every Open of a name in a process returns the
// same bus while it is open; a later Open must not ask for other options.
func (busOpener) OpenBus(ctx context.Context, u *url.URL) (eventbus.Bus, error) {
	name := u.Host + u.Path
	if u.Opaque != "" {
		name = u.Opaque
	}
	var o BusOptions
	for key, vals := range u.Query() {
		val := vals[len(vals)-1]
		var err error
		switch key {
		case "max_entry_size":
			o.MaxEntrySize, err = strconv.Atoi(val)
		default:
			err = fmt.Errorf("unknown query parameter")
		}
		if err != nil {
			return nil, fmt.Errorf("memory: open %q: %w: query parameter %s=%q: %v", u.Redacted(), postroom.ErrInvalid, key, val, err)
		}
	}
	urlBusMu.Lock()
	defer urlBusMu.Unlock()
	if b, ok := urlBuses[name]; ok && !b.isClosed() {
		if u.RawQuery != "" && (o.MaxEntrySize != 0 && o.MaxEntrySize != b.opts.MaxEntrySize) {
			return nil, &postroom.Error{Pkg: "memory", Op: "open", Code: "ResourceAlreadyExistsException",
				Message: "Event bus " + name + " already exists with other options.", Kind: postroom.ErrExists}
		}
		return b, nil
	}
	b, err := NewBus(name, o)
	if err != nil {
		return nil, err
	}
	urlBuses[name] = b
	return b, nil
}

func (b *Bus) isClosed() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.closed
}
