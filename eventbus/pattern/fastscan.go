package pattern

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// This file holds the structural scanner, the fast path of flatten. A
// byte-at-a-time (or word-at-a-time) JSON scanner pays, for every string
// and every run of whitespace, a chain of dependent loads and branches to
// find where it ends; on a typical event that costs more than everything
// else a match does. The structural scanner works in two stages instead,
// like simdjson:
//
//  1. classify (classify.go) computes, with vector instructions, the
//     significant positions of each 64-byte block: every byte outside
//     strings that is not whitespace, and every opening quote.
//  2. The scanner below reads only these, one bit at a time, and the quote
//     mask when it needs where a string ends. String bodies and whitespace
//     are never visited: skipping a string costs one bit.
//
// The structural scanner reads every valid event, escapes included; it
// decodes the keys and values that need it as the exact scanner does.
// Whenever it meets anything invalid, it gives up and flatten runs the
// exact scanner (event.go), which reports the error. That it accepts exactly
// what the exact scanner accepts, and records the same leaves, is checked
// by TestStructuralScan and FuzzStructuralScan.

// cursor reads the significant positions of an event in order. It is a
// small value, with value methods: the hot loops keep it in a local,
// which stays in registers, and store it in scratch.cur around calls.
type cursor struct {
	blk  int    // block of bits
	bits uint64 // significant positions of block blk not yet read
}

// next removes the next significant position and returns it, or -1 at the
// end of the event. It runs for every token, so it must stay small enough
// for the compiler to inline it (with refillFrom) into the loops.
func (c cursor) next(s *scratch) (cursor, int) {
	if c.bits == 0 {
		if c.blk, c.bits = s.refillFrom(c.blk); c.bits == 0 {
			return c, -1
		}
	}
	p := c.blk<<6 | bits.TrailingZeros64(c.bits)
	c.bits &= c.bits - 1
	return c, p
}

// skipTo removes the significant positions before end: the rest of a
// number or literal.
func (c cursor) skipTo(s *scratch, end int) cursor {
	for c.blk < end>>6 {
		if c.blk, c.bits = s.refillFrom(c.blk); c.bits == 0 {
			return c
		}
	}
	if c.blk == end>>6 {
		c.bits &= ^uint64(0) << (end & 63)
	}
	return c
}

// refillFrom returns the next block after blk with significant positions,
// and those positions; past the last block, a zero mask.
func (s *scratch) refillFrom(blk int) (int, uint64) {
	for blk++; blk < len(s.masks); blk++ {
		if sig := s.masks[blk].sig; sig != 0 {
			return blk, sig
		}
	}
	return blk, 0
}

// scalarEnd validates the number or literal at data[p] and returns the
// index just past it, or -1.
func scalarEnd(data []byte, p int) int {
	switch data[p] {
	case 't':
		if p+4 <= len(data) && binary.LittleEndian.Uint32(data[p:]) == wordTrue {
			return p + 4
		}
		return -1
	case 'f':
		if p+5 <= len(data) && binary.LittleEndian.Uint32(data[p+1:]) == wordAlse {
			return p + 5
		}
		return -1
	case 'n':
		if p+4 <= len(data) && binary.LittleEndian.Uint32(data[p:]) == wordNull {
			return p + 4
		}
		return -1
	}
	return numberEnd(data, p)
}

// Little-endian words of the JSON literals, as compared by scalarEnd.
var (
	wordTrue = binary.LittleEndian.Uint32([]byte("true"))
	wordAlse = binary.LittleEndian.Uint32([]byte("alse")) // "false" after the 'f'
	wordNull = binary.LittleEndian.Uint32([]byte("null"))
)

// digitRun returns the number of ASCII digits at the start of the
// little-endian word x, 0 to 8.
func digitRun(x uint64) int {
	// A byte is a digit when its high nibble is 3, and still is after
	// adding 6. A carry out of a byte only happens above a non-digit.
	const hi, three, six = 0xF0F0F0F0F0F0F0F0, ones * 0x30, ones * 6
	return bits.TrailingZeros64((x&hi^three)|((x+six)&hi^three)) >> 3
}

