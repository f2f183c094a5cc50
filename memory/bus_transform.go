package memory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/postroom/postroom/eventbus"
)

// EventBridge's limits on input transformers.
const (
	maxPathsMap    = 100
	maxPathsMapKey = 256
)

// A pathSeg is one step of a JSONPath in dot notation: a member key, or an
// array index when index is not negative.
type pathSeg struct {
	key   string
	index int
}

// parsePath parses the JSONPaths targets take: "$" (the whole event) or
// "$.a.b", each key optionally followed by array indexes ("$.items[0]").
func parsePath(s string) ([]pathSeg, bool) {
	if s == "$" {
		return nil, true
	}
	rest, ok := strings.CutPrefix(s, "$.")
	if !ok {
		return nil, false
	}
	var segs []pathSeg
	for part := range strings.SplitSeq(rest, ".") {
		key := part
		var idx []int
		for strings.HasSuffix(key, "]") {
			k := strings.LastIndexByte(key, '[')
			if k < 0 {
				return nil, false
			}
			n, err := strconv.Atoi(key[k+1 : len(key)-1])
			if err != nil || n < 0 {
				return nil, false
			}
			idx = append([]int{n}, idx...)
			key = key[:k]
		}
		if key == "" {
			return nil, false
		}
		segs = append(segs, pathSeg{key: key, index: -1})
		for _, n := range idx {
			segs = append(segs, pathSeg{index: n})
		}
	}
	return segs, true
}

// valueAt returns the JSON text of the value path selects in doc, a
// well-formed JSON document, and whether there is one.
func valueAt(doc []byte, path []pathSeg) ([]byte, bool) {
	v := doc[skipWS(doc, 0):]
	for _, s := range path {
		var ok bool
		if s.index >= 0 {
			v, ok = jsonElement(v, s.index)
		} else {
			v, ok = jsonMember(v, s.key)
		}
		if !ok {
			return nil, false
		}
	}
	return v, true
}

// jsonMember returns the value of the member key of the object v (the
// first one, should the key repeat).
func jsonMember(v []byte, key string) ([]byte, bool) {
	if len(v) == 0 || v[0] != '{' {
		return nil, false
	}
	for i := 1; ; {
		i = skipWS(v, i)
		if i >= len(v) || v[i] == '}' {
			return nil, false
		}
		if v[i] == ',' {
			i++
			continue
		}
		ks := i
		i = skipString(v, i)
		rawKey := v[ks:i]
		i = skipWS(v, i) + 1 // ':'
		i = skipWS(v, i)
		vs := i
		i = skipValue(v, i)
		if keyIs(rawKey, key) {
			return v[vs:i], true
		}
	}
}

// jsonElement returns element n of the array v.
func jsonElement(v []byte, n int) ([]byte, bool) {
	if len(v) == 0 || v[0] != '[' {
		return nil, false
	}
	for i, k := 1, 0; ; k++ {
		i = skipWS(v, i)
		if i < len(v) && v[i] == ',' {
			i = skipWS(v, i+1)
		}
		if i >= len(v) || v[i] == ']' {
			return nil, false
		}
		vs := i
		i = skipValue(v, i)
		if k == n {
			return v[vs:i], true
		}
	}
}

// keyIs reports whether the JSON string rawKey is key.
func keyIs(rawKey []byte, key string) bool {
	if len(rawKey) < 2 {
		return false
	}
	if bytes.IndexByte(rawKey, '\\') < 0 {
		return string(rawKey[1:len(rawKey)-1]) == key
	}
	var k string
	return json.Unmarshal(rawKey, &k) == nil && k == key
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the JSON string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) {
		i++
	}
	return i
}

// The kinds of placeholders of an input template.
type varKind uint8

const (
	pathVar      varKind = iota // a variable of InputPathsMap
	ruleNameVar                 // aws.events.rule-name
	ruleARNVar                  // aws.events.rule-arn
	ingestionVar                // aws.events.event.ingestion-time
	eventVar                    // aws.events.event: the event without its detail
	eventJSONVar                // aws.events.event.json: the whole event
)

var predefinedVars = map[string]varKind{
	"aws.events.rule-name":            ruleNameVar,
	"aws.events.rule-arn":             ruleARNVar,
	"aws.events.event.ingestion-time": ingestionVar,
	"aws.events.event":                eventVar,
	"aws.events.event.json":           eventJSONVar,
}

// An inputTmpl is a compiled input transformer: the template cut into
// literal text and placeholders. The literal text of a JSON template is
// minified (white space outside strings removed): values go in minified
// too, so the output is minified, as EventBridge delivers it.
type inputTmpl struct {
	json  bool // the template is a JSON object or array
	parts []tmplPart
	tail  string // the literal text after the last placeholder
}

// A tmplPart is literal text followed by a placeholder.
type tmplPart struct {
	lit    string
	kind   varKind
	path   []pathSeg // of a pathVar
	quoted bool      // the placeholder is inside a string of the template
}

