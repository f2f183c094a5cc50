package pattern

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// appendUnescaped appends the decoded form of a JSON string body (the bytes
// between the quotes, already validated) to dst. Like encoding/json it
// replaces invalid UTF-8 and unpaired surrogates with U+FFFD.
func appendUnescaped(dst, raw []byte) []byte {
	for r := 0; r < len(raw); {
		c := raw[r]
		switch {
		case c == '\\':
			switch raw[r+1] {
			case '"', '\\', '/':
				dst = append(dst, raw[r+1])
				r += 2
			case 'b':
				dst = append(dst, '\b')
				r += 2
			case 'f':
				dst = append(dst, '\f')
				r += 2
			case 'n':
				dst = append(dst, '\n')
				r += 2
			case 'r':
				dst = append(dst, '\r')
				r += 2
			case 't':
				dst = append(dst, '\t')
				r += 2
			case 'u':
				rr := getu4(raw[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					rr1 := getu4(raw[r:])
					if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
						r += 6
						dst = utf8.AppendRune(dst, dec)
						break
					}
					rr = unicode.ReplacementChar
				}
				dst = utf8.AppendRune(dst, rr)
			default:
				// Unreachable for validated input.
				dst = append(dst, raw[r+1])
				r += 2
			}
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			r++
		default:
			rr, size := utf8.DecodeRune(raw[r:])
			r += size
			dst = utf8.AppendRune(dst, rr)
		}
	}
	return dst
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		v := unhex(c)
		if v < 0 {
			return -1
		}
		r = r*16 + rune(v)
	}
	return r
}

// foldRune maps r to a canonical member of its simple case-folding orbit, so
// that two runes are equal under case folding (as strings.EqualFold sees
// them) exactly when their canonical forms are equal.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - ('a' - 'A')
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	return m
}

// appendFold appends the case-folded canonical form of s to dst.
func appendFold(dst []byte, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		i += size
		dst = utf8.AppendRune(dst, foldRune(r))
	}
	return dst
}

func foldString(s string) string { return string(appendFold(nil, []byte(s))) }

// ipAddr is an IPv4 (4 bytes, in b[12:]) or IPv6 (16 bytes) address.
type ipAddr struct {
	b  [16]byte
	v4 bool
}

// words returns the address as a 128-bit big-endian number.
func (a *ipAddr) words() (hi, lo uint64) {
	return binary.BigEndian.Uint64(a.b[:8]), binary.BigEndian.Uint64(a.b[8:])
}

// ipLess reports whether a is below b (of the same family).
func ipLess(a, b *ipAddr) bool {
	ah, al := a.words()
	bh, bl := b.words()
	return ah < bh || (ah == bh && al < bl)
}

// looksLikeIP reports whether s has the shape of an IPv4 or IPv6 literal,
// the test AWS applies before it tries to parse a string as an address.
func looksLikeIP(s []byte) (v4, v6 bool) {
	// IPv4: [0-9]+\.[0-9]+\.[0-9]+\.[0-9]+
	groups, digits := 0, 0
	ok4 := len(s) > 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			if digits == 0 {
				ok4 = false
			}
			groups++
			digits = 0
		default:
			ok4 = false
		}
		if !ok4 {
			break
		}
	}
	if ok4 && groups == 3 && digits > 0 {
		return true, false
	}
	// IPv6: [0-9a-fA-F:]*:[0-9a-fA-F:]*
	colon := false
	for _, c := range s {
		switch {
		case c == ':':
			colon = true
		case (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'):
		default:
			return false, false
		}
	}
	return false, colon
}

// parseIP parses an IP address literal the way AWS's matcher does. shape
// reports whether s looked like an address at all; ok whether it parsed.
func parseIP(s []byte) (ip ipAddr, shape, ok bool) {
	v4, v6 := looksLikeIP(s)
	switch {
	case v4:
		var parts [4]int
		k, val, nd := 0, 0, 0
		for _, c := range s {
			if c == '.' {
				parts[k] = val
				k++
				val, nd = 0, 0
				continue
			}
			val = val*10 + int(c-'0')
			nd++
			if val > 255 {
				return ip, true, false
			}
		}
		parts[k] = val
		ip.v4 = true
		for i, p := range parts {
			ip.b[12+i] = byte(p)
		}
		return ip, true, true
	case v6:
		a, err := netip.ParseAddr(string(s))
		if err != nil || !a.Is6() || a.Zone() != "" {
			return ip, true, false
		}
		if a.Is4In6() {
			ip.v4 = true
			a4 := a.Unmap().As4()
			copy(ip.b[12:], a4[:])
			return ip, true, true
		}
		ip.b = a.As16()
		return ip, true, true
	}
	return ip, false, false
}

