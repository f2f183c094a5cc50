package pattern

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// This file holds the event scanner: a validating, allocation-free JSON
// reader that flattens an event into the leaf values of the paths some
// pattern refers to. Everything else is skipped (but still validated).

// maxDepth is the deepest nesting accepted, as in encoding/json.
const maxDepth = 10000

// Value kinds of a leaf.
const (
	vString uint8 = iota
	vNumber
	vTrue
	vFalse
	vNull
)

// leaf is one scalar value of the event at a path some pattern uses.
type leaf struct {
	next  int32 // next leaf on the same path, or -1
	node  int32 // innermost array element holding the value; 0 when in no array
	path  uint32
	kind  uint8
	inBuf bool  // the string bytes are in scratch.buf, not in the event
	numSt uint8 // number state: 0 not parsed, 1 finite, 2 not representable
	off   uint32
	n     uint32
	num   float64
}

// trieNode indexes the pattern paths by their dot-separated segments.
type trieNode struct {
	keys []string
	kids []*trieNode
	m    map[string]*trieNode // replaces keys/kids when there are many
	leaf int32                // path id, or -1
	// lens has bit n set when a key of length n (or >= 63, bit 63) is in
	// keys or m: most event keys are rejected by their length alone.
	lens uint64
}

// lenBit returns the bit of lens for a key of length n.
func lenBit(n int) uint64 { return 1 << min(n, 63) }

const trieMapThreshold = 8

func newTrieNode() *trieNode { return &trieNode{leaf: -1} }

func (n *trieNode) hasKids() bool { return len(n.keys) > 0 || n.m != nil }

func (n *trieNode) child(seg []byte) *trieNode {
	if n.lens&lenBit(len(seg)) == 0 {
		return nil
	}
	if n.m != nil {
		return n.m[string(seg)]
	}
	for i, k := range n.keys {
		if len(k) == len(seg) && (len(k) == 0 || k[0] == seg[0]) && k == string(seg) {
			return n.kids[i]
		}
	}
	return nil
}

func (n *trieNode) childString(seg string) *trieNode {
	if n.m != nil {
		return n.m[seg]
	}
	for i, k := range n.keys {
		if k == seg {
			return n.kids[i]
		}
	}
	return nil
}

// walk follows key, split at dots, from n.
func (n *trieNode) walk(key []byte) *trieNode {
	for {
		i := bytes.IndexByte(key, '.')
		if i < 0 {
			return n.child(key)
		}
		if n = n.child(key[:i]); n == nil {
			return nil
		}
		key = key[i+1:]
	}
}

func (n *trieNode) walkString(key string) *trieNode {
	for n != nil {
		i := 0
		for i < len(key) && key[i] != '.' {
			i++
		}
		if i == len(key) {
			return n.childString(key)
		}
		n = n.childString(key[:i])
		key = key[i+1:]
	}
	return nil
}

// insert adds path (dot-separated) below n and returns its node.
func (n *trieNode) insert(path string) *trieNode {
	for {
		i := 0
		for i < len(path) && path[i] != '.' {
			i++
		}
		seg := path[:i]
		next := n.childString(seg)
		if next == nil {
			n.lens |= lenBit(len(seg))
			next = newTrieNode()
			if n.m != nil {
				n.m[seg] = next
			} else {
				n.keys = append(n.keys, seg)
				n.kids = append(n.kids, next)
				if len(n.keys) > trieMapThreshold {
					n.m = make(map[string]*trieNode, len(n.keys))
					for j, k := range n.keys {
						n.m[k] = n.kids[j]
					}
					n.keys, n.kids = nil, nil
				}
			}
		}
		n = next
		if i == len(path) {
			return n
		}
		path = path[i+1:]
	}
}

