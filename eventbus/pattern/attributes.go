package pattern

import "strings"

// Attribute is an SNS message attribute.
//
// Type is "String", "String.Array", "Number" or "Binary", optionally
// followed by a custom label ("Number.float"). A String.Array's Value is a
// JSON array whose elements are matched separately. Binary attributes, and
// attributes of any other type, are ignored by filter policies, as is a
// String.Array whose Value is not valid JSON.
type Attribute struct {
	Type  string
	Value string
}

// MatchAttributes reports whether the pattern (normally a
// [ScopeMessageAttributes] filter policy) matches the message attributes:
// each attribute is a top-level field; String values are strings, Number
// values numbers, and String.Array values arrays. As in SNS, an empty set
// of attributes matches no policy, not even {"k": [{"exists": false}]}.
func (p *Pattern) MatchAttributes(attrs map[string]Attribute) bool {
	if len(attrs) == 0 {
		return false
	}
	s := getScratch()
	defer putScratch(s)
	s.flattenAttributes(p.prog.root, len(p.prog.paths), attrs)
	return s.anyClause(p.prog)
}

type attrKind uint8

const (
	attrIgnored attrKind = iota
	attrString
	attrNumber
	attrArray
)

func attributeKind(typ string) attrKind {
	if typ == "String.Array" || strings.HasPrefix(typ, "String.Array.") {
		return attrArray
	}
	base := typ
	if i := strings.IndexByte(typ, '.'); i >= 0 {
		base = typ[:i]
	}
	switch base {
	case "String":
		return attrString
	case "Number":
		return attrNumber
	}
	return attrIgnored
}

type attrSpan struct {
	node     *trieNode
	kind     attrKind
	off, end int
}

// flattenAttributes records the attributes as top-level leaves.
func (s *scratch) flattenAttributes(root *trieNode, npaths int, attrs map[string]Attribute) {
	s.begin(npaths)
	buf := s.attrBuf[:0]
	s.attrOff = s.attrOff[:0]
	for name, a := range attrs {
		n := root.walkString(name)
		if n == nil || (n.leaf < 0 && !n.hasKids()) {
			continue
		}
		k := attributeKind(a.Type)
		if k == attrIgnored {
			continue
		}
		off := len(buf)
		buf = append(buf, a.Value...)
		s.attrOff = append(s.attrOff, attrSpan{node: n, kind: k, off: off, end: len(buf)})
	}
	s.attrBuf = buf
	s.data = buf
	for _, sp := range s.attrOff {
		switch sp.kind {
		case attrString:
			if sp.node.leaf >= 0 {
				s.addLeaf(sp.node.leaf, 0, vString, sp.off, sp.end-sp.off, false)
			}
		case attrNumber:
			if sp.node.leaf >= 0 {
				lit := trimSpace(buf[sp.off:sp.end])
				off := sp.off + indexOf(buf[sp.off:sp.end], lit)
				s.addLeaf(sp.node.leaf, 0, vNumber, off, len(lit), false)
			}
		case attrArray:
			// Validate first so that a malformed array adds no leaves.
			s.pos, s.end = sp.off, sp.end
			s.skipWS()
			if s.skipValue(1) != nil {
				continue
			}
			s.skipWS()
			if s.pos != sp.end {
				continue
			}
			s.pos = sp.off
			s.skipWS()
			_ = s.value(sp.node, 0, 1)
		}
	}
	s.end = len(buf)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// indexOf returns the offset of sub, a subslice of b, within b.
func indexOf(b, sub []byte) int {
	if len(sub) == 0 {
		return 0
	}
	for i := range b {
		if &b[i] == &sub[0] {
			return i
		}
	}
	return 0
}
