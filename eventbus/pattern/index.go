package pattern

import (
	"math"
	"slices"
	"sort"
)

// This file builds the Matcher's index. Every clause of every pattern is
// filed under one "anchor" condition, chosen as the most selective one
// across the whole set of patterns; only events with a value that can
// satisfy the anchor make the clause a candidate, and candidates are then
// verified exactly. The per-event cost therefore follows the number of
// event values at indexed paths and the number of candidates, not the
// number of patterns.

// snapshot is an immutable compiled state of a Matcher.
type snapshot struct {
	prog    *program
	names   []string       // sorted; a pattern's id is its index
	anchors []*anchorIndex // per path id, nil when nothing is anchored there
	always  []uint32       // clauses without an anchorable condition
	sns     []bool         // per pattern: an SNS filter policy
	anySNS  bool
}

// anchorIndex finds the clauses anchored on one path whose anchor a value
// may satisfy.
type anchorIndex struct {
	str        map[string][]uint32
	num        map[uint64][]uint32
	lit        map[string][]uint32 // number literals outside float64
	tru, fal   []uint32
	null       []uint32
	ip         map[ipAddr][]uint32
	fold       map[string][]uint32
	prefix     affixIndex
	prefixFold affixIndex
	suffix     affixIndex
	suffixFold affixIndex
	ranges     rangeIndex
	cidrs      cidrIndex
	presence   []uint32 // clauses found by the path's presence alone
	needIP     bool
	needFold   bool
}

type affixIndex struct {
	m    map[string][]uint32
	lens []int // distinct key lengths, ascending
}

func (a *affixIndex) add(key string, clause uint32) {
	if a.m == nil {
		a.m = map[string][]uint32{}
	}
	if _, ok := a.m[key]; !ok {
		i, found := slices.BinarySearch(a.lens, len(key))
		if !found {
			a.lens = slices.Insert(a.lens, i, len(key))
		}
	}
	a.m[key] = appendUnique(a.m[key], clause)
}

// cidrIndex finds the CIDR blocks that hold an address in O(number of
// prefix lengths), as affixIndex does for prefixes: each block is filed
// under its network (its address masked to its prefix), and a lookup masks
// the address to each prefix length in use.
type cidrIndex struct {
	m    map[cidrNet][]cidrEntry
	lens []uint8 // distinct prefix lengths, ascending
}

// cidrNet is a network: an address masked to its prefix, as a 128-bit
// number.
type cidrNet struct {
	hi, lo uint64
	prefix uint8
	v4     bool
}

type cidrEntry struct {
	first  ipAddr // the block starts at the address written, which may have host bits
	clause uint32
}

// network returns the network of prefix bits holding ip.
func network(ip *ipAddr, prefix uint8) cidrNet {
	hi, lo := ip.words()
	switch {
	case prefix == 0:
		hi, lo = 0, 0
	case prefix <= 64:
		hi &= ^uint64(0) << (64 - prefix)
		lo = 0
	default:
		lo &= ^uint64(0) << (128 - prefix)
	}
	return cidrNet{hi: hi, lo: lo, prefix: prefix, v4: ip.v4}
}

func (c *cidrIndex) add(m *matcher, clause uint32) {
	if c.m == nil {
		c.m = map[cidrNet][]cidrEntry{}
	}
	if i, found := slices.BinarySearch(c.lens, m.ipPrefix); !found {
		c.lens = slices.Insert(c.lens, i, m.ipPrefix)
	}
	k := network(&m.ip, m.ipPrefix)
	c.m[k] = append(c.m[k], cidrEntry{first: m.ip, clause: clause})
}

type rangeEntry struct {
	lo, hi float64
	clause uint32
}

// rangeIndex answers "which ranges contain x" in O(log n + k): the entries
// sorted by low end form an implicit balanced tree, each node keeping the
// highest high end of its subtree.
type rangeIndex struct {
	es    []rangeEntry
	maxHi []float64
}

func (r *rangeIndex) build() {
	sort.Slice(r.es, func(i, j int) bool { return r.es[i].lo < r.es[j].lo })
	r.maxHi = make([]float64, len(r.es))
	var rec func(l, h int) float64
	rec = func(l, h int) float64 {
		if l >= h {
			return math.Inf(-1)
		}
		m := (l + h) / 2
		mh := max(r.es[m].hi, rec(l, m), rec(m+1, h))
		r.maxHi[m] = mh
		return mh
	}
	rec(0, len(r.es))
}

func appendUnique(list []uint32, v uint32) []uint32 {
	if n := len(list); n > 0 && list[n-1] == v {
		return list
	}
	return append(list, v)
}

// statKey counts how many conditions could be found under one index key.
type statKey struct {
	pid  uint32
	kind mkind
	key  string
}

const (
	costPresence = 8
	costAffix    = 2
	costRange    = 4
	inf          = math.MaxInt
)