// scratch is the per-call working memory, pooled.
type scratch struct {
	data []byte
	pos  int
	end  int

	leaves  []leaf
	heads   []int32  // per path id: first leaf
	hgen    []uint32 // heads[i] is valid when hgen[i] == gen
	present []uint32 // path ids with at least one leaf
	gen     uint32

	buf  []byte // decoded strings
	key  []byte // decoded key
	fold []byte // case-folded value

	nodeParent []int32 // per array element node: its array (-1 for the root node 0)
	arrParent  []int32 // per array: the node holding it

	// Matcher state, per clause and per pattern.
	cgen    []uint32
	pgen    []uint32
	matched []uint32

	dp dpScratch

	attrOff []attrSpan
	attrBuf []byte

	// Structural scanner state (fastscan.go).
	masks []blockMasks // per 64-byte block of data
	cur   cursor       // next significant position
	spill []uint64     // nesting deeper than 64 levels

	snap *snapshot // the Matcher snapshot being evaluated
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	s.data = nil
	if cap(s.leaves) > 1<<16 {
		s.leaves = nil
	}
	if cap(s.buf) > 1<<20 {
		s.buf = nil
	}
	if cap(s.attrBuf) > 1<<20 {
		s.attrBuf = nil
	}
	if cap(s.masks) > 1<<14 {
		s.masks = nil
	}
	scratchPool.Put(s)
}

// begin prepares s for a new event over a program with npaths paths.
func (s *scratch) begin(npaths int) {
	s.gen++
	if s.gen == 0 {
		clear(s.hgen)
		clear(s.cgen)
		clear(s.pgen)
		s.gen = 1
	}
	if len(s.heads) < npaths {
		s.heads = make([]int32, npaths)
		s.hgen = make([]uint32, npaths)
	}
	s.leaves = s.leaves[:0]
	s.present = s.present[:0]
	s.buf = s.buf[:0]
	s.nodeParent = append(s.nodeParent[:0], -1)
	s.arrParent = s.arrParent[:0]
}

func (s *scratch) head(pid uint32) int32 {
	if s.hgen[pid] == s.gen {
		return s.heads[pid]
	}
	return -1
}

func (s *scratch) addLeaf(pid int32, node int32, kind uint8, off, n int, inBuf bool) {
	idx := int32(len(s.leaves))
	next := int32(-1)
	if s.hgen[pid] == s.gen {
		next = s.heads[pid]
	} else {
		s.hgen[pid] = s.gen
		s.present = append(s.present, uint32(pid))
	}
	s.heads[pid] = idx
	// Fill the new element in place: building a leaf on the stack and
	// copying it would read it back with wide loads from narrow stores,
	// which the CPU cannot forward (a stall of a dozen cycles per leaf).
	s.leaves = append(s.leaves, leaf{})
	l := &s.leaves[idx]
	l.next, l.node, l.path, l.kind, l.inBuf = next, node, uint32(pid), kind, inBuf
	l.off, l.n = uint32(off), uint32(n)
}

func (s *scratch) str(l *leaf) []byte {
	if l.inBuf {
		return s.buf[l.off : l.off+l.n]
	}
	return s.data[l.off : l.off+l.n]
}

// number returns the leaf's value as a float64; ok is false when it does not
// fit.
func (s *scratch) number(l *leaf) (float64, bool) {
	switch l.numSt {
	case 1:
		return l.num, true
	case 2:
		return 0, false
	}
	f, ok := parseNumberBytes(s.data[l.off : l.off+l.n])
	if ok {
		l.numSt, l.num = 1, f
	} else {
		l.numSt = 2
	}
	return f, ok
}

// pow10 holds the exactly representable powers of ten.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumberBytes parses a validated JSON number literal.
func parseNumberBytes(b []byte) (float64, bool) {
	// Fast path: up to 15 significant digits and a short fraction, which
	// converts exactly (both the mantissa and the power of ten are exact).
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		neg, i = true, 1
	}
	var mant uint64
	digits, frac := 0, 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		mant = mant*10 + uint64(b[i]-'0')
		digits++
	}
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			mant = mant*10 + uint64(b[i]-'0')
			digits++
			frac++
		}
	}
	if i == len(b) && digits > 0 && digits <= 15 && frac <= 22 {
		f := float64(mant)
		if frac > 0 {
			f /= pow10[frac]
		}
		if neg {
			f = -f
		}
		if f == 0 {
			f = 0
		}
		return f, true
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	if err != nil || f > maxFloat || f < -maxFloat || f != f {
		return 0, false
	}
	if f == 0 {
		f = 0
	}
	return f, true
}

