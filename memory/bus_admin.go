package memory

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/postroom/postroom/eventbus"
)

// Archives describes the bus's archives, by name.
func (b *Bus) Archives() []eventbus.Archive {
	b.mu.RLock()
	as := slices.Collect(maps.Values(b.archives))
	b.mu.RUnlock()
	out := make([]eventbus.Archive, 0, len(as))
	now := time.Now()
	for _, a := range as {
		a.mu.Lock()
		a.expire(now)
		out = append(out, a.info)
		a.mu.Unlock()
	}
	slices.SortFunc(out, func(x, y eventbus.Archive) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// Replays describes the replays started on the bus, by name.
func (b *Bus) Replays() []eventbus.Replay {
	b.mu.RLock()
	out := slices.Collect(maps.Values(b.replays))
	b.mu.RUnlock()
	slices.SortFunc(out, func(x, y eventbus.Replay) int { return strings.Compare(x.Name, y.Name) })
	return out
}