func numKey(f float64) uint64 { return math.Float64bits(f) }

func ipKey(ip ipAddr) string {
	if ip.v4 {
		return string(ip.b[:]) + "4"
	}
	return string(ip.b[:]) + "6"
}

// matcherKey returns the index key of m, if it has one.
func matcherKey(m *matcher) (mkind, string, bool) {
	switch m.kind {
	case mString, mPrefix, mSuffix, mFold, mPrefixFold, mSuffixFold:
		return m.kind, m.s, true
	case mNumber:
		if m.fin {
			f := numKey(m.num)
			return m.kind, string([]byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24), byte(f >> 32), byte(f >> 40), byte(f >> 48), byte(f >> 56)}), true
		}
		return mNumber, "lit:" + m.s, true
	case mIP:
		return m.kind, ipKey(m.ip), true
	case mTrue, mFalse, mNull:
		return m.kind, "", true
	case mWildcard:
		if m.wc.stars == 0 {
			return mString, string(m.wc.segs[0]), true
		}
		if p := m.wc.literalPrefix(); len(p) > 0 {
			return mPrefix, string(p), true
		}
		if sfx := m.wc.literalSuffix(); len(sfx) > 0 {
			return mSuffix, string(sfx), true
		}
	}
	return m.kind, "", false
}

// buildSnapshot compiles the named patterns into one index.
func buildSnapshot(patterns map[string]*Pattern) *snapshot {
	names := make([]string, 0, len(patterns))
	for n := range patterns {
		names = append(names, n)
	}
	sort.Strings(names)
	b := newProgramBuilder()
	for i, n := range names {
		for _, cl := range patterns[n].clauses {
			b.add(uint32(i), cl)
		}
	}
	prog := b.prog
	snap := &snapshot{prog: prog, names: names, anchors: make([]*anchorIndex, len(prog.paths)), sns: make([]bool, len(names))}
	for i, n := range names {
		snap.sns[i] = patterns[n].dialect == SNS
		snap.anySNS = snap.anySNS || snap.sns[i]
	}

	// Pass 1: how crowded each index key and each path is.
	keyCount := map[statKey]int{}
	presenceCount := make([]int, len(prog.paths))
	rangeCount := make([]int, len(prog.paths))
	for ci := range prog.clauses {
		for _, c := range prog.clauses[ci].conds {
			presence := false
			for i := range c.spec.ms {
				m := &c.spec.ms[i]
				if m.presenceOnly() {
					presence = true
					continue
				}
				switch m.kind {
				case mRange, mCIDR:
					rangeCount[c.pid]++
					continue
				}
				if k, key, ok := matcherKey(m); ok {
					keyCount[statKey{c.pid, k, key}]++
				}
			}
			if presence {
				presenceCount[c.pid]++
			}
		}
	}

	// Pass 2: choose each clause's anchor and file it.
	for ci := range prog.clauses {
		cl := &prog.clauses[ci]
		best, bestCost := -1, inf
		for i, c := range cl.conds {
			cost := condCost(c, keyCount, presenceCount, rangeCount)
			if cost < bestCost {
				best, bestCost = i, cost
			}
		}
		if best < 0 {
			snap.always = append(snap.always, uint32(ci))
			continue
		}
		cl.anchor = int32(best)
		c := cl.conds[best]
		ai := snap.anchors[c.pid]
		if ai == nil {
			ai = &anchorIndex{}
			snap.anchors[c.pid] = ai
		}
		ai.add(c.spec, uint32(ci))
	}
	for _, ai := range snap.anchors {
		if ai != nil {
			ai.ranges.build()
		}
	}
	return snap
}

// condCost estimates how many candidates anchoring on c would produce.
func condCost(c condInst, keyCount map[statKey]int, presenceCount, rangeCount []int) int {
	if c.spec.absent {
		return inf
	}
	cost := 0
	for i := range c.spec.ms {
		m := &c.spec.ms[i]
		if m.presenceOnly() {
			return costPresence * (presenceCount[c.pid] + 1)
		}
		switch m.kind {
		case mRange, mCIDR:
			cost += costRange + rangeCount[c.pid]/2
			continue
		}
		k, key, _ := matcherKey(m)
		n := keyCount[statKey{c.pid, k, key}]
		switch k {
		case mPrefix, mSuffix, mPrefixFold, mSuffixFold:
			n += costAffix
		}
		cost += n
	}
	return cost
}

