package pattern

import (
	"unicode/utf8"
)

// This file holds the streaming JSON tokenizer used to compile patterns. It
// yields tokens in the same order as a streaming JSON parser (object keys
// are tokens of their own), so that the compiler meets errors in the same
// order AWS's compiler does and can report the same reason.

type tokKind uint8

const (
	tEOF tokKind = iota
	tStartObject
	tEndObject
	tStartArray
	tEndArray
	tField
	tString
	tNumber
	tTrue
	tFalse
	tNull
)

// isNumeric reports whether the token is a number.
func (k tokKind) isNumeric() bool { return k == tNumber }

type token struct {
	kind tokKind
	text string // field name, string value or number literal
}

// display returns the token's text as a streaming parser's getText would.
func (t token) display() string {
	switch t.kind {
	case tStartObject:
		return "{"
	case tEndObject:
		return "}"
	case tStartArray:
		return "["
	case tEndArray:
		return "]"
	case tTrue:
		return "true"
	case tFalse:
		return "false"
	case tNull:
		return "null"
	case tEOF:
		return "null"
	}
	return t.text
}

type lexCtx uint8

const (
	ctxObject lexCtx = iota
	ctxArray
)

// syntaxError is a JSON syntax error found by the lexer.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

type lexer struct {
	data  []byte
	pos   int
	stack []lexCtx
	// state within the innermost container
	afterField bool // last token was a field name: a value follows
	needComma  bool // a value was completed in the innermost container
	done       bool // the root value is complete
}

func newLexer(data []byte) *lexer { return &lexer{data: data} }

func (l *lexer) skipWS() {
	for l.pos < len(l.data) {
		switch l.data[l.pos] {
		case ' ', '\t', '\n', '\r':
			l.pos++
		default:
			return
		}
	}
}

func charDesc(c byte) string {
	if c < 0x20 {
		return "(CTRL-CHAR, code " + itoa(int(c)) + ")"
	}
	if c >= 0x80 {
		return "((char)0x" + hex2(c) + " (code " + itoa(int(c)) + "))"
	}
	return "('" + string(rune(c)) + "' (code " + itoa(int(c)) + "))"
}

func hex2(c byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[c>>4], digits[c&15]})
}

func (l *lexer) unexpected(c byte, what string) error {
	return &syntaxError{"Unexpected character " + charDesc(c) + ": " + what}
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	if l.done {
		return token{kind: tEOF}, nil
	}
	l.skipWS()
	depth := len(l.stack)
	if depth > 0 && l.stack[depth-1] == ctxObject && !l.afterField {
		// Expect a field name, '}' or ','.
		if l.pos >= len(l.data) {
			return token{}, &syntaxError{"Unexpected end-of-input: expected close marker for Object"}
		}
		c := l.data[l.pos]
		if c == '}' {
			l.pos++
			l.pop()
			return token{kind: tEndObject}, nil
		}
		if l.needComma {
			if c != ',' {
				if c == ']' {
					return token{}, &syntaxError{"Unexpected close marker ']': expected '}'"}
				}
				return token{}, l.unexpected(c, "was expecting comma to separate Object entries")
			}
			l.pos++
			l.skipWS()
			if l.pos >= len(l.data) {
				return token{}, &syntaxError{"Unexpected end-of-input: expected close marker for Object"}
			}
			c = l.data[l.pos]
		}
		if c != '"' {
			return token{}, l.unexpected(c, "was expecting double-quote to start field name")
		}
		name, err := l.readString()
		if err != nil {
			return token{}, err
		}
		l.skipWS()
		if l.pos >= len(l.data) {
			return token{}, &syntaxError{"Unexpected end-of-input: expected close marker for Object"}
		}
		if l.data[l.pos] != ':' {
			return token{}, l.unexpected(l.data[l.pos], "was expecting a colon to separate field name and value")
		}
		l.pos++
		l.afterField = true
		return token{kind: tField, text: name}, nil
	}
	if depth > 0 && l.stack[depth-1] == ctxArray {
		if l.pos >= len(l.data) {
			return token{}, &syntaxError{"Unexpected end-of-input: expected close marker for Array"}
		}
		c := l.data[l.pos]
		if c == ']' {
			l.pos++
			l.pop()
			return token{kind: tEndArray}, nil
		}
		if l.needComma {
			if c != ',' {
				if c == '}' {
					return token{}, &syntaxError{"Unexpected close marker '}': expected ']'"}
				}
				return token{}, l.unexpected(c, "was expecting comma to separate Array entries")
			}
			l.pos++
			l.skipWS()
		}
	}
	return l.value()
}

func (l *lexer) pop() {
	l.stack = l.stack[:len(l.stack)-1]
	l.afterField = false
	l.needComma = true
	if len(l.stack) == 0 {
		l.done = true
	}
}

// valueDone records that a scalar value completed.
func (l *lexer) valueDone() {
	l.afterField = false
	l.needComma = true
	if len(l.stack) == 0 {
		l.done = true
	}
}

