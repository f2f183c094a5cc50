package pattern

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

// errNilPattern is returned by Matcher.Add for a nil pattern.
var errNilPattern = errors.New("pattern: cannot add a nil pattern")

// Matcher matches events against many named patterns at once. The zero
// value is an empty Matcher ready for use; a Matcher is safe for concurrent
// use.
//
// # Cost
//
// All patterns are compiled into one index (see the package documentation),
// so the cost of a match grows with the size of the event and the number
// of patterns that could match it, not with the number of patterns. Add
// and Remove are cheap; the index is rebuilt, in time linear in the total
// size of the patterns, by the first match after a change. Matching itself
// takes no lock and reads an immutable snapshot.
type Matcher struct {
	mu       sync.Mutex // guards patterns and the rebuilding of snap
	patterns map[string]*Pattern

	dirty atomic.Bool
	snap  atomic.Pointer[snapshot]
}

// NewMatcher returns an empty Matcher.
func NewMatcher() *Matcher { return &Matcher{} }

// Add adds p under name, replacing any pattern already added under name.
func (m *Matcher) Add(name string, p *Pattern) error {
	if p == nil {
		return errNilPattern
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.patterns == nil {
		m.patterns = map[string]*Pattern{}
	}
	m.patterns[name] = p
	m.dirty.Store(true)
	return nil
}

// Remove removes the pattern added under name and reports whether there
// was one.
func (m *Matcher) Remove(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.patterns[name]; !ok {
		return false
	}
	delete(m.patterns, name)
	m.dirty.Store(true)
	return true
}

// Len returns the number of patterns.
func (m *Matcher) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.patterns)
}

// current returns the snapshot reflecting every Add and Remove that
// happened before the call.
func (m *Matcher) current() *snapshot {
	if !m.dirty.Load() {
		if s := m.snap.Load(); s != nil {
			return s
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.snap.Load()
	if s == nil || m.dirty.Load() {
		s = buildSnapshot(m.patterns)
		m.snap.Store(s)
		m.dirty.Store(false)
	}
	return s
}

// Match returns the names of the patterns that match event, a JSON object,
// in ascending order. A malformed event, or one that is not an object,
// yields an error wrapping [ErrInvalidEvent].
func (m *Matcher) Match(event []byte) ([]string, error) {
	return m.MatchAppend(nil, event)
}

// MatchAppend is like Match but appends the names to dst, which it returns.
// With a dst of sufficient capacity it does not allocate.
func (m *Matcher) MatchAppend(dst []string, event []byte) ([]string, error) {
	snap := m.current()
	s := getScratch()
	defer putScratch(s)
	if err := s.flatten(snap.prog.root, len(snap.prog.paths), event); err != nil {
		return dst, err
	}
	return s.collect(snap, dst, snap.anySNS && emptyObject(event)), nil
}

// MatchAttributes returns, in ascending order, the names of the patterns
// that match the SNS message attributes; see [Pattern.MatchAttributes].
// An empty set of attributes matches none.
func (m *Matcher) MatchAttributes(attrs map[string]Attribute) []string {
	if len(attrs) == 0 {
		return nil
	}
	snap := m.current()
	s := getScratch()
	defer putScratch(s)
	s.flattenAttributes(snap.prog.root, len(snap.prog.paths), attrs)
	return s.collect(snap, nil, false)
}

// collect runs the index over the flattened event and appends the names of
// the matching patterns to dst. With emptyBody (the event is {}), SNS
// filter policies are left out.
func (s *scratch) collect(snap *snapshot, dst []string, emptyBody bool) []string {
	s.snap = snap
	if n := len(snap.prog.clauses); len(s.cgen) < n {
		s.cgen = make([]uint32, max(n, 2*len(s.cgen)))
	}
	if n := len(snap.names); len(s.pgen) < n {
		s.pgen = make([]uint32, max(n, 2*len(s.pgen)))
	}
	s.matched = s.matched[:0]
	for i := range s.leaves {
		if ai := snap.anchors[s.leaves[i].path]; ai != nil {
			s.candidates(ai, &s.leaves[i])
		}
	}
	for _, pid := range s.present {
		if ai := snap.anchors[pid]; ai != nil {
			for _, c := range ai.presence {
				s.consider(c, nil)
			}
		}
	}
	for _, c := range snap.always {
		s.consider(c, nil)
	}
	s.snap = nil
	slices.Sort(s.matched)
	dst = slices.Grow(dst, len(s.matched))
	for _, p := range s.matched {
		if emptyBody && snap.sns[p] {
			continue
		}
		dst = append(dst, snap.names[p])
	}
	return dst
}

// consider verifies a candidate clause once per event. l, when not nil, is
// a leaf that satisfies the clause's anchor condition (it was found by an
// exact lookup of l): when l is in no array, verify need not check that
// condition again.
func (s *scratch) consider(c uint32, l *leaf) {
	if s.cgen[c] == s.gen {
		return
	}
	s.cgen[c] = s.gen
	cl := &s.snap.prog.clauses[c]
	if s.pgen[cl.pat] == s.gen {
		return
	}
	skip := int32(-1)
	if l != nil && l.node == 0 {
		skip = cl.anchor
	}
	if s.verify(cl, skip) {
		s.pgen[cl.pat] = s.gen
		s.matched = append(s.matched, cl.pat)
	}
}