// cidrRange parses a CIDR block with AWS's validation and messages. The
// block runs from the address as written (lo), host bits included, to the
// end of its network (hi); prefix is the number of fixed leading bits of
// the 16-byte form of the addresses (96 more than the mask for IPv4).
func cidrRange(s string) (lo, hi ipAddr, prefix int, reason string) {
	parts := javaSplitSlash(s)
	if len(parts) != 2 {
		return lo, hi, 0, "Malformed CIDR, one '/' required"
	}
	mask, ok := parseJavaInt(parts[1])
	if !ok {
		return lo, hi, 0, "Malformed CIDR, mask bits must be an integer"
	}
	if mask < 0 {
		return lo, hi, 0, "Malformed CIDR, mask bits must not be negative"
	}
	ip, shape, ok := parseIP([]byte(parts[0]))
	if !shape {
		return lo, hi, 0, "Nonstandard IP address: " + parts[0]
	}
	if !ok {
		return lo, hi, 0, "Invalid IP address: " + parts[0]
	}
	bits := 128
	if ip.v4 {
		if mask > 31 {
			return lo, hi, 0, "IPv4 mask bits must be < 32"
		}
		bits = 32
	} else if mask > 127 {
		return lo, hi, 0, "IPv6 mask bits must be < 128"
	}
	lo, hi = ip, ip
	start := 16 - bits/8
	// Host bits: the last bits-mask bits of the address.
	for i := 15; i >= start; i-- {
		bitPos := (i - start) * 8 // first address bit held by byte i
		for b := 0; b < 8; b++ {
			if bitPos+b >= mask {
				hi.b[i] |= 0x80 >> b
			}
		}
	}
	return lo, hi, 16*8 - bits + mask, ""
}

// javaSplitSlash splits s on '/' like Java's String.split("/"): trailing
// empty strings are removed.
func javaSplitSlash(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	parts = append(parts, s[start:])
	if len(parts) == 1 {
		return parts
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// parseJavaInt parses a 32-bit integer like Java's Integer.parseInt.
func parseJavaInt(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	neg := false
	i := 0
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i = 1
		if len(s) == 1 {
			return 0, false
		}
	}
	v := int64(0)
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		if v > 1<<31 {
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	if v > 1<<31-1 || v < -(1<<31) {
		return 0, false
	}
	return int(v), true
}

// wildcard is a compiled wildcard pattern: literal segments separated by '*'.
type wildcard struct {
	src      string
	segs     [][]byte
	stars    int
	leading  bool // starts with '*'
	trailing bool // ends with '*'
}

// parseWildcard compiles a wildcard value. It reports AWS's reasons for
// consecutive stars and bad escapes; positions count the opening quote AWS
// puts around the value, as AWS's messages do.
func parseWildcard(s string) (*wildcard, string) {
	w := &wildcard{src: s}
	var cur []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return nil, "Consecutive wildcard characters at pos " + itoa(i+1)
			}
			if i == 0 {
				w.leading = true
			}
			if i == len(s)-1 {
				w.trailing = true
			}
			w.segs = append(w.segs, cur)
			cur = nil
			w.stars++
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\') {
				cur = append(cur, s[i+1])
				i++
				continue
			}
			return nil, "Invalid escape character at pos " + itoa(i+1)
		default:
			cur = append(cur, c)
		}
	}
	w.segs = append(w.segs, cur)
	return w, ""
}

// literalPrefix returns the bytes every match must start with.
func (w *wildcard) literalPrefix() []byte { return w.segs[0] }

// literalSuffix returns the bytes every match must end with.
func (w *wildcard) literalSuffix() []byte { return w.segs[len(w.segs)-1] }

// match reports whether v matches the wildcard.
func (w *wildcard) match(v []byte) bool {
	segs := w.segs
	if w.stars == 0 {
		return bytes.Equal(v, segs[0])
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(v) < len(first)+len(last) || !bytes.HasPrefix(v, first) || !bytes.HasSuffix(v, last) {
		return false
	}
	v = v[len(first) : len(v)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		if len(seg) == 0 {
			continue
		}
		i := bytes.Index(v, seg)
		if i < 0 {
			return false
		}
		v = v[i+len(seg):]
	}
	return true
}