// compileTransformer validates the input transformer of target id (the
// n-th of its call) as EventBridge does and compiles it.
func compileTransformer(id string, n int, it *eventbus.InputTransformer) (*inputTmpl, error) {
	const op = "puttargets"
	field := fmt.Sprintf("targets.%d.member.inputTransformer", n)
	src := it.InputTemplate
	switch {
	case src == "":
		return nil, invalidParam(op, "1 validation error detected: Value '' at '%s.inputTemplate' failed to satisfy constraint: Member must have length greater than or equal to 1", field)
	case len(src) > maxInputLen:
		return nil, invalidParam(op, "1 validation error detected: Value at '%s.inputTemplate' failed to satisfy constraint: Member must have length less than or equal to %d", field, maxInputLen)
	case len(it.InputPathsMap) > maxPathsMap:
		return nil, invalidParam(op, "1 validation error detected: Value at '%s.inputPathsMap' failed to satisfy constraint: Member must have length less than or equal to %d", field, maxPathsMap)
	}
	paths := make(map[string][]pathSeg, len(it.InputPathsMap))
	for k, v := range it.InputPathsMap {
		if !pathsMapKey(k) {
			return nil, invalidParam(op, "1 validation error detected: Value '%s' at '%s.inputPathsMap' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to %d, Member must satisfy regular expression pattern: [A-Za-z0-9\\_\\-]+]", k, field, maxPathsMapKey)
		}
		p, ok := parsePath(v)
		if !ok || len(v) > maxInputPathLen {
			return nil, invalidParam(op, "InputPathsMap for target %s has an invalid JSONPath for %s: %s", id, k, v)
		}
		paths[k] = p
	}

	t := &inputTmpl{}
	trimmed := strings.TrimLeft(src, " \t\r\n")
	t.json = trimmed != "" && (trimmed[0] == '{' || trimmed[0] == '[')
	inString := false
	var lit []byte // the literal text since the last placeholder, minified
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '\\' && inString:
			lit = append(lit, src[i:min(i+2, len(src))]...)
			i++
			continue
		case c == '"':
			inString = !inString
		case c == '<':
			j := i + 1
			for j < len(src) && placeholderChar(src[j]) {
				j++
			}
			if j == i+1 || j >= len(src) || src[j] != '>' {
				lit = append(lit, c) // not a placeholder
				continue
			}
			name := src[i+1 : j]
			part := tmplPart{lit: string(lit), quoted: inString}
			if p, ok := paths[name]; ok {
				part.kind, part.path = pathVar, p
			} else if k, ok := predefinedVars[name]; ok {
				part.kind = k
			} else {
				return nil, invalidParam(op, "InputTemplate for target %s contains invalid placeholder %s.", id, name)
			}
			t.parts = append(t.parts, part)
			lit, i = lit[:0], j
			continue
		case t.json && !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			continue
		}
		lit = append(lit, src[i])
	}
	t.tail = string(lit)
	return t, nil
}

func placeholderChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// pathsMapKey reports whether k is a valid InputPathsMap key: 1 to 256
// characters from [A-Za-z0-9_-] (so it cannot start with "AWS." nor take
// the name of a predefined variable).
func pathsMapKey(k string) bool {
	if len(k) == 0 || len(k) > maxPathsMapKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// render returns what the target receives for a job's event, and false when
// its InputPath selects nothing.
func (t *busTarget) render(j *job) ([]byte, bool) {
	switch {
	case t.input != nil:
		return t.input, true
	case t.hasPath:
		return valueAt(j.env, t.path)
	case t.tmpl != nil:
		return t.tmpl.render(j), true
	}
	return j.env, true
}

// render fills the template in as EventBridge does. Values are inserted
// without escaping. In a JSON template, a placeholder outside the
// template's strings takes the value's JSON text (a string with its
// quotes); inside a string, or in a template that is not JSON, a string
// goes in as its bare characters. A variable whose path is missing from
// the event is empty: nothing inside a string, "" outside.
func (t *inputTmpl) render(j *job) []byte {
	out := make([]byte, 0, len(t.tail)+256)
	for _, p := range t.parts {
		out = append(out, p.lit...)
		asJSON := t.json && !p.quoted
		switch p.kind {
		case pathVar:
			raw, ok := valueAt(j.env, p.path)
			switch {
			case !ok:
				if asJSON {
					out = append(out, `""`...)
				}
			case raw[0] == '"' && !asJSON:
				var s string
				_ = json.Unmarshal(raw, &s) // raw is a valid JSON string
				out = append(out, s...)
			default:
				out = append(out, raw...)
			}
		case ruleNameVar:
			out = appendText(out, j.rule, asJSON)
		case ruleARNVar:
			out = appendText(out, j.ruleARN, asJSON)
		case ingestionVar:
			out = appendText(out, j.at.UTC().Format(timeLayout), asJSON)
		case eventVar:
			out = appendEventWithoutDetail(out, j.env)
		case eventJSONVar:
			out = append(out, j.env...)
		}
	}
	return append(out, t.tail...)
}

// appendText appends s as a JSON string or as bare text.
func appendText(dst []byte, s string, asJSON bool) []byte {
	if asJSON {
		return appendJSONString(dst, s)
	}
	return append(dst, s...)
}

// appendEventWithoutDetail appends the event env without its detail field,
// which is its last one.
func appendEventWithoutDetail(dst, env []byte) []byte {
	// A string of the envelope cannot hold `,"detail":` unescaped, so the
	// first one is the field's.
	i := bytes.Index(env, []byte(`,"detail":`))
	if i < 0 {
		return append(dst, env...)
	}
	dst = append(dst, env[:i]...)
	return append(dst, '}')
}