func (l *lexer) value() (token, error) {
	if l.pos >= len(l.data) {
		if len(l.stack) == 0 {
			return token{kind: tEOF}, nil
		}
		return token{}, &syntaxError{"Unexpected end-of-input: expected a value"}
	}
	c := l.data[l.pos]
	switch {
	case c == '{':
		if err := l.checkDepth(); err != nil {
			return token{}, err
		}
		l.pos++
		l.stack = append(l.stack, ctxObject)
		l.afterField, l.needComma = false, false
		return token{kind: tStartObject}, nil
	case c == '[':
		if err := l.checkDepth(); err != nil {
			return token{}, err
		}
		l.pos++
		l.stack = append(l.stack, ctxArray)
		l.afterField, l.needComma = false, false
		return token{kind: tStartArray}, nil
	case c == '"':
		s, err := l.readString()
		if err != nil {
			return token{}, err
		}
		l.valueDone()
		return token{kind: tString, text: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		s, err := l.readNumber()
		if err != nil {
			return token{}, err
		}
		l.valueDone()
		return token{kind: tNumber, text: s}, nil
	case c == ']' || c == '}':
		return token{}, l.unexpected(c, "expected a value")
	case isTokenByte(c):
		start := l.pos
		for l.pos < len(l.data) && isTokenByte(l.data[l.pos]) {
			l.pos++
		}
		word := string(l.data[start:l.pos])
		switch word {
		case "true":
			l.valueDone()
			return token{kind: tTrue}, nil
		case "false":
			l.valueDone()
			return token{kind: tFalse}, nil
		case "null":
			l.valueDone()
			return token{kind: tNull}, nil
		}
		return token{}, &syntaxError{"Unrecognized token '" + word + "': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"}
	}
	return token{}, l.unexpected(c, "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
}

// maxPatternDepth is the nesting limit of the JSON parser AWS uses.
const maxPatternDepth = 1000

func (l *lexer) checkDepth() error {
	if len(l.stack) >= maxPatternDepth {
		return &syntaxError{"Document nesting depth (" + itoa(len(l.stack)+1) + ") exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNestingDepth()`)"}
	}
	return nil
}

func isTokenByte(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80
}

func (l *lexer) readNumber() (string, error) {
	start := l.pos
	end, msg := scanNumber(l.data, l.pos)
	if msg != "" {
		return "", &syntaxError{msg}
	}
	l.pos = end
	return string(l.data[start:end]), nil
}

// scanNumber validates a JSON number starting at pos and returns its end, or
// an error message.
func scanNumber(data []byte, pos int) (int, string) {
	i := pos
	if i < len(data) && data[i] == '-' {
		i++
	}
	if i >= len(data) {
		return 0, "Unexpected end-of-input in a Number value"
	}
	switch {
	case data[i] == '0':
		i++
		if i < len(data) && data[i] >= '0' && data[i] <= '9' {
			return 0, "Invalid numeric value: Leading zeroes not allowed"
		}
	case data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		return 0, "Unexpected character " + charDesc(data[i]) + " in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value"
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return 0, "Unexpected character in numeric value: Decimal point not followed by a digit"
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return 0, "Unexpected character in numeric value: Exponent indicator not followed by a digit"
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && isTokenByte(data[i]) {
		return 0, "Unexpected character " + charDesc(data[i]) + " in numeric value: Expected space separating root-level values"
	}
	return i, ""
}

// readString reads a string starting at the opening quote and returns its
// decoded value. Invalid UTF-8 is an error in patterns.
func (l *lexer) readString() (string, error) {
	start := l.pos + 1
	i := start
	esc := false
	for {
		if i >= len(l.data) {
			return "", &syntaxError{"Unexpected end-of-input: was expecting closing quote for a string value"}
		}
		c := l.data[i]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return "", &syntaxError{"Illegal unquoted character (" + charDesc(c)[1:] + ": has to be escaped using backslash to be included in string value"}
		}
		if c == '\\' {
			esc = true
			i++
			if i >= len(l.data) {
				return "", &syntaxError{"Unexpected end-of-input in character escape sequence"}
			}
			switch l.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				for k := 1; k <= 4; k++ {
					if i+k >= len(l.data) || unhex(l.data[i+k]) < 0 {
						return "", &syntaxError{"Unexpected character in character escape sequence: expected a hex-digit for character escape sequence"}
					}
				}
				i += 5
			default:
				e := l.data[i]
				return "", &syntaxError{"Unrecognized character escape " + charDesc(e)[1:len(charDesc(e))-1]}
			}
			continue
		}
		if c >= 0x80 {
			r, size := utf8.DecodeRune(l.data[i:])
			if r == utf8.RuneError && size == 1 {
				return "", &syntaxError{"Invalid UTF-8 start byte 0x" + hex2(c)}
			}
			i += size
			continue
		}
		i++
	}
	raw := l.data[start:i]
	l.pos = i + 1
	if !esc {
		return string(raw), nil
	}
	return string(appendUnescaped(nil, raw)), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// finish checks that only whitespace follows the root value.
func (l *lexer) finish() error {
	l.skipWS()
	if l.pos < len(l.data) {
		return &syntaxError{"Unexpected character " + charDesc(l.data[l.pos]) + ": expected end of input after the pattern object"}
	}
	return nil
}
