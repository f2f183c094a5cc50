package pattern

import (
	"sort"
	"strconv"
)

// This file estimates how non-deterministic the wildcard patterns of a rule
// are, the way EventBridge does before it accepts a rule: the complexity is
// the largest number of wildcard pattern prefixes that one input value can
// match at the same time. A field's wildcard values (including those of
// anything-but wildcard) share their literal start up to and including the
// first '*', and each prefix state counts once per pattern it leads to.
// Values are framed by quotes, as EventBridge frames string values.

const (
	// maxWildcardComplexity is the largest complexity accepted. It is
	// calibrated on AWS's recorded decisions: "*:*:*:*:*:event-bus/*" (10)
	// is refused, "/Users/*/dir/dir/dir/dir/dir/doc.txt" (6) and four
	// "*.ext" alternatives on one field (8) are accepted.
	maxWildcardComplexity = 9
	// maxComplexityStates bounds the subset exploration.
	maxComplexityStates = 20000
)

const starTok = 256

type cnode struct {
	tok    int
	kids   []int
	weight int
}

// wildcardsAcceptable reports whether the rule's wildcard use is within
// the complexity EventBridge accepts.
func wildcardsAcceptable(clauses []*clauseSpec) bool {
	byPath := map[string]map[string]*wildcard{}
	for _, cl := range clauses {
		for _, c := range cl.conds {
			for i := range c.ms {
				m := &c.ms[i]
				var ws []*wildcard
				switch m.kind {
				case mWildcard:
					ws = []*wildcard{m.wc}
				case mAnyButWildcard:
					ws = m.set.wcs
				default:
					continue
				}
				set := byPath[c.path]
				if set == nil {
					set = map[string]*wildcard{}
					byPath[c.path] = set
				}
				for _, w := range ws {
					key := strconv.Itoa(int(m.kind)) + ":" + w.src
					set[key] = w
				}
			}
		}
	}
	for _, set := range byPath {
		keys := make([]string, 0, len(set))
		for k := range set {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		ws := make([]*wildcard, len(keys))
		for i, k := range keys {
			ws[i] = set[k]
		}
		if wildcardComplexity(ws) > maxWildcardComplexity {
			return false
		}
	}
	return true
}

// wildcardComplexity returns the complexity of a field's wildcard values,
// or maxWildcardComplexity+1 when it exceeds the limit (or the search
// bound).
func wildcardComplexity(ws []*wildcard) int {
	nodes := []cnode{{tok: -1}}
	alphabet := map[int]bool{}
	for _, w := range ws {
		toks := []int{'"'}
		for i, seg := range w.segs {
			if i > 0 {
				toks = append(toks, starTok)
			}
			for _, b := range seg {
				toks = append(toks, int(b))
			}
		}
		toks = append(toks, '"')
		cur, sharing := 0, true
		for _, t := range toks {
			if t != starTok {
				alphabet[t] = true
			}
			next := -1
			if sharing {
				for _, k := range nodes[cur].kids {
					if nodes[k].tok == t {
						next = k
						break
					}
				}
			}
			if next < 0 {
				next = len(nodes)
				nodes = append(nodes, cnode{tok: t})
				nodes[cur].kids = append(nodes[cur].kids, next)
			}
			nodes[next].weight++
			cur = next
			if t == starTok {
				sharing = false
			}
		}
	}
	// A byte that appears in no pattern stands for all such bytes.
	other := -1
	for b := 0; b < 256; b++ {
		if !alphabet[b] {
			other = b
			break
		}
	}
	syms := make([]int, 0, len(alphabet)+1)
	for b := range alphabet {
		syms = append(syms, b)
	}
	sort.Ints(syms)
	if other >= 0 {
		syms = append(syms, other)
	}

	closure := func(set map[int]bool) {
		stack := make([]int, 0, len(set))
		for n := range set {
			stack = append(stack, n)
		}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, k := range nodes[n].kids {
				if nodes[k].tok == starTok && !set[k] {
					set[k] = true
					stack = append(stack, k)
				}
			}
		}
	}
	keyOf := func(set map[int]bool) (string, int, []int) {
		ids := make([]int, 0, len(set))
		weight := 0
		for n := range set {
			ids = append(ids, n)
			if n != 0 {
				weight += nodes[n].weight
			}
		}
		sort.Ints(ids)
		b := make([]byte, 0, len(ids)*3)
		for _, id := range ids {
			b = strconv.AppendInt(b, int64(id), 36)
			b = append(b, ',')
		}
		return string(b), weight, ids
	}

	start := map[int]bool{0: true}
	closure(start)
	k, w, ids := keyOf(start)
	maxW := w
	seen := map[string]bool{k: true}
	queue := [][]int{ids}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, sym := range syms {
			next := map[int]bool{}
			for _, n := range cur {
				if nodes[n].tok == starTok {
					next[n] = true
				}
				for _, kid := range nodes[n].kids {
					if nodes[kid].tok == sym {
						next[kid] = true
					}
				}
			}
			if len(next) == 0 {
				continue
			}
			closure(next)
			k, w, ids := keyOf(next)
			if seen[k] {
				continue
			}
			seen[k] = true
			if w > maxW {
				maxW = w
			}
			if maxW > maxWildcardComplexity || len(seen) > maxComplexityStates {
				return maxWildcardComplexity + 1
			}
			queue = append(queue, ids)
		}
	}
	return maxW
}