const maxFloat = 1.7976931348623157e308

func (s *scratch) fail(msg string) error { return &eventError{msg: msg, off: s.pos} }

// isSpace marks the JSON whitespace bytes.
var isSpace = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func (s *scratch) skipWS() {
	if s.pos < s.end && s.data[s.pos] > ' ' {
		return
	}
	s.skipSpaces()
}

func (s *scratch) skipSpaces() {
	data := s.data[:s.end]
	i := s.pos
	for i < len(data) && isSpace[data[i]] {
		i++
	}
	s.pos = i
}

// flatten reads the event, which must be a JSON object, recording the leaves
// at the paths of root. The structural scanner (fastscan.go) reads typical
// events; the exact scanner below reads the rest and reports errors.
func (s *scratch) flatten(root *trieNode, npaths int, data []byte) error {
	if structuralScan && s.fastFlatten(root, npaths, data) {
		return nil
	}
	return s.exactFlatten(root, npaths, data)
}

// exactFlatten is flatten with the exact scanner only.
func (s *scratch) exactFlatten(root *trieNode, npaths int, data []byte) error {
	s.begin(npaths)
	s.data, s.pos, s.end = data, 0, len(data)
	s.skipWS()
	if s.pos >= s.end {
		return s.fail("empty input")
	}
	if s.data[s.pos] != '{' {
		if err := s.skipValue(1); err != nil {
			return err
		}
		return &eventError{msg: "event is not a JSON object", off: -1}
	}
	if err := s.object(root, 0, 1); err != nil {
		return err
	}
	s.skipWS()
	if s.pos != s.end {
		return s.fail("unexpected data after the top-level value")
	}
	return nil
}

// strFlags marks the bytes that end the fast scan of a string; keyFlags
// adds the dot for keys.
var strFlags, keyFlags = func() (t, k [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 1
	}
	t['"'] = 1
	t['\\'] = 1
	for c := 0x80; c < 0x100; c++ {
		t[c] = 2
	}
	k = t
	k['.'] = 1
	return t, k
}()

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// scanString reads the string at s.pos (an opening quote) and returns the
// bounds of its body and whether it must be decoded.
func (s *scratch) scanString() (start, end int, decode bool, err error) {
	start, end, decode, _, err = s.scan(false)
	return
}

// scanKey is scanString for object keys; it also reports whether the key
// holds a dot.
func (s *scratch) scanKey() (start, end int, decode, dot bool, err error) {
	return s.scan(true)
}

func (s *scratch) scan(key bool) (start, end int, decode, dot bool, err error) {
	i := s.pos + 1
	start = i
	high := false
	data := s.data[:s.end]
	flags := &strFlags
	dots := uint64(0) // the dot pattern when dots must be found
	if key {
		flags = &keyFlags
		dots = ones * '.'
	}
	for {
		// Eight bytes at a time until a quote, a backslash, a control
		// character, a non-ASCII byte (or, in keys, a dot). The lowest
		// flagged byte is exact, so it is where the byte loop resumes.
		for i+8 <= len(data) {
			x := binary.LittleEndian.Uint64(data[i:])
			q := x ^ (ones * '"')
			b := x ^ (ones * '\\')
			t := ((q - ones) &^ q) | ((b - ones) &^ b) | ((x - ones*0x20) &^ x) | x
			if key {
				d := x ^ dots
				t |= (d - ones) &^ d
			}
			if t &= highs; t != 0 {
				i += bits.TrailingZeros64(t) >> 3
				break
			}
			i += 8
		}
		for i < len(data) && flags[data[i]] == 0 {
			i++
		}
		if i >= len(data) {
			s.pos = i
			return 0, 0, false, false, s.fail("unterminated string")
		}
		c := data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			if high && !decode && !utf8.Valid(data[start:i]) {
				decode = true
			}
			return start, i, decode, dot, nil
		case c == '.':
			dot = true
			i++
		case c == '\\':
			decode = true
			if i+1 >= len(data) {
				s.pos = i
				return 0, 0, false, false, s.fail("unterminated string")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= len(data) || unhex(data[i+2]) < 0 || unhex(data[i+3]) < 0 || unhex(data[i+4]) < 0 || unhex(data[i+5]) < 0 {
					s.pos = i
					return 0, 0, false, false, s.fail("invalid \\u escape")
				}
				i += 6
			default:
				s.pos = i
				return 0, 0, false, false, s.fail("invalid escape in string")
			}
		case c < 0x20:
			s.pos = i
			return 0, 0, false, false, s.fail("control character in string")
		default:
			high = true
			i++
		}
	}
}