// add files clause under every matcher of its anchor condition.
func (ai *anchorIndex) add(c *condSpec, clause uint32) {
	for i := range c.ms {
		if c.ms[i].presenceOnly() {
			ai.presence = appendUnique(ai.presence, clause)
			return
		}
	}
	for i := range c.ms {
		m := &c.ms[i]
		switch m.kind {
		case mRange:
			ai.ranges.es = append(ai.ranges.es, rangeEntry{lo: m.lo, hi: m.hi, clause: clause})
			continue
		case mCIDR:
			ai.cidrs.add(m, clause)
			ai.needIP = true
			continue
		case mTrue:
			ai.tru = appendUnique(ai.tru, clause)
			continue
		case mFalse:
			ai.fal = appendUnique(ai.fal, clause)
			continue
		case mNull:
			ai.null = appendUnique(ai.null, clause)
			continue
		case mNumber:
			if m.fin {
				if ai.num == nil {
					ai.num = map[uint64][]uint32{}
				}
				k := numKey(m.num)
				ai.num[k] = appendUnique(ai.num[k], clause)
			} else {
				if ai.lit == nil {
					ai.lit = map[string][]uint32{}
				}
				ai.lit[m.s] = appendUnique(ai.lit[m.s], clause)
			}
			continue
		case mIP:
			if ai.ip == nil {
				ai.ip = map[ipAddr][]uint32{}
			}
			ai.ip[m.ip] = appendUnique(ai.ip[m.ip], clause)
			ai.needIP = true
			continue
		}
		k, key, _ := matcherKey(m)
		switch k {
		case mString:
			if ai.str == nil {
				ai.str = map[string][]uint32{}
			}
			ai.str[key] = appendUnique(ai.str[key], clause)
		case mFold:
			if ai.fold == nil {
				ai.fold = map[string][]uint32{}
			}
			ai.fold[key] = appendUnique(ai.fold[key], clause)
			ai.needFold = true
		case mPrefix:
			ai.prefix.add(key, clause)
		case mSuffix:
			ai.suffix.add(key, clause)
		case mPrefixFold:
			ai.prefixFold.add(key, clause)
			ai.needFold = true
		case mSuffixFold:
			ai.suffixFold.add(key, clause)
			ai.needFold = true
		}
	}
}

// candidates considers every clause anchored here that leaf l may satisfy.
// The exact lookups (values, numbers, IP addresses and CIDR blocks,
// case-folded values, literals) find only clauses whose anchor condition l
// satisfies, and say so; the prefix, suffix and range lookups may find
// more.
func (s *scratch) candidates(ai *anchorIndex, l *leaf) {
	switch l.kind {
	case vString:
		v := s.str(l)
		if ai.str != nil {
			for _, c := range ai.str[string(v)] {
				s.consider(c, l)
			}
		}
		s.lookupPrefix(&ai.prefix, v)
		s.lookupSuffix(&ai.suffix, v)
		if ai.needIP {
			if ip, _, ok := parseIP(v); ok {
				if ai.ip != nil {
					for _, c := range ai.ip[ip] {
						s.consider(c, l)
					}
				}
				for _, n := range ai.cidrs.lens {
					for _, e := range ai.cidrs.m[network(&ip, n)] {
						// The network holds ip; the block may start later.
						if !ipLess(&ip, &e.first) {
							s.consider(e.clause, l)
						}
					}
				}
			}
		}
		if ai.needFold {
			f := s.folded(l)
			if ai.fold != nil {
				for _, c := range ai.fold[string(f)] {
					s.consider(c, l)
				}
			}
			s.lookupPrefix(&ai.prefixFold, f)
			s.lookupSuffix(&ai.suffixFold, f)
		}
	case vNumber:
		f, ok := s.number(l)
		if ok {
			if ai.num != nil {
				for _, c := range ai.num[numKey(f)] {
					s.consider(c, l)
				}
			}
			if len(ai.ranges.es) > 0 {
				s.stab(&ai.ranges, 0, len(ai.ranges.es), f)
			}
		} else if ai.lit != nil {
			for _, c := range ai.lit[string(s.data[l.off:l.off+l.n])] {
				s.consider(c, l)
			}
		}
	case vTrue:
		for _, c := range ai.tru {
			s.consider(c, l)
		}
	case vFalse:
		for _, c := range ai.fal {
			s.consider(c, l)
		}
	case vNull:
		for _, c := range ai.null {
			s.consider(c, l)
		}
	}
}

func (s *scratch) lookupPrefix(a *affixIndex, v []byte) {
	for _, n := range a.lens {
		if n > len(v) {
			return
		}
		for _, c := range a.m[string(v[:n])] {
			s.consider(c, nil)
		}
	}
}

func (s *scratch) lookupSuffix(a *affixIndex, v []byte) {
	for _, n := range a.lens {
		if n > len(v) {
			return
		}
		for _, c := range a.m[string(v[len(v)-n:])] {
			s.consider(c, nil)
		}
	}
}

func (s *scratch) stab(r *rangeIndex, l, h int, x float64) {
	for l < h {
		m := (l + h) / 2
		if r.maxHi[m] < x {
			return
		}
		s.stab(r, l, m, x)
		e := &r.es[m]
		if e.lo > x {
			return
		}
		if x <= e.hi {
			s.consider(e.clause, nil)
		}
		l = m + 1
	}
}
