package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is a deliberately simple reference evaluator for the fuzz
// tests: it decodes patterns and events with encoding/json and interprets
// the pattern directly, with a brute-force search for array consistency.

// errRefSkip marks inputs the reference does not judge (duplicate keys,
// conflicting paths, a search that is too long).
var errRefSkip = errors.New("reference: input not judged")

// refDecode decodes one JSON document, keeping numbers as json.Number.
func refDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// refHasDuplicateKeys reports whether some object of data repeats a key.
func refHasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		obj     bool
		keys    map[string]bool
		wantKey bool
	}
	var st []*frame
	valueDone := func() {
		if n := len(st); n > 0 && st[n-1].obj {
			st[n-1].wantKey = true
		}
	}
	for {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		if n := len(st); n > 0 && st[n-1].obj && st[n-1].wantKey {
			f := st[n-1]
			if d, ok := t.(json.Delim); ok && d == '}' {
				st = st[:n-1]
				valueDone()
				continue
			}
			k := t.(string)
			if f.keys[k] {
				return true
			}
			f.keys[k] = true
			f.wantKey = false
			continue
		}
		switch d := t.(type) {
		case json.Delim:
			switch d {
			case '{':
				st = append(st, &frame{obj: true, keys: map[string]bool{}, wantKey: true})
			case '[':
				st = append(st, &frame{})
			case ']':
				st = st[:len(st)-1]
				valueDone()
			}
		default:
			valueDone()
		}
	}
}

type refElem struct{ arr, idx int }

type refLeaf struct {
	path  string
	val   any // string, json.Number, bool or nil
	chain []refElem
}

// refFlatten lists the leaves of v; path is nil at the root.
func refFlatten(v any, path *string, chain []refElem, out *[]refLeaf, arrays *int) {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			p := k
			if path != nil {
				p = *path + "." + k
			}
			refFlatten(vv, &p, chain, out, arrays)
		}
	case []any:
		id := *arrays
		*arrays++
		for i, e := range x {
			c := append(append([]refElem(nil), chain...), refElem{id, i})
			refFlatten(e, path, c, out, arrays)
		}
	default:
		*out = append(*out, refLeaf{path: *path, val: v, chain: chain})
	}
}

// refClause maps a path to its list of values (literals and operators).
type refClause map[string][]any

func refJoin(path []string, k string) string {
	return strings.Join(append(append([]string(nil), path...), k), ".")
}

// refOrIsOperator reports whether every "$or" key of a (valid) pattern is
// the $or operator: its value an array of at least two objects, none of
// them keyed by an operator name. Otherwise event-ruler reads every "$or"
// as an ordinary field name.
func refOrIsOperator(obj map[string]any) bool {
	for k, v := range obj {
		if k != "$or" {
			if m, ok := v.(map[string]any); ok && !refOrIsOperator(m) {
				return false
			}
			continue
		}
		members, ok := v.([]any)
		if !ok || len(members) < 2 {
			return false
		}
		for _, member := range members {
			m, ok := member.(map[string]any)
			if !ok {
				return false
			}
			for mk := range m {
				if reservedInOr[mk] {
					return false
				}
			}
			if !refOrIsOperator(m) {
				return false
			}
		}
	}
	return true
}

// refExpand turns a pattern into its clauses; orOp tells whether "$or" is
// the $or operator or a field name.
func refExpand(obj map[string]any, path []string, rules []refClause, orOp bool) ([]refClause, error) {
	for k, v := range obj {
		if k == "$or" && orOp {
			var out []refClause
			for _, member := range v.([]any) {
				var fork []refClause
				for _, r := range rules {
					c := refClause{}
					for p, vals := range r {
						c[p] = vals
					}
					fork = append(fork, c)
				}
				if len(fork) == 0 {
					fork = []refClause{{}}
				}
				var err error
				if fork, err = refExpand(member.(map[string]any), path, fork, orOp); err != nil {
					return nil, err
				}
				out = append(out, fork...)
			}
			rules = out
			continue
		}
		switch vv := v.(type) {
		case map[string]any:
			var err error
			if rules, err = refExpand(vv, append(append([]string(nil), path...), k), rules, orOp); err != nil {
				return nil, err
			}
		case []any:
			p := refJoin(path, k)
			if len(rules) == 0 {
				rules = []refClause{{}}
			}
			for _, r := range rules {
				if _, dup := r[p]; dup {
					return nil, errRefSkip // two writes to one path: order decides
				}
				r[p] = vv
			}
		}
	}
	return rules, nil
}

