package pattern

import (
	"cmp"
	"slices"
)

// This file decides whether one clause matches the flattened event,
// including AWS's array consistency: the values that satisfy the
// conditions of a clause must be consistent, i.e. never come from two
// different elements of the same array. An {"exists": false} condition is
// met when no value at its path is consistent with the chosen values.

// clauseInst is a clause bound to a program's path ids.
type clauseInst struct {
	conds  []condInst
	pat    uint32 // owning pattern (Matcher only)
	anchor int32  // the condition the Matcher's index files the clause under, or -1
}

type condInst struct {
	pid  uint32
	spec *condSpec
}

// matches reports whether matcher m accepts leaf l.
func (s *scratch) matches(m *matcher, l *leaf) bool {
	switch m.kind {
	case mString:
		return l.kind == vString && string(s.str(l)) == m.s
	case mIP:
		if l.kind != vString {
			return false
		}
		ip, _, ok := parseIP(s.str(l))
		return ok && ip == m.ip
	case mNumber:
		if l.kind != vNumber {
			return false
		}
		if string(s.data[l.off:l.off+l.n]) == m.s {
			return true
		}
		f, ok := s.number(l)
		return ok && m.fin && f == m.num
	case mTrue:
		return l.kind == vTrue
	case mFalse:
		return l.kind == vFalse
	case mNull:
		return l.kind == vNull
	case mPrefix:
		return l.kind == vString && hasPrefixString(s.str(l), m.s)
	case mSuffix:
		return l.kind == vString && hasSuffixString(s.str(l), m.s)
	case mPrefixFold:
		return l.kind == vString && hasPrefixString(s.folded(l), m.s)
	case mSuffixFold:
		return l.kind == vString && hasSuffixString(s.folded(l), m.s)
	case mFold:
		return l.kind == vString && string(s.folded(l)) == m.s
	case mWildcard:
		return l.kind == vString && m.wc.match(s.str(l))
	case mRange:
		if l.kind != vNumber {
			return false
		}
		f, ok := s.number(l)
		return ok && inRange(m, f)
	case mCIDR:
		if l.kind != vString {
			return false
		}
		ip, _, ok := parseIP(s.str(l))
		return ok && ip.v4 == m.ip.v4 && !ipLess(&ip, &m.ip) && !ipLess(&m.ipHi, &ip)
	case mExists:
		return true
	case mExistsValue:
		return l.kind != vNull && (l.kind != vString || l.n != 0)
	case mAnyBut:
		switch l.kind {
		case vString:
			return !m.set.hasString(s.str(l))
		case vNumber:
			f, ok := s.number(l)
			return !ok || !m.set.hasNumber(f)
		}
		return true
	case mAnyButPrefix:
		if l.kind != vString {
			return true
		}
		v := s.str(l)
		for _, p := range m.set.strs {
			if hasPrefixString(v, p) {
				return false
			}
		}
		return true
	case mAnyButSuffix:
		if l.kind != vString {
			return true
		}
		v := s.str(l)
		for _, p := range m.set.strs {
			if hasSuffixString(v, p) {
				return false
			}
		}
		return true
	case mAnyButFold:
		return l.kind != vString || !m.set.hasString(s.folded(l))
	case mAnyButWildcard:
		if l.kind != vString {
			return true
		}
		v := s.str(l)
		for _, w := range m.set.wcs {
			if w.match(v) {
				return false
			}
		}
		return true
	}
	return false
}

func inRange(m *matcher, f float64) bool {
	if f < m.lo || (f == m.lo && m.loOpen) {
		return false
	}
	if f > m.hi || (f == m.hi && m.hiOpen) {
		return false
	}
	return true
}

func hasPrefixString(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

func hasSuffixString(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[len(b)-len(p):]) == p
}

// folded returns the case-folded value of a string leaf, valid until the
// next call.
func (s *scratch) folded(l *leaf) []byte {
	s.fold = appendFold(s.fold[:0], s.str(l))
	return s.fold
}

// condMatches reports whether some matcher of c accepts l.
func (s *scratch) condMatches(c *condSpec, l *leaf) bool {
	for i := range c.ms {
		if s.matches(&c.ms[i], l) {
			return true
		}
	}
	return false
}

// verify reports whether the clause matches the flattened event. The
// condition at index skip, if any, is known to be satisfied by a value in
// no array.
func (s *scratch) verify(cl *clauseInst, skip int32) bool {
	needDP := false
	for i := range cl.conds {
		if int32(i) == skip {
			continue
		}
		c := &cl.conds[i]
		rootAny, arrAny, arrPos := false, false, false
		satisfied := false
		for li := s.head(c.pid); li >= 0; li = s.leaves[li].next {
			l := &s.leaves[li]
			pos := s.condMatches(c.spec, l)
			if l.node == 0 {
				if pos {
					satisfied = true
					break
				}
				rootAny = true
			} else {
				arrAny = true
				arrPos = arrPos || pos
			}
		}
		if satisfied {
			continue
		}
		absentOK := c.spec.absent && !rootAny
		if !arrAny {
			if absentOK {
				continue
			}
			return false
		}
		if !arrPos && !absentOK {
			return false
		}
		needDP = true
	}
	if !needDP {
		return true
	}
	return s.consistent(cl)
}