// numberEnd validates the JSON number at data[p] and returns the index
// just past it, or -1. It accepts what scanNumber accepts.
func numberEnd(data []byte, p int) int {
	i := p
	if data[i] == '-' {
		i++
	}
	n := digits(data, i)
	if n == 0 || (n > 1 && data[i] == '0') {
		return -1
	}
	i += n
	if i < len(data) && data[i] == '.' {
		i++
		if n = digits(data, i); n == 0 {
			return -1
		}
		i += n
	}
	if i < len(data) && data[i]|0x20 == 'e' {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if n = digits(data, i); n == 0 {
			return -1
		}
		i += n
	}
	if i < len(data) && isTokenByte(data[i]) {
		return -1
	}
	return i
}

// digits returns the number of ASCII digits at the start of data[i:],
// eight bytes at a time.
func digits(data []byte, i int) int {
	n := 0
	for ; i+8 <= len(data); i += 8 {
		if d := digitRun(binary.LittleEndian.Uint64(data[i:])); d < 8 {
			return n + d
		}
		n += 8
	}
	for ; i < len(data) && data[i]-'0' < 10; i++ {
		n++
	}
	return n
}

// strEnd returns the position of the closing quote of the string whose
// opening quote is at p, or -1; and the masks of its block with the bits
// of its body, for telling whether the body holds a dot, a byte >= 0x80 or
// an escape. For a body that spans blocks the masks are farMasks, which
// say it may hold anything.
func (s *scratch) strEnd(p int) (e int, m *blockMasks, body uint64) {
	m = &s.masks[p>>6]
	above := ^uint64(1) << (p & 63) // the bits after p
	if q := m.quote & above; q != 0 {
		// The string ends in the block it starts in, at the lowest bit of q.
		return p&^63 | bits.TrailingZeros64(q), m, ((q & -q) - 1) & above
	}
	return s.strEndFar(p), &farMasks, ^uint64(0)
}

// farMasks stands for the masks of a string body that spans blocks.
var farMasks = blockMasks{dot: ^uint64(0), high: ^uint64(0), esc: ^uint64(0)}

// strEndFar is strEnd for a string that ends in a later block, or never.
func (s *scratch) strEndFar(p int) int {
	for b := p>>6 + 1; b < len(s.masks); b++ {
		if q := s.masks[b].quote; q != 0 {
			return b<<6 | bits.TrailingZeros64(q)
		}
	}
	return -1
}

// decodes reports whether a string body must be decoded, as the exact
// scanner would: it has an escape, or invalid UTF-8.
func decodes(body []byte) bool {
	return bytes.IndexByte(body, '\\') >= 0 || !isASCII(body) && !utf8.Valid(body)
}

// keyChild returns the child of n that a key which may hold a dot, a byte
// >= 0x80 or an escape leads to: decoded if need be, and split at dots.
func (s *scratch) keyChild(n *trieNode, key []byte) *trieNode {
	if decodes(key) {
		s.key = appendUnescaped(s.key[:0], key)
		key = s.key
	}
	if bytes.IndexByte(key, '.') >= 0 {
		return n.walk(key)
	}
	return n.child(key)
}

// fastFlatten is flatten with the structural scanner. It reports false,
// having recorded nothing useful, when the exact scanner must decide.
func (s *scratch) fastFlatten(root *trieNode, npaths int, data []byte) bool {
	nb := (len(data) + 63) / 64
	if cap(s.masks) < nb {
		s.masks = make([]blockMasks, nb, nb+nb/4)
	}
	s.masks = s.masks[:nb]
	if ok, escapes := classify(data, s.masks); !ok || escapes && !validEscapes(data, s.masks) {
		return false
	}
	s.begin(npaths)
	s.data, s.pos, s.end = data, 0, len(data)
	var p int
	s.cur, p = cursor{blk: -1}.next(s)
	if p < 0 || data[p] != '{' || !s.fobject(root, 0, 1) {
		return false
	}
	s.cur, p = s.cur.next(s)
	return p < 0 // nothing may follow
}

