package validate

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

func TestAttributeName(t *testing.T) {
	for name, ok := range map[string]bool{
		"order_id": true, "a.b-c_D9": true, strings.Repeat("n", 256): true,
		"": false, strings.Repeat("n", 257): false, "AWS.x": false, "amazon.y": false,
		".start": false, "end.": false, "a..b": false, "sp ace": false, "ünï": false,
	} {
		assert.Equal(t, ok, AttributeName(name) == "", "%q: %s", name, AttributeName(name))
	}
}

func TestNumber(t *testing.T) {
	for s, ok := range map[string]bool{
		"0": true, "-1.5": true, "1e10": true, "+3": true, "1E-5": true, "0.000": true,
		"1e126": true, "1e127": false, "1e-128": true, "1e-130": false,
		strings.Repeat("9", 38): true, strings.Repeat("9", 39): false, "1.": true, ".5": true,
		"": false, "abc": false, "1e": false, "--1": false, "1.2.3": false, "0x10": false, "NaN": false, "Inf": false,
	} {
		assert.Equal(t, ok, Number(s), "%q", s)
	}
}

func TestValidChars(t *testing.T) {
	for s, ok := range map[string]bool{
		"plain": true, "tab\tnl\ncr\r": true, "é€😀": true, "\uE000\uFFFD": true,
		"\x00": false, "\x1f": false, "\uFFFE": false, "\xff": false,
	} {
		assert.Equal(t, ok, ValidChars(s), "%q", s)
		assert.Equal(t, ok, ValidBytes([]byte(s)), "%q", s)
	}
}

func FuzzAttributes(f *testing.F) {
	f.Add("name", "String", "value", []byte(nil))
	f.Add("n", "Number.int", "1e3", []byte(nil))
	f.Add("b", "Binary", "", []byte{0})
	f.Add("AWS.x", "String.Array", `["a"]`, []byte(nil))
	f.Fuzz(func(t *testing.T, name, typ, value string, bin []byte) {
		attrs := queue.Attributes{name: {Type: typ, Value: value, Binary: bin}}
		for _, r := range []Rules{SQS, SNS} {
			err := Attributes("test", "send", attrs, r)
			if err == nil {
				// An accepted attribute obeys the documented rules.
				if AttributeName(name) != "" {
					t.Fatalf("accepted invalid name %q", name)
				}
				a := attrs[name]
				switch a.BaseType() {
				case queue.TypeNumber:
					if !Number(value) {
						t.Fatalf("accepted non-number %q", value)
					}
				case queue.TypeString, queue.TypeStringArray:
					if value == "" || !ValidChars(value) {
						t.Fatalf("accepted bad value %q", value)
					}
				case queue.TypeBinary:
					if len(bin) == 0 {
						t.Fatal("accepted empty binary")
					}
				default:
					t.Fatalf("accepted type %q", typ)
				}
				continue
			}
			if !errors.Is(err, postroom.ErrInvalid) {
				t.Fatalf("error %v does not match postroom.ErrInvalid", err)
			}
		}
	})
}
