package memory

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
)

func init() { eventbus.Register(Scheme, busOpener{}) }

type busOpener struct{}

// OpenBusURL opens a mem:// bus URL in the default world.
func (busOpener) OpenBusURL(ctx context.Context, u *url.URL) (eventbus.Bus, error) {
	b, err := Default().openBus(u)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// openBus opens "mem://<bus-name>?<options>" with the query parameter
// max_entry_size (bytes). Every Open of a name in the world returns the
// same bus while it is open; a later Open must not ask for other options.
func (w *World) openBus(u *url.URL) (*Bus, error) {
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
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errWorldClosed("open")
	}
	if b := w.liveBus(name); b != nil {
		if u.RawQuery != "" && (o.MaxEntrySize != 0 && o.MaxEntrySize != b.opts.MaxEntrySize) {
			return nil, &postroom.Error{Pkg: "memory", Op: "open", Code: "ResourceAlreadyExistsException",
				Message: "Event bus " + name + " already exists with other options.", Kind: postroom.ErrExists}
		}
		return b, nil
	}
	b, err := newBus(w, name, o)
	if err != nil {
		return nil, err
	}
	w.buses[name] = b
	return b, nil
}

func (b *Bus) isClosed() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.closed
}