// fvalue reads the value at p (already taken). n is the trie node of its
// path (nil when no pattern looks at or below it) and node the array
// element holding it.
func (s *scratch) fvalue(n *trieNode, node int32, depth int, p int) bool {
	if n == nil {
		return s.fskip(p, depth)
	}
	c := s.data[p]
	switch c {
	case '{':
		if !n.hasKids() {
			return s.fskip(p, depth)
		}
		return s.fobject(n, node, depth+1)
	case '[':
		if n.leaf < 0 && !n.hasKids() {
			return s.fskip(p, depth)
		}
		return s.farray(n, node, depth+1)
	case '"':
		if n.leaf < 0 {
			return true
		}
		e, m, body := s.strEnd(p)
		if e < 0 {
			return false
		}
		if (m.high|m.esc)&body != 0 && decodes(s.data[p+1:e]) {
			off := len(s.buf)
			s.buf = appendUnescaped(s.buf, s.data[p+1:e])
			s.addLeaf(n.leaf, node, vString, off, len(s.buf)-off, true)
		} else {
			s.addLeaf(n.leaf, node, vString, p+1, e-p-1, false)
		}
		return true
	}
	end := scalarEnd(s.data, p)
	if end < 0 {
		return false
	}
	s.cur = s.cur.skipTo(s, end)
	if n.leaf >= 0 {
		switch c {
		case 't':
			s.addLeaf(n.leaf, node, vTrue, 0, 0, false)
		case 'f':
			s.addLeaf(n.leaf, node, vFalse, 0, 0, false)
		case 'n':
			s.addLeaf(n.leaf, node, vNull, 0, 0, false)
		default:
			s.addLeaf(n.leaf, node, vNumber, p, end-p, false)
		}
	}
	return true
}

// fobject reads the members of an object whose '{' was just taken, at
// path node n. The cursor is kept in a local, which stays in a register,
// and stored back around calls.
func (s *scratch) fobject(n *trieNode, node int32, depth int) (ok bool) {
	if depth > maxDepth {
		return false
	}
	var (
		data    = s.data
		cur     = s.cur
		p, e    int
		special bool // the key may hold a dot, a byte >= 0x80 or an escape
		key     []byte
		child   *trieNode
	)
	if cur, p = cur.next(s); p < 0 {
		goto out
	}
	if data[p] == '}' {
		ok = true
		goto out
	}
	for {
		if data[p] != '"' {
			goto out
		}
		// The key ends at the next quote; this is strEnd, written out for
		// the usual case of a key that ends in the block it starts in.
		if m, above := &s.masks[p>>6], ^uint64(1)<<(p&63); m.quote&above != 0 {
			q := m.quote & above
			body := ((q & -q) - 1) & above
			e, special = p&^63|bits.TrailingZeros64(q), (m.dot|m.high|m.esc)&body != 0
		} else if e, special = s.strEndFar(p), true; e < 0 {
			goto out
		}
		key = data[p+1 : e]
		if cur, p = cur.next(s); p < 0 || data[p] != ':' {
			goto out
		}
		if special {
			child = s.keyChild(n, key)
		} else {
			child = n.child(key)
		}
		if cur, p = cur.next(s); p < 0 {
			goto out
		}
		// A string no pattern looks at needs nothing more: its bytes are not
		// significant positions.
		if child != nil || data[p] != '"' {
			s.cur = cur
			if child != nil {
				ok = s.fvalue(child, node, depth, p)
			} else {
				ok = s.fskip(p, depth)
			}
			if cur = s.cur; !ok {
				goto out
			}
			ok = false
		}
		if cur, p = cur.next(s); p < 0 {
			goto out
		}
		switch data[p] {
		case ',':
			if cur, p = cur.next(s); p < 0 {
				goto out
			}
		case '}':
			ok = true
			goto out
		default:
			goto out
		}
	}
out:
	s.cur = cur
	return ok
}

