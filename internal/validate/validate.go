// Package validate checks messages against the rules of Amazon SQS and SNS
// and reports violations as *postroom.Error values carrying AWS's error codes
// and messages.
package validate

import (
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

// Rules are the limits one service applies to message attributes.
type Rules struct {
	MaxAttributes int  // at most this many attributes; 0 means no limit
	StringArray   bool // String.Array is a valid type (SNS)
}

// SQS and SNS are the attribute rules of the two services.
var (
	SQS = Rules{MaxAttributes: 10}
	SNS = Rules{StringArray: true}
)

// Invalid returns a *postroom.Error of package pkg for an invalid parameter value.
func Invalid(pkg, op, code, format string, args ...any) *postroom.Error {
	return &postroom.Error{Pkg: pkg, Op: op, Code: code, Message: fmt.Sprintf(format, args...), Kind: postroom.ErrInvalid}
}

// Attributes checks attribute names, types and values.
func Attributes(pkg, op string, attrs queue.Attributes, r Rules) error {
	if r.MaxAttributes > 0 && len(attrs) > r.MaxAttributes {
		return Invalid(pkg, op, "InvalidParameterValue",
			"Number of message attributes [%d] exceeds the allowed maximum [%d].", len(attrs), r.MaxAttributes)
	}
	for name, a := range attrs {
		if err := attribute(pkg, op, name, a, r); err != nil {
			return err
		}
	}
	return nil
}

func attribute(pkg, op, name string, a queue.Attribute, r Rules) error {
	if msg := AttributeName(name); msg != "" {
		return Invalid(pkg, op, "InvalidParameterValue", "%s", msg)
	}
	if len(a.Type) > 256 {
		return Invalid(pkg, op, "InvalidParameterValue", "Message (user) attribute '%s' type must be at most 256 characters long.", name)
	}
	base := a.BaseType()
	switch base {
	case queue.TypeString, queue.TypeNumber:
	case queue.TypeBinary:
		if len(a.Binary) == 0 {
			return Invalid(pkg, op, "InvalidParameterValue", "Message (user) attribute '%s' must contain a non-empty value of type 'Binary'.", name)
		}
		return nil
	case queue.TypeStringArray:
		if r.StringArray {
			break
		}
		fallthrough
	default:
		types := "Binary, Number, String"
		if r.StringArray {
			types = "Binary, Number, String, String.Array"
		}
		return Invalid(pkg, op, "InvalidParameterValue",
			"The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: %s.", name, types)
	}
	if a.Value == "" {
		return Invalid(pkg, op, "InvalidParameterValue", "Message (user) attribute '%s' must contain a non-empty value of type '%s'.", name, base)
	}
	if !ValidChars(a.Value) {
		return Invalid(pkg, op, "InvalidParameterValue", "Message (user) attribute '%s' contains invalid characters.", name)
	}
	if base == queue.TypeNumber && !Number(a.Value) {
		return Invalid(pkg, op, "InvalidParameterValue", "Can't cast the value of message (user) attribute '%s' to a number.", name)
	}
	return nil
}

// AttributeName returns why name is not a valid SQS/SNS attribute name, or
// "" when it is: at most 256 characters from [A-Za-z0-9_.-], not starting
// with "AWS." or "Amazon." in any case, not starting or ending with a
// period, with no two periods in a row.
func AttributeName(name string) string {
	switch {
	case name == "":
		return "Message (user) attribute name must not be empty."
	case len(name) > 256:
		return fmt.Sprintf("Message (user) attribute name '%.20s…' must be at most 256 characters long.", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Sprintf("Message (user) attribute name '%s' can only contain alphanumeric characters, hyphens, underscores and periods.", printable(name))
		}
	}
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon."):
		return fmt.Sprintf("You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use. Name: '%s'.", name)
	case name[0] == '.' || name[len(name)-1] == '.':
		return fmt.Sprintf("Message (user) attribute name '%s' must not start or end with a period (.).", name)
	case strings.Contains(name, ".."):
		return fmt.Sprintf("Message (user) attribute name '%s' must not contain two periods in a row (..).", name)
	}
	return ""
}

func printable(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Number reports whether s is a number SQS accepts: a decimal number with
// up to 38 significant digits, between -10^126 and 10^126 and not smaller
// in magnitude than 10^-128 (zero aside).
func Number(s string) bool {
	if len(s) == 0 || len(s) > 200 {
		return false
	}
	digits, sawDigit, sawDot, sawExp := 0, false, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if !sawExp {
				digits++
			}
			sawDigit = true
		case c == '.' && !sawDot && !sawExp:
			sawDot = true
		case (c == 'e' || c == 'E') && sawDigit && !sawExp:
			sawExp, sawDigit = true, false
		case (c == '+' || c == '-') && (i == 0 || s[i-1] == 'e' || s[i-1] == 'E'):
		default:
			return false
		}
	}
	if !sawDigit {
		return false
	}
	f, ok := new(big.Float).SetPrec(512).SetString(s)
	if !ok {
		return false
	}
	if f.Sign() == 0 {
		return true
	}
	f.Abs(f)
	return f.Cmp(maxNumber) <= 0 && f.Cmp(minNumber) >= 0 && significant(s) <= 38
}

var (
	maxNumber, _, _ = big.ParseFloat("1e126", 10, 512, big.ToNearestEven)
	minNumber, _, _ = big.ParseFloat("1e-128", 10, 512, big.ToNearestEven)
)

// significant counts the significant digits of a decimal number.
func significant(s string) int {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimLeft(s, "+-")
	s = strings.Replace(s, ".", "", 1)
	s = strings.Trim(s, "0")
	return len(s)
}

// ValidChars reports whether s is valid UTF-8 made only of the characters
// SQS allows: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
// #x10000 to #x10FFFF.
func ValidChars(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if r > 0xFFFD && r < 0x10000 {
			return false
		}
		i += size
	}
	return true
}

// ValidBytes is ValidChars for a byte slice.
func ValidBytes(b []byte) bool {
	return ValidChars(unsafe.String(unsafe.SliceData(b), len(b))) // read only: no copy needed
}

// ID reports whether s is 1 to 128 characters of alphanumerics and
// punctuation, the rule for FIFO group and deduplication ids.
func ID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// Name reports whether s is 1 to max characters from [A-Za-z0-9_-], the
// rule for queue names and batch entry ids.
func Name(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