// skipString validates and skips the string at s.pos.
func (s *scratch) skipString() error {
	data := s.data[:s.end]
	i := s.pos + 1
	for {
		for i+8 <= len(data) {
			x := binary.LittleEndian.Uint64(data[i:])
			q := x ^ (ones * '"')
			b := x ^ (ones * '\\')
			t := (((q - ones) &^ q) | ((b - ones) &^ b) | ((x - ones*0x20) &^ x)) & highs
			if t != 0 {
				i += bits.TrailingZeros64(t) >> 3
				break
			}
			i += 8
		}
		for i < len(data) && strFlags[data[i]]&1 == 0 {
			i++
		}
		if i >= len(data) {
			s.pos = i
			return s.fail("unterminated string")
		}
		switch data[i] {
		case '"':
			s.pos = i + 1
			return nil
		case '\\':
			if i+1 >= len(data) {
				s.pos = i
				return s.fail("unterminated string")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= len(data) || unhex(data[i+2]) < 0 || unhex(data[i+3]) < 0 || unhex(data[i+4]) < 0 || unhex(data[i+5]) < 0 {
					s.pos = i
					return s.fail("invalid \\u escape")
				}
				i += 6
			default:
				s.pos = i
				return s.fail("invalid escape in string")
			}
		default:
			s.pos = i
			return s.fail("control character in string")
		}
	}
}

// stringLeaf records the string whose body is data[start:end].
func (s *scratch) stringLeaf(pid, node int32, start, end int, decode bool) {
	if !decode {
		s.addLeaf(pid, node, vString, start, end-start, false)
		return
	}
	off := len(s.buf)
	s.buf = appendUnescaped(s.buf, s.data[start:end])
	s.addLeaf(pid, node, vString, off, len(s.buf)-off, true)
}

func (s *scratch) literal(word string) error {
	if s.end-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return s.fail("invalid literal")
	}
	s.pos += len(word)
	return nil
}

// value reads one value. n is the trie node of its path (nil when no
// pattern looks at or below it) and node the array element holding it.
func (s *scratch) value(n *trieNode, node int32, depth int) error {
	if s.pos >= s.end {
		return s.fail("unexpected end of input")
	}
	c := s.data[s.pos]
	if n == nil {
		return s.skipValue(depth)
	}
	switch c {
	case '{':
		if !n.hasKids() {
			return s.skipValue(depth)
		}
		return s.object(n, node, depth+1)
	case '[':
		if n.leaf < 0 && !n.hasKids() {
			return s.skipValue(depth)
		}
		return s.array(n, node, depth+1)
	case '"':
		start, end, decode, err := s.scanString()
		if err != nil {
			return err
		}
		if n.leaf >= 0 {
			s.stringLeaf(n.leaf, node, start, end, decode)
		}
		return nil
	case 't', 'f', 'n':
		var kind uint8
		var err error
		switch c {
		case 't':
			kind, err = vTrue, s.literal("true")
		case 'f':
			kind, err = vFalse, s.literal("false")
		default:
			kind, err = vNull, s.literal("null")
		}
		if err != nil {
			return err
		}
		if n.leaf >= 0 {
			s.addLeaf(n.leaf, node, kind, 0, 0, false)
		}
		return nil
	}
	start := s.pos
	end, msg := scanNumber(s.data[:s.end], s.pos)
	if msg != "" {
		return s.fail("invalid value")
	}
	s.pos = end
	if n.leaf >= 0 {
		s.addLeaf(n.leaf, node, vNumber, start, end-start, false)
	}
	return nil
}