// farray reads the elements of an array whose '[' was just taken, at path
// node n; each element becomes an array element node.
func (s *scratch) farray(n *trieNode, node int32, depth int) bool {
	if depth > maxDepth {
		return false
	}
	data := s.data
	var p int
	s.cur, p = s.cur.next(s)
	if p < 0 {
		return false
	}
	if data[p] == ']' {
		return true
	}
	aid := int32(len(s.arrParent))
	s.arrParent = append(s.arrParent, node)
	for {
		elem := int32(len(s.nodeParent))
		s.nodeParent = append(s.nodeParent, aid)
		if !s.fvalue(n, elem, depth, p) {
			return false
		}
		if s.cur, p = s.cur.next(s); p < 0 {
			return false
		}
		switch data[p] {
		case ',':
			if s.cur, p = s.cur.next(s); p < 0 {
				return false
			}
		case ']':
			return true
		default:
			return false
		}
	}
}

// fskip validates the value at p (already taken), which sits inside depth
// levels of nesting, and moves past it, recording nothing.
func (s *scratch) fskip(p, depth int) bool {
	data := s.data
	switch data[p] {
	case '"':
		return true
	case '{', '[':
		return s.fskipContainer(p, depth)
	}
	end := scalarEnd(data, p)
	if end < 0 {
		return false
	}
	s.cur = s.cur.skipTo(s, end)
	return true
}

// fskipContainer is fskip for an object or an array: the hot loop of the
// scanner, which reads all the parts of an event no pattern looks at.
//
// It is a loop over four states, with goto: open (data[p] opens a
// container), value (data[p] starts a value), key (data[p] should start an
// object key) and after (a value just ended). The open containers are a
// bit stack in a register, 1 for an object; every 64 levels it spills to
// s.spill. The loop keeps few variables live, so that they all stay in
// registers.
func (s *scratch) fskipContainer(p, depth int) (ok bool) {
	var (
		data  = s.data
		cur   = s.cur
		c     = data[p]
		nest  uint64 // innermost open containers, 1 for an object
		level int    // number of open containers
		room  = maxDepth - depth
	)
	s.spill = s.spill[:0]

open:
	if level&63 == 0 && level > 0 {
		s.spill = append(s.spill, nest)
	}
	if level++; level > room {
		goto out
	}
	nest = nest<<1 | uint64(c>>5&1) // '{' is 0x7B, '[' is 0x5B
	if cur, p = cur.next(s); uint(p) >= uint(len(data)) {
		goto out
	}
	if c = data[p]; c == closer(nest) {
		goto closing
	}
	if nest&1 != 0 {
		goto key
	}

value:
	switch c {
	case '"':
	case '{', '[':
		goto open
	default:
		end := scalarEnd(data, p)
		if end < 0 {
			goto out
		}
		cur = cur.skipTo(s, end)
	}

after:
	if cur, p = cur.next(s); uint(p) >= uint(len(data)) {
		goto out
	}
	if c = data[p]; c == ',' {
		if cur, p = cur.next(s); uint(p) >= uint(len(data)) {
			goto out
		}
		c = data[p]
		if nest&1 == 0 {
			goto value
		}
		goto key
	}
	if c != closer(nest) {
		goto out
	}

closing:
	level--
	nest >>= 1
	if level&63 == 0 {
		if level == 0 {
			ok = true
			goto out
		}
		nest = s.spill[len(s.spill)-1]
		s.spill = s.spill[:len(s.spill)-1]
	}
	goto after

key:
	if c != '"' {
		goto out
	}
	if cur, p = cur.next(s); uint(p) >= uint(len(data)) || data[p] != ':' {
		goto out
	}
	if cur, p = cur.next(s); uint(p) >= uint(len(data)) {
		goto out
	}
	c = data[p]
	goto value

out:
	s.cur = cur
	return ok
}

// closer returns the byte that closes the innermost container of nest:
// ']' (0x5D) for an array, '}' (0x7D) for an object.
func closer(nest uint64) byte { return ']' | byte(nest&1)<<5 }

// isASCII reports whether b has no byte >= 0x80.
func isASCII(b []byte) bool {
	var hi uint64
	i := 0
	for ; i+8 <= len(b); i += 8 {
		hi |= binary.LittleEndian.Uint64(b[i:])
	}
	for ; i < len(b); i++ {
		hi |= uint64(b[i]) << 56
	}
	return hi&highs == 0
}