// dpState is a set of choices in a subtree of arrays: pos holds the
// conditions satisfied by a chosen value, viol the exists:false conditions
// that have a value consistent with the choices.
type dpState struct{ pos, viol uint64 }

type dpRange struct {
	lo, hi int
	all    uint64
}

type dpScratch struct {
	gen       uint32
	nodeGen   []uint32
	avail     []uint64 // per node: conditions with a matching value directly in it
	viol      []uint64 // per node: exists:false conditions with a value directly in it
	elemHead  []int32  // per array: first active element
	elemNext  []int32  // per node: next active element of the same array
	arrGen    []uint32
	arrHead   []int32 // per node: first active child array
	arrNext   []int32 // per array: next active array of the same node
	arena     []dpState
	ranges    []dpRange
	condIdx   []int // J conditions, by bit
	absentAlt uint64
	exact     bool
}

func (d *dpScratch) grow(nodes, arrays int) {
	d.gen++
	if d.gen == 0 {
		clear(d.nodeGen)
		clear(d.arrGen)
		d.gen = 1
	}
	if len(d.nodeGen) < nodes {
		n := max(nodes, 2*len(d.nodeGen))
		d.nodeGen = make([]uint32, n)
		d.avail = make([]uint64, n)
		d.viol = make([]uint64, n)
		d.elemNext = make([]int32, n)
		d.arrHead = make([]int32, n)
	}
	if len(d.arrGen) < arrays {
		n := max(arrays, 2*len(d.arrGen))
		d.arrGen = make([]uint32, n)
		d.elemHead = make([]int32, n)
		d.arrNext = make([]int32, n)
	}
	d.arena = d.arena[:0]
}

// activate makes node n (and its ancestors) part of the search tree.
func (s *scratch) activate(n int32) {
	d := &s.dp
	if n == 0 || d.nodeGen[n] == d.gen {
		return
	}
	d.nodeGen[n] = d.gen
	d.avail[n], d.viol[n] = 0, 0
	d.arrHead[n] = -1
	a := s.nodeParent[n]
	if d.arrGen[a] != d.gen {
		d.arrGen[a] = d.gen
		d.elemHead[a] = -1
		p := s.arrParent[a]
		s.activate(p)
		d.arrNext[a] = d.arrHead[p]
		d.arrHead[p] = a
	}
	d.elemNext[n] = d.elemHead[a]
	d.elemHead[a] = n
}

// consistent runs the exact search over array elements for a clause whose
// simple checks passed but that depends on values inside arrays.
func (s *scratch) consistent(cl *clauseInst) bool {
	d := &s.dp
	d.grow(len(s.nodeParent), len(s.arrParent))
	d.condIdx = d.condIdx[:0]
	d.absentAlt = 0
	// Root node 0 is always active.
	d.nodeGen[0] = d.gen
	d.avail[0], d.viol[0] = 0, 0
	d.arrHead[0] = -1
	for i := range cl.conds {
		c := &cl.conds[i]
		rootAny, rootPos, arrAny := false, false, false
		for li := s.head(c.pid); li >= 0; li = s.leaves[li].next {
			l := &s.leaves[li]
			if l.node == 0 {
				rootAny = true
				if s.condMatches(c.spec, l) {
					rootPos = true
					break
				}
			} else {
				arrAny = true
			}
		}
		if rootPos || !arrAny {
			continue // decided without arrays (verify checked it)
		}
		if len(d.condIdx) == 64 {
			return s.backtrack(cl)
		}
		bit := uint64(1) << len(d.condIdx)
		d.condIdx = append(d.condIdx, i)
		absentAlt := c.spec.absent && !rootAny
		if absentAlt {
			d.absentAlt |= bit
		}
		for li := s.head(c.pid); li >= 0; li = s.leaves[li].next {
			l := &s.leaves[li]
			if l.node == 0 {
				continue
			}
			pos := s.condMatches(c.spec, l)
			if !pos && !absentAlt {
				continue
			}
			s.activate(l.node)
			if pos {
				d.avail[l.node] |= bit
			}
			if absentAlt {
				d.viol[l.node] |= bit
			}
		}
	}
	k := len(d.condIdx)
	if k == 0 {
		return true
	}
	need := uint64(1)<<k - 1
	if k == 64 {
		need = ^uint64(0)
	}
	d.exact = d.absentAlt != 0
	lo, hi, _ := s.solve(0)
	for _, st := range d.arena[lo:hi] {
		if (st.pos | (d.absentAlt &^ st.viol)) == need {
			return true
		}
	}
	return false
}