// object reads an object whose path has trie node n.
func (s *scratch) object(n *trieNode, node int32, depth int) error {
	if depth > maxDepth {
		return s.fail("exceeded max depth")
	}
	s.pos++ // '{'
	s.skipWS()
	if s.pos < s.end && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		if s.pos >= s.end || s.data[s.pos] != '"' {
			return s.fail("expected a string key")
		}
		start, end, decode, dot, err := s.scanKey()
		if err != nil {
			return err
		}
		key := s.data[start:end]
		if decode {
			s.key = appendUnescaped(s.key[:0], key)
			key = s.key
			dot = bytes.IndexByte(key, '.') >= 0
		}
		s.skipWS()
		if s.pos >= s.end || s.data[s.pos] != ':' {
			return s.fail("expected ':' after object key")
		}
		s.pos++
		s.skipWS()
		var child *trieNode
		if dot {
			child = n.walk(key)
		} else {
			child = n.child(key)
		}
		if err := s.value(child, node, depth); err != nil {
			return err
		}
		s.skipWS()
		if s.pos >= s.end {
			return s.fail("unexpected end of input")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipWS()
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or '}' in object")
		}
	}
}

// array reads an array whose path has trie node n; every element becomes an
// array element node.
func (s *scratch) array(n *trieNode, node int32, depth int) error {
	if depth > maxDepth {
		return s.fail("exceeded max depth")
	}
	s.pos++ // '['
	s.skipWS()
	if s.pos < s.end && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	aid := int32(len(s.arrParent))
	s.arrParent = append(s.arrParent, node)
	for {
		elem := int32(len(s.nodeParent))
		s.nodeParent = append(s.nodeParent, aid)
		if err := s.value(n, elem, depth); err != nil {
			return err
		}
		s.skipWS()
		if s.pos >= s.end {
			return s.fail("unexpected end of input")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipWS()
		case ']':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or ']' in array")
		}
	}
}

// skipValue validates and skips one value.
func (s *scratch) skipValue(depth int) error {
	if s.pos >= s.end {
		return s.fail("unexpected end of input")
	}
	switch c := s.data[s.pos]; c {
	case '{':
		if depth+1 > maxDepth {
			return s.fail("exceeded max depth")
		}
		s.pos++
		s.skipWS()
		if s.pos < s.end && s.data[s.pos] == '}' {
			s.pos++
			return nil
		}
		for {
			if s.pos >= s.end || s.data[s.pos] != '"' {
				return s.fail("expected a string key")
			}
			if err := s.skipString(); err != nil {
				return err
			}
			s.skipWS()
			if s.pos >= s.end || s.data[s.pos] != ':' {
				return s.fail("expected ':' after object key")
			}
			s.pos++
			s.skipWS()
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			s.skipWS()
			if s.pos >= s.end {
				return s.fail("unexpected end of input")
			}
			switch s.data[s.pos] {
			case ',':
				s.pos++
				s.skipWS()
			case '}':
				s.pos++
				return nil
			default:
				return s.fail("expected ',' or '}' in object")
			}
		}
	case '[':
		if depth+1 > maxDepth {
			return s.fail("exceeded max depth")
		}
		s.pos++
		s.skipWS()
		if s.pos < s.end && s.data[s.pos] == ']' {
			s.pos++
			return nil
		}
		for {
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			s.skipWS()
			if s.pos >= s.end {
				return s.fail("unexpected end of input")
			}
			switch s.data[s.pos] {
			case ',':
				s.pos++
				s.skipWS()
			case ']':
				s.pos++
				return nil
			default:
				return s.fail("expected ',' or ']' in array")
			}
		}
	case '"':
		return s.skipString()
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	end, msg := scanNumber(s.data[:s.end], s.pos)
	if msg != "" {
		return s.fail("invalid value")
	}
	s.pos = end
	return nil
}
