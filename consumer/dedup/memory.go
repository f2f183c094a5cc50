package dedup

import (
	"context"
	"sync"
	"time"
)

// sweepMin is the least number of keys at which a MemoryStore sweeps
// expired ones.
const sweepMin = 1024

// A MemoryStore is a [Store] in the process's memory. Expired keys are
// forgotten lazily: a lookup ignores them, and a sweep removes them each
// time the number of keys doubled since the last one, so memory stays
// proportional to the keys live within the window. It needs no goroutine
// and no Close.
type MemoryStore struct {
	mu        sync.Mutex
	keys      map[string]entry
	nextSweep int
}

type entry struct {
	until   time.Time // when the claim or the memory of the key expires
	handled bool      // false: claimed
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{keys: make(map[string]entry), nextSweep: sweepMin}
}

// Claim implements [Store].
func (s *MemoryStore) Claim(_ context.Context, key string, lease time.Duration) (Claim, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.keys[key]; ok && now.Before(e.until) {
		if e.handled {
			return Handled, nil
		}
		return InProgress, nil
	}
	s.keys[key] = entry{until: now.Add(lease)}
	if len(s.keys) >= s.nextSweep {
		s.sweep(now)
	}
	return Claimed, nil
}

// Release implements [Store].
func (s *MemoryStore) Release(_ context.Context, key string, handled bool, window time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !handled {
		delete(s.keys, key)
		return nil
	}
	s.keys[key] = entry{until: time.Now().Add(window), handled: true}
	return nil
}

// Len returns the number of keys the store holds, expired ones not yet
// swept included.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

// sweep removes the expired keys. Callers hold s.mu.
func (s *MemoryStore) sweep(now time.Time) {
	for k, e := range s.keys {
		if !now.Before(e.until) {
			delete(s.keys, k)
		}
	}
	s.nextSweep = max(2*len(s.keys), sweepMin)
}
