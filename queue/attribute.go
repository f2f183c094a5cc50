package queue

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Attribute data types, as SQS and SNS name them. A type may carry a custom
// label after a dot, such as "Number.int" or "Binary.png".
const (
	TypeString      = "String"
	TypeNumber      = "Number"
	TypeBinary      = "Binary"
	TypeStringArray = "String.Array" // SNS only
)

// An Attribute is a typed message attribute. The type matters: an SNS
// filter policy compares Number attributes numerically and String.Array
// element by element, and ignores Binary ones.
type Attribute struct {
	// Type is the data type: String, Number, Binary or String.Array,
	// optionally followed by ".label".
	Type string
	// Value holds String, Number and String.Array values (the last as a
	// JSON array of strings, as SNS takes it).
	Value string
	// Binary holds Binary values.
	Binary []byte
}

// String returns a String attribute.
func String(v string) Attribute { return Attribute{Type: TypeString, Value: v} }

// Number returns a Number attribute for the decimal number v, such as "42"
// or "-1.5e3". Drivers reject values that are not numbers.
func Number(v string) Attribute { return Attribute{Type: TypeNumber, Value: v} }

// Int returns a Number attribute holding v.
func Int(v int64) Attribute { return Number(strconv.FormatInt(v, 10)) }

// Float returns a Number attribute holding v.
func Float(v float64) Attribute { return Number(strconv.FormatFloat(v, 'g', -1, 64)) }

// Binary returns a Binary attribute.
func Binary(b []byte) Attribute { return Attribute{Type: TypeBinary, Binary: b} }

// StringArray returns an SNS String.Array attribute.
func StringArray(vs ...string) Attribute {
	if vs == nil {
		vs = []string{}
	}
	b, _ := json.Marshal(vs) // a []string always marshals
	return Attribute{Type: TypeStringArray, Value: string(b)}
}

// BaseType returns the type without its custom label: "Number" for
// "Number.int". String.Array is returned whole.
func (a Attribute) BaseType() string {
	if strings.HasPrefix(a.Type, TypeStringArray) &&
		(len(a.Type) == len(TypeStringArray) || a.Type[len(TypeStringArray)] == '.') {
		return TypeStringArray
	}
	if i := strings.IndexByte(a.Type, '.'); i >= 0 {
		return a.Type[:i]
	}
	return a.Type
}

// Size is the attribute's value size in bytes (for Binary, the raw bytes).
func (a Attribute) Size() int {
	if a.BaseType() == TypeBinary {
		return len(a.Binary)
	}
	return len(a.Value)
}

// Attributes are a message's attributes by name.
type Attributes map[string]Attribute

// Set sets a String attribute. It is a shorthand for a[name] = String(value).
func (a Attributes) Set(name, value string) { a[name] = String(value) }

// Get returns the value of a String, Number or String.Array attribute, or
// "" when there is none.
func (a Attributes) Get(name string) string { return a[name].Value }

// Size is the number of bytes the attributes count towards a message's size
// limit on SQS and SNS: each name, type and value.
func (a Attributes) Size() int {
	n := 0
	for name, at := range a {
		n += len(name) + len(at.Type) + at.Size()
	}
	return n
}

// Clone returns a copy of a that shares no memory with it.
func (a Attributes) Clone() Attributes {
	if a == nil {
		return nil
	}
	c := make(Attributes, len(a))
	for k, v := range a {
		if v.Binary != nil {
			v.Binary = append([]byte(nil), v.Binary...)
		}
		c[k] = v
	}
	return c
}