// solve returns the achievable states of node n's subtree as a range of the
// arena, and the exists:false bits of every value in the subtree.
func (s *scratch) solve(n int32) (lo, hi int, all uint64) {
	d := &s.dp
	own := dpState{pos: d.avail[n], viol: d.viol[n]}
	all = own.viol
	// Solve the child arrays first so that each range stays contiguous.
	rstart := len(d.ranges)
	for a := d.arrHead[n]; a >= 0; a = d.arrNext[a] {
		var aall uint64
		for e := d.elemHead[a]; e >= 0; e = d.elemNext[e] {
			elo, ehi, eall := s.solve(e)
			d.ranges = append(d.ranges, dpRange{elo, ehi, 0})
			aall |= eall
		}
		d.ranges = append(d.ranges, dpRange{-1, -1, aall})
		all |= aall
	}
	// Initial states: the node's own values.
	lo = len(d.arena)
	if d.exact {
		for sub := own.pos; ; sub = (sub - 1) & own.pos {
			d.arena = append(d.arena, dpState{pos: sub, viol: own.viol})
			if sub == 0 {
				break
			}
		}
	} else {
		d.arena = append(d.arena, own)
	}
	hi = len(d.arena)
	// Combine with each child array: either no element of it is used, or
	// exactly one element holding a chosen value.
	ri := rstart
	for a := d.arrHead[n]; a >= 0; a = d.arrNext[a] {
		ostart := len(d.arena)
		for e := d.elemHead[a]; e >= 0; e = d.elemNext[e] {
			r := d.ranges[ri]
			ri++
			for j := r.lo; j < r.hi; j++ {
				if st := d.arena[j]; st.pos != 0 {
					d.arena = append(d.arena, st)
				}
			}
		}
		aall := d.ranges[ri].all
		ri++
		d.arena = append(d.arena, dpState{viol: aall})
		oend := len(d.arena)
		nlo := len(d.arena)
		for i := lo; i < hi; i++ {
			x := d.arena[i]
			for j := ostart; j < oend; j++ {
				y := d.arena[j]
				if d.exact && x.pos&y.pos != 0 {
					continue
				}
				d.arena = append(d.arena, dpState{pos: x.pos | y.pos, viol: x.viol | y.viol})
			}
		}
		lo, hi = nlo, s.prune(nlo, len(d.arena))
	}
	d.ranges = d.ranges[:rstart]
	return lo, hi, all
}

// prune removes duplicate and dominated states from arena[lo:hi] in place
// and returns the new end.
func (s *scratch) prune(lo, hi int) int {
	d := &s.dp
	st := d.arena[lo:hi]
	slices.SortFunc(st, func(a, b dpState) int {
		if a.pos != b.pos {
			return cmp.Compare(a.pos, b.pos)
		}
		return cmp.Compare(a.viol, b.viol)
	})
	st = slices.Compact(st)
	out := 0
	for i, x := range st {
		dominated := false
		for j, y := range st {
			if i == j || (d.exact && y.pos != x.pos) {
				continue
			}
			// y dominates x: at least the same conditions, at most the
			// same violations (states are distinct, so not both equal).
			if y.pos&x.pos == x.pos && x.viol&y.viol == y.viol {
				dominated = true
				break
			}
		}
		if !dominated {
			st[out] = x
			out++
		}
	}
	d.arena = d.arena[:lo+out]
	return lo + out
}

// backtrack is the fallback for clauses with more than 64 conditions that
// depend on array values: a depth-first search over the candidate values.
func (s *scratch) backtrack(cl *clauseInst) bool {
	assign := map[int32]int32{} // array -> chosen element
	var picks []int32
	var rec func(i int) bool
	consistentWith := func(node int32) bool {
		for n := node; n != 0; {
			a := s.nodeParent[n]
			if e, ok := assign[a]; ok && e != n {
				return false
			}
			n = s.arrParent[a]
		}
		return true
	}
	rec = func(i int) bool {
		if i == len(cl.conds) {
			// Check the exists:false conditions chosen as absent.
			for j := range cl.conds {
				c := &cl.conds[j]
				if picks[j] >= 0 || !c.spec.absent {
					continue
				}
				for li := s.head(c.pid); li >= 0; li = s.leaves[li].next {
					if consistentWith(s.leaves[li].node) {
						return false
					}
				}
			}
			return true
		}
		c := &cl.conds[i]
		for li := s.head(c.pid); li >= 0; li = s.leaves[li].next {
			l := &s.leaves[li]
			if !s.condMatches(c.spec, l) || !consistentWith(l.node) {
				continue
			}
			var added []int32
			for n := l.node; n != 0; {
				a := s.nodeParent[n]
				if _, ok := assign[a]; !ok {
					assign[a] = n
					added = append(added, a)
				}
				n = s.arrParent[a]
			}
			picks = append(picks, li)
			if rec(i + 1) {
				return true
			}
			picks = picks[:len(picks)-1]
			for _, a := range added {
				delete(assign, a)
			}
		}
		if c.spec.absent {
			picks = append(picks, -1)
			if rec(i + 1) {
				return true
			}
			picks = picks[:len(picks)-1]
		}
		return false
	}
	return rec(0)
}