func refNum(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

var (
	refV4 = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`)
	refV6 = regexp.MustCompile(`^[0-9a-fA-F:]*:[0-9a-fA-F:]*$`)
)

// refIP parses an address literal: dotted decimal (leading zeros allowed)
// or IPv6; IPv4-mapped IPv6 counts as IPv4.
func refIP(s string) (net.IP, bool) {
	switch {
	case refV4.MatchString(s):
		ip := make(net.IP, 4)
		for i, part := range strings.Split(s, ".") {
			n, err := strconv.Atoi(part)
			if err != nil || n > 255 {
				return nil, false
			}
			ip[i] = byte(n)
		}
		return ip, true
	case refV6.MatchString(s):
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, false
		}
		if v4 := ip.To4(); v4 != nil {
			return v4, true
		}
		return ip.To16(), true
	}
	return nil, false
}

func refRunes(s string) []string {
	var out []string
	for _, r := range s {
		out = append(out, string(r))
	}
	return out
}

func refFoldPrefix(v, p string) bool {
	rv, rp := refRunes(v), refRunes(p)
	return len(rv) >= len(rp) && strings.EqualFold(strings.Join(rv[:len(rp)], ""), p)
}

func refFoldSuffix(v, p string) bool {
	rv, rp := refRunes(v), refRunes(p)
	return len(rv) >= len(rp) && strings.EqualFold(strings.Join(rv[len(rv)-len(rp):], ""), p)
}

func refWildcard(pat, v string) bool {
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(pat); i++ {
		switch {
		case pat[i] == '\\':
			i++
			cur.WriteByte(pat[i])
		case pat[i] == '*':
			segs = append(segs, regexp.QuoteMeta(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(pat[i])
		}
	}
	segs = append(segs, regexp.QuoteMeta(cur.String()))
	re := regexp.MustCompile(`^` + strings.Join(segs, `(?s:.*)`) + `$`)
	return re.MatchString(v)
}

// refStrings returns a string or list-of-strings operand as a list.
func refStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, e.(string))
		}
		return out
	}
	return nil
}

// refMatchValue reports whether one pattern value accepts one event value.
func refMatchValue(op any, val any) bool {
	switch o := op.(type) {
	case string:
		s, ok := val.(string)
		if !ok {
			return false
		}
		if oip, isIP := refIP(o); isIP {
			vip, ok := refIP(s)
			return ok && oip.Equal(vip) && len(oip) == len(vip)
		}
		return s == o
	case json.Number:
		n, ok := val.(json.Number)
		if !ok {
			return false
		}
		if n == o {
			return true
		}
		a, ok1 := refNum(o)
		b, ok2 := refNum(n)
		return ok1 && ok2 && a == b
	case bool:
		b, ok := val.(bool)
		return ok && b == o
	case nil:
		return val == nil
	case map[string]any:
		for name, arg := range o {
			return refOperator(name, arg, val)
		}
	}
	return false
}

func refOperator(name string, arg any, val any) bool {
	s, isStr := val.(string)
	switch name {
	case "exactly":
		return isStr && s == arg.(string)
	case "prefix":
		if m, ok := arg.(map[string]any); ok {
			return isStr && refFoldPrefix(s, m["equals-ignore-case"].(string))
		}
		return isStr && strings.HasPrefix(s, arg.(string))
	case "suffix":
		if m, ok := arg.(map[string]any); ok {
			return isStr && refFoldSuffix(s, m["equals-ignore-case"].(string))
		}
		return isStr && strings.HasSuffix(s, arg.(string))
	case "equals-ignore-case":
		return isStr && strings.EqualFold(s, arg.(string))
	case "wildcard":
		return isStr && refWildcard(arg.(string), s)
	case "exists":
		return arg.(bool)
	case "cidr":
		if !isStr {
			return false
		}
		parts := strings.Split(arg.(string), "/")
		base, _ := refIP(parts[0])
		mask, _ := strconv.Atoi(parts[1])
		ip, ok := refIP(s)
		if !ok || len(ip) != len(base) {
			return false
		}
		hi := append(net.IP(nil), base...)
		for bit := mask; bit < len(base)*8; bit++ {
			hi[bit/8] |= 0x80 >> (bit % 8)
		}
		return bytes.Compare(ip, base) >= 0 && bytes.Compare(ip, hi) <= 0
	case "numeric":
		f, ok := refNum(val)
		if !ok {
			return false
		}
		ops := arg.([]any)
		for i := 0; i+1 < len(ops); i += 2 {
			b, _ := refNum(ops[i+1])
			switch ops[i].(string) {
			case "=":
				ok = ok && f == b
			case "<":
				ok = ok && f < b
			case "<=":
				ok = ok && f <= b
			case ">":
				ok = ok && f > b
			case ">=":
				ok = ok && f >= b
			}
		}
		return ok
	case "anything-but":
		return !refExcluded(arg, val)
	}
	return false
}

// refExcluded reports whether an anything-but operand excludes val.
func refExcluded(arg any, val any) bool {
	s, isStr := val.(string)
	switch a := arg.(type) {
	case string:
		return isStr && s == a
	case json.Number:
		x, ok1 := refNum(a)
		y, ok2 := refNum(val)
		return ok1 && ok2 && x == y
	case []any:
		for _, e := range a {
			if refExcluded(e, val) {
				return true
			}
		}
		return false
	case map[string]any:
		if !isStr {
			return false
		}
		for name, inner := range a {
			for _, x := range refStrings(inner) {
				switch name {
				case "prefix":
					if strings.HasPrefix(s, x) {
						return true
					}
				case "suffix":
					if strings.HasSuffix(s, x) {
						return true
					}
				case "equals-ignore-case":
					if strings.EqualFold(s, x) {
						return true
					}
				case "wildcard":
					if refWildcard(x, s) {
						return true
					}
				}
			}
		}
	}
	return false
}

func refAbsentAlt(vals []any) bool {
	for _, v := range vals {
		if m, ok := v.(map[string]any); ok {
			if e, ok := m["exists"]; ok && e == false {
				return true
			}
		}
	}
	return false
}

// refConsistent reports whether chain agrees with the chosen elements.
func refConsistent(assign map[int]int, chain []refElem) bool {
	for _, e := range chain {
		if i, ok := assign[e.arr]; ok && i != e.idx {
			return false
		}
	}
	return true
}

// refClauseMatch searches for one value per condition, all consistent, with
// {"exists": false} conditions met when no value at their path is
// consistent with the chosen ones.
func refClauseMatch(cl refClause, leaves []refLeaf, budget *int) (bool, error) {
	paths := make([]string, 0, len(cl))
	for p := range cl {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	byPath := map[string][]refLeaf{}
	for _, l := range leaves {
		byPath[l.path] = append(byPath[l.path], l)
	}
	picks := make([]int, len(paths)) // index into byPath, or -1 for absent
	var rec func(i int) (bool, error)
	rec = func(i int) (bool, error) {
		*budget--
		if *budget < 0 {
			return false, errRefSkip
		}
		if i == len(paths) {
			assign := map[int]int{}
			for j, p := range paths {
				if picks[j] >= 0 {
					for _, e := range byPath[p][picks[j]].chain {
						assign[e.arr] = e.idx
					}
				}
			}
			for j, p := range paths {
				if picks[j] >= 0 {
					continue
				}
				for _, l := range byPath[p] {
					if refConsistent(assign, l.chain) {
						return false, nil
					}
				}
			}
			return true, nil
		}
		assign := map[int]int{}
		for j := 0; j < i; j++ {
			if picks[j] >= 0 {
				for _, e := range byPath[paths[j]][picks[j]].chain {
					assign[e.arr] = e.idx
				}
			}
		}
		vals := cl[paths[i]]
		for k, l := range byPath[paths[i]] {
			if !refConsistent(assign, l.chain) {
				continue
			}
			ok := false
			for _, op := range vals {
				if refMatchValue(op, l.val) {
					ok = true
					break
				}
			}
			if !ok {
				continue
			}
			picks[i] = k
			if m, err := rec(i + 1); m || err != nil {
				return m, err
			}
		}
		if refAbsentAlt(vals) {
			picks[i] = -1
			return rec(i + 1)
		}
		return false, nil
	}
	return rec(0)
}

// refMatch evaluates a pattern against an event. It returns errRefSkip for
// inputs it does not judge, and another error for an invalid event.
func refMatch(pattern, event []byte) (bool, error) {
	if refHasDuplicateKeys(pattern) || !utf8.Valid(pattern) {
		return false, errRefSkip
	}
	pv, err := refDecode(pattern)
	if err != nil {
		return false, errRefSkip
	}
	pobj := pv.(map[string]any)
	clauses, err := refExpand(pobj, nil, nil, refOrIsOperator(pobj))
	if err != nil {
		return false, err
	}
	ev, err := refDecode(event)
	if err != nil {
		return false, err
	}
	obj, ok := ev.(map[string]any)
	if !ok {
		return false, errors.New("event is not an object")
	}
	if refHasDuplicateKeys(event) {
		return false, errRefSkip
	}
	var leaves []refLeaf
	arrays := 0
	refFlatten(obj, nil, nil, &leaves, &arrays)
	budget := 200000
	for _, cl := range clauses {
		m, err := refClauseMatch(cl, leaves, &budget)
		if err != nil {
			return false, err
		}
		if m {
			return true, nil
		}
	}
	return false, nil
}
