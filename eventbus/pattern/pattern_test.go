package pattern

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatchSemantics(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		event   string
		want    bool
	}{
		// Values.
		{"number compared numerically", `{"n": [300]}`, `{"n": 3.0e2}`, true},
		{"number is not a string", `{"n": [300]}`, `{"n": "300"}`, false},
		{"string is not a number", `{"n": ["300"]}`, `{"n": 300}`, false},
		{"negative zero", `{"n": [0]}`, `{"n": -0.0}`, true},
		{"huge literal", `{"n": [1e400]}`, `{"n": 1e400}`, true},
		{"huge literal spelled differently", `{"n": [1e400]}`, `{"n": 1E400}`, false},
		{"true", `{"b": [true]}`, `{"b": true}`, true},
		{"true is not a string", `{"b": [true]}`, `{"b": "true"}`, false},
		{"null", `{"v": [null]}`, `{"v": null}`, true},
		{"null is not empty string", `{"v": [null]}`, `{"v": ""}`, false},
		{"empty string", `{"v": [""]}`, `{"v": ""}`, true},
		{"escapes decoded", `{"v": ["a\"b\u00e9"]}`, `{"v": "a\"bé"}`, true},
		{"control escapes", `{"v": ["\b\f\n\r\t/"]}`, `{"v": "\b\f\n\r\t\/"}`, true},
		{"surrogate pair", `{"v": ["🚀"]}`, `{"v": "\ud83d\ude80"}`, true},
		{"lone surrogate", `{"v": ["\ufffd"]}`, `{"v": "\ud800"}`, true},
		{"invalid utf-8 in event", `{"v": ["a\ufffd"]}`, "{\"v\": \"a\xff\"}", true},
		{"escaped key", `{"a\u0062": [1]}`, `{"\u0061b": 1}`, true},
		{"keys are case sensitive", `{"K": ["v"]}`, `{"k": "v"}`, false},
		{"ip literal equality", `{"ip": ["10.0.0.1"]}`, `{"ip": "10.000.0.01"}`, true},
		{"ipv6 literal equality", `{"ip": ["2001:db8::1"]}`, `{"ip": "2001:0db8:0:0:0:0:0:1"}`, true},
		{"not an ip", `{"ip": ["10.0.0.256"]}`, `{"ip": "10.0.0.256"}`, true},
		// Operators.
		{"prefix", `{"v": [{"prefix": "ab"}]}`, `{"v": "abc"}`, true},
		{"prefix on number", `{"v": [{"prefix": "1"}]}`, `{"v": 12}`, false},
		{"prefix ignore case", `{"v": [{"prefix": {"equals-ignore-case": "AB"}}]}`, `{"v": "aBc"}`, true},
		{"suffix ignore case unicode", `{"v": [{"suffix": {"equals-ignore-case": "ÄÖ"}}]}`, `{"v": "xäö"}`, true},
		{"equals-ignore-case", `{"v": [{"equals-ignore-case": "straße"}]}`, `{"v": "STRAẞE"}`, true},
		{"exactly", `{"v": [{"exactly": "10.0.0.1"}]}`, `{"v": "10.0.0.01"}`, false},
		{"wildcard", `{"v": [{"wildcard": "a*c*e"}]}`, `{"v": "abcde"}`, true},
		{"wildcard escapes", `{"v": [{"wildcard": "a\\*\\\\*"}]}`, `{"v": "a*\\xyz"}`, true},
		{"wildcard escaped star is literal", `{"v": [{"wildcard": "a\\*"}]}`, `{"v": "ab"}`, false},
		{"wildcard empty", `{"v": [{"wildcard": ""}]}`, `{"v": ""}`, true},
		{"numeric open bounds", `{"n": [{"numeric": [">", 0, "<", 1]}]}`, `{"n": 1}`, false},
		{"numeric closed bounds", `{"n": [{"numeric": [">=", 0, "<=", 1]}]}`, `{"n": 1}`, true},
		{"numeric equals", `{"n": [{"numeric": ["=", 5]}]}`, `{"n": 5.0}`, true},
		{"numeric full float64 range", `{"n": [{"numeric": [">", 1e300]}]}`, `{"n": 1e301}`, true},
		{"cidr v4", `{"ip": [{"cidr": "10.0.0.0/8"}]}`, `{"ip": "10.255.255.255"}`, true},
		{"cidr v6", `{"ip": [{"cidr": "2001:db8::/32"}]}`, `{"ip": "2001:db8:ffff::1"}`, true},
		{"cidr v4 not v6", `{"ip": [{"cidr": "10.0.0.0/8"}]}`, `{"ip": "::a00:1"}`, false},
		{"cidr base is the low end", `{"ip": [{"cidr": "10.0.0.5/24"}]}`, `{"ip": "10.0.0.1"}`, false},
		{"anything-but number vs string", `{"n": [{"anything-but": [1, 2]}]}`, `{"n": "1"}`, true},
		{"anything-but string vs number", `{"n": [{"anything-but": "1"}]}`, `{"n": 1}`, true},
		{"anything-but null", `{"n": [{"anything-but": "x"}]}`, `{"n": null}`, true},
		{"anything-but missing", `{"n": [{"anything-but": "x"}]}`, `{}`, false},
		{"anything-but suffix", `{"f": [{"anything-but": {"suffix": [".a", ".b"]}}]}`, `{"f": "x.b"}`, false},
		{"anything-but equals-ignore-case", `{"f": [{"anything-but": {"equals-ignore-case": ["X"]}}]}`, `{"f": "x"}`, false},
		{"anything-but wildcard", `{"f": [{"anything-but": {"wildcard": "*/lib/*"}}]}`, `{"f": "/usr/bin/x"}`, true},
		{"exists true", `{"a": [{"exists": true}]}`, `{"a": null}`, true},
		{"exists true empty string", `{"a": [{"exists": true}]}`, `{"a": ""}`, true},
		{"exists false empty event", `{"a": [{"exists": false}]}`, `{}`, true},
		{"exists true on object", `{"a": [{"exists": true}]}`, `{"a": {"b": 1}}`, false},
		{"exists false on object", `{"a": [{"exists": false}]}`, `{"a": {"b": 1}}`, true},
		{"exists false empty array", `{"a": [{"exists": false}]}`, `{"a": []}`, true},
		{"exists or value", `{"a": ["x", {"exists": false}]}`, `{"a": "y"}`, false},
		// Paths.
		{"dotted pattern key", `{"a.b": [1]}`, `{"a": {"b": 1}}`, true},
		{"dotted event key", `{"a": {"b": [1]}}`, `{"a.b": 1}`, true},
		{"nested json string is not parsed", `{"a": {"b": [1]}}`, `{"a": "{\"b\": 1}"}`, false},
		{"duplicate pattern key: last wins", `{"a": ["x"], "a": ["y"]}`, `{"a": "y"}`, true},
		{"duplicate pattern object keys merge", `{"a": {"b": [1]}, "a": {"c": [2]}}`, `{"a": {"b": 1, "c": 3}}`, false},
		// $or.
		{"$or", `{"$or": [{"a": [1]}, {"b": [2]}]}`, `{"b": 2}`, true},
		{"$or with shared field", `{"c": [3], "$or": [{"a": [1]}, {"b": [2]}]}`, `{"b": 2}`, false},
		{"nested $or", `{"$or": [{"a": [1], "$or": [{"b": [2]}, {"c": [3]}]}, {"d": [4]}]}`, `{"a": 1, "c": 3}`, true},
		// $or is an ordinary field name unless its value is an array of at
		// least two objects without operator keys (event-ruler's rule).
		{"$or object is a field", `{"$or": {"a": [1]}}`, `{"$or": {"a": 1}}`, true},
		{"$or object is not or", `{"$or": {"a": [1]}}`, `{"a": 1}`, false},
		{"$or object beside a field", `{"source": ["x"], "$or": {"metricType": ["M"], "namespace": ["AWS/EC2", "AWS/ES"]}}`, `{"source": "x", "$or": {"metricType": "M", "namespace": "AWS/ES"}}`, true},
		{"$or object beside a field no match", `{"source": ["x"], "$or": {"metricType": ["M"], "namespace": ["AWS/EC2", "AWS/ES"]}}`, `{"source": "x", "metricType": "M", "namespace": "AWS/ES"}`, false},
		{"$or object nested", `{"detail": {"$or": {"c": {"d": ["v"]}}}}`, `{"detail": {"$or": {"c": {"d": "v"}}}}`, true},
		{"$or object dotted event key", `{"$or": {"a": [1]}}`, `{"$or.a": 1}`, true},
		{"$or values are a field", `{"$or": ["x", "y"]}`, `{"$or": "y"}`, true},
		{"$or one value is a field", `{"$or": [1]}`, `{"$or": 1}`, true},
		{"$or match expressions are a field", `{"$or": [{"numeric": [">", 1]}, {"prefix": "ab"}]}`, `{"$or": "abc"}`, true},
		{"$or match expressions are not or", `{"$or": [{"numeric": [">", 1]}, {"prefix": "ab"}]}`, `{"numeric": 2}`, false},
		{"$or array still means or", `{"$or": [{"a": [1]}, {"b": [2]}]}`, `{"$or": [{"a": 1}]}`, false},
		// Arrays.
		{"array intersection", `{"a": [1, 2]}`, `{"a": [3, 2]}`, true},
		{"nested arrays", `{"a": [5]}`, `{"a": [[1], [[5]]]}`, true},
		{"empty array has no value", `{"a": [{"exists": true}]}`, `{"a": [[], {}]}`, false},
		{"array consistent", `{"r": {"k": ["a"], "v": ["1"]}}`, `{"r": [{"k": "a", "v": "1"}, {"k": "b", "v": "2"}]}`, true},
		{"array inconsistent", `{"r": {"k": ["a"], "v": ["2"]}}`, `{"r": [{"k": "a", "v": "1"}, {"k": "b", "v": "2"}]}`, false},
		{"different arrays are independent", `{"x": {"k": ["a"]}, "y": {"k": ["b"]}}`, `{"x": [{"k": "z"}, {"k": "a"}], "y": [{"k": "b"}]}`, true},
		{"inner array elements", `{"r": {"k": ["a"], "v": [2]}}`, `{"r": [{"k": "a", "v": [1, 2]}]}`, true},
		{"exists false within the element", `{"r": {"k": ["a"], "v": [{"exists": false}]}}`, `{"r": [{"k": "a"}, {"k": "b", "v": "2"}]}`, true},
		{"exists false in the element", `{"r": {"k": ["a"], "v": [{"exists": false}]}}`, `{"r": [{"k": "a", "v": 1}, {"k": "b"}]}`, false},
		{"exists false without a chosen element", `{"r": {"v": [{"exists": false}]}}`, `{"r": [{"k": "a"}, {"v": 1}]}`, false},
		{"exists true on an element", `{"r": {"id": [{"exists": true}]}}`, `{"r": [{"k": 1}, {"id": 2}]}`, true},
		{"one value per field", `{"a": {"x": {"b": [1], "c": [{"exists": false}]}}}`, `{"a": {"x": [{"b": 1}, {"c": 1}]}, "a.x": [{"b": 1}, {"c": 1}]}`, false},
		{"nested arrays consistent", `{"r": {"s": {"k": ["a"], "v": ["1"]}}}`, `{"r": [{"s": [{"k": "a", "v": "2"}]}, {"s": [{"k": "b"}, {"k": "a", "v": "1"}]}]}`, true},
		{"nested arrays inconsistent", `{"r": {"s": {"k": ["a"], "v": ["1"]}}}`, `{"r": [{"s": [{"k": "a", "v": "2"}]}, {"s": [{"k": "b", "v": "1"}]}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile([]byte(tt.pattern))
			require.NoError(t, err)
			got, err := p.Match([]byte(tt.event))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "Pattern.Match")

			m := NewMatcher()
			require.NoError(t, m.Add("p", p))
			names, err := m.Match([]byte(tt.event))
			require.NoError(t, err)
			assert.Equal(t, tt.want, len(names) == 1, "Matcher.Match")

			if want, err := refMatch([]byte(tt.pattern), []byte(tt.event)); err == nil {
				assert.Equal(t, tt.want, want, "reference")
			}
		})
	}
}

// TestLargeArrays keeps the consistency search linear in the array size.
func TestLargeArrays(t *testing.T) {
	var elems []string
	for i := 0; i < 20000; i++ {
		elems = append(elems, fmt.Sprintf(`{"k": "a", "v": %d, "w": %d}`, i%7, i%5))
	}
	ev := []byte(`{"r": [` + strings.Join(elems, ",") + `]}`)
	for src, want := range map[string]bool{
		`{"r": {"k": ["a"], "v": [6], "w": [4]}}`:                   true,
		`{"r": {"k": ["a"], "v": [6], "x": [{"exists": false}]}}`:   true,
		`{"r": {"k": ["b"], "v": [6], "w": [{"exists": false}]}}`:   false,
		`{"r": {"k": ["a"], "v": [6], "w": [{"exists": false}]}}`:   false,
		`{"r": {"k": ["a"], "v": [6], "w": [{"anything-but": 1}]}}`: true,
	} {
		p := mustCompile(t, src)
		start := time.Now()
		ok, err := p.Match(ev)
		require.NoError(t, err)
		assert.Equal(t, want, ok, src)
		assert.Less(t, time.Since(start), 2*time.Second, src)
	}
}

// TestManyArrayFields exercises the search used when more than 64 fields
// of one clause depend on array elements.
func TestManyArrayFields(t *testing.T) {
	var pat, elem, split []string
	for i := 0; i < 70; i++ {
		pat = append(pat, fmt.Sprintf(`"k%d": [%d]`, i, i))
		elem = append(elem, fmt.Sprintf(`"k%d": %d`, i, i))
	}
	split = append(split, elem[:35]...)
	p := mustCompile(t, `{"r": {`+strings.Join(pat, ",")+`}}`)
	ok, err := p.Match([]byte(`{"r": [{"x": 1}, {` + strings.Join(elem, ",") + `}]}`))
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = p.Match([]byte(`{"r": [{` + strings.Join(split, ",") + `}, {` + strings.Join(elem[35:], ",") + `}]}`))
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		pattern string
		reason  string
	}{
		{``, "Filter is not an object"},
		{`[1]`, "Filter is not an object"},
		{`{}`, "Empty objects are not allowed"},
		{`{"a": {}}`, "Empty objects are not allowed"},
		{`{"a": 1}`, `"a" must be an object or an array`},
		{`{"a": []}`, "Empty arrays are not allowed"},
		{`{"a": [[1]]}`, "Match value must be String, number, true, false, or null"},
		{`{"a": [{}]}`, "Match expression name not found"},
		{`{"a": [{"prefix": "a", "x": 1}]}`, "Only one key allowed in match expression"},
		{`{"a": [{"prefix": {"x": "a"}}]}`, "Unsupported prefix pattern: x"},
		{`{"a": [{"suffix": {}}]}`, "Suffix expression name not found"},
		{`{"a": [{"numeric": [">", 5, "<=", 5]}]}`, "Bottom must be less than top"},
		{`{"a": [{"numeric": ["=", 5, 6]}]}`, "Too many elements in numeric expression"},
		{`{"a": [{"anything-but": []}]}`, "Inside anything but list, either all values are number or string, mixed type is not supported"},
		{`{"a": [{"anything-but": ["a", 1]}]}`, "Inside anything but list, either all values are number or string, mixed type is not supported"},
		{`{"a": [{"anything-but": "a", "x": 1}]}`, "Too many elements in numeric expression"},
		{`{"a": [{"anything-but": {}}]}`, "Anything-But expression name not found"},
		{`{"a": [{"anything-but": {"exists": true}}]}`, "Unsupported anything-but pattern: exists"},
		{`{"a": [{"anything-but": {"wildcard": "a**"}}]}`, "Consecutive wildcard characters at pos 2"},
		{`{"a": [{"wildcard": "a\\b"}]}`, "Invalid escape character at pos 2"},
		{`{"a": [{"cidr": "10.0.0.0"}]}`, "Malformed CIDR, one '/' required"},
		{`{"a": [{"cidr": "10.0.0.0/"}]}`, "Malformed CIDR, one '/' required"},
		{`{"a": [{"cidr": "10.0.0.0/-1"}]}`, "Malformed CIDR, mask bits must not be negative"},
		{`{"a": [{"cidr": "10.0.0.0/32"}]}`, "IPv4 mask bits must be < 32"},
		{`{"a": [{"cidr": "::/128"}]}`, "IPv6 mask bits must be < 128"},
		{`{"a": [{"cidr": "10.0.0.256/8"}]}`, "Invalid IP address: 10.0.0.256"},
		{`{"a": [{"exists": true, "b": 1}]}`, "Only one key allowed in match expression"},
		{`{"$or": {}}`, "Empty objects are not allowed"},
		{`{"$or": {"a": 1}}`, `"a" must be an object or an array`},
		{`{"$or": 1}`, `"$or" must be an object or an array`},
		{`{"$or": [{"a": [1]}, {"b": [2]}], "c": {"$or": {"d": [1]}}}`, "Unrecognized match type a"},
		{`{"$or": [{"a": [1]}]}`, "There must have at least 2 Objects in $or relationship."},
		{`{"$or": [{"a": [1]}, 1]}`, "Only JSON object is allowed in array of $or relationship."},
		{`{"$or": [{"a": [1]}, {"prefix": [1]}]}`, "prefix is Ruler reserved fieldName which cannot be used inside $or."},
		{`{"a": [{"Prefix": "x"}]}`, "Unrecognized match type Prefix"},
		{`{"a": ["x"]`, "Unexpected end-of-input: expected close marker for Object"},
		{`{'a': ["x"]}`, "Unexpected character (''' (code 39)): was expecting double-quote to start field name"},
		{`{"a": [nope]}`, "Unrecognized token 'nope': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"},
		{`{"a": [01]}`, "Invalid numeric value: Leading zeroes not allowed"},
		{`{"a": ["x"]} x`, "Unexpected character ('x' (code 120)): expected end of input after the pattern object"},
		{strings.Repeat(`{"a":`, 1001), "Document nesting depth (1001) exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNestingDepth()`)"},
		{`{"a": [{"wildcard": "*a*a*a*a*a*"}]}`, "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			_, err := Compile([]byte(tt.pattern))
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalid))
			assert.Equal(t, "Event pattern is not valid. Reason: "+tt.reason, err.Error())
			var perr *Error
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, tt.reason, perr.Reason)
			assert.Equal(t, EventBridge, perr.Dialect)
		})
	}
}

// TestSaturatingCount keeps SNS's combination count within a 32-bit int:
// it saturates instead of overflowing.
func TestSaturatingCount(t *testing.T) {
	tests := []struct {
		name      string
		got, want int
	}{
		{"product", satMul(3, 50), 150},
		{"product with zero", satMul(0, 1<<30), 0},
		{"product saturates", satMul(1<<20, 1<<20), 1 << 30},
		{"saturated operand", satMul(1<<30, 2), 1 << 30},
		{"sum", satAdd(100, 50), 150},
		{"sum saturates", satAdd(1<<30, 1<<30), 1 << 30},
		{"sum of a saturated operand", satAdd(1<<30, 1), 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

func TestWildcardComplexity(t *testing.T) {
	tests := []struct {
		values []string
		ok     bool
	}{
		{[]string{"*:*:*:*:*:event-bus/*"}, false},
		{[]string{"arn:aws:events:us-east-1:*:event-bus/*"}, true},
		{[]string{"/Users/*/dir/dir/dir/dir/dir/doc.txt"}, true},
		{[]string{"*.bif", "*.tiff", "*.tif", "*.svs"}, true},
		{[]string{"*/datasync/*.bif", "*/datasync/*.tif"}, true},
		{[]string{"*/datasync/*.bif", "*/datasync/*.tif", "*/datasync/*.tiff", "*/datasync/*.svs"}, false},
		{[]string{"*a*a*a*a*"}, true},
		{[]string{"*a*a*a*a*a*"}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.values), func(t *testing.T) {
			src := `{"f": [`
			for i, v := range tt.values {
				if i > 0 {
					src += ","
				}
				src += fmt.Sprintf(`{"wildcard": %q}`, v)
			}
			src += `]}`
			_, err := Compile([]byte(src))
			assert.Equal(t, tt.ok, err == nil, "%v", err)
		})
	}
}

func TestInvalidEvents(t *testing.T) {
	p := mustCompile(t, `{"a": ["x"]}`)
	m := NewMatcher()
	require.NoError(t, m.Add("p", p))
	for _, ev := range []string{``, `[]`, `"x"`, `{"a": "x"`, `{"a": "x"} {}`, `{"a": tru}`, `{"a": "\x01"}`, `{"a": 01}`, `{"b": {"c": [1,]}}`} {
		t.Run(ev, func(t *testing.T) {
			_, err := p.Match([]byte(ev))
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalidEvent), "%v", err)
			_, err = m.Match([]byte(ev))
			assert.True(t, errors.Is(err, ErrInvalidEvent), "%v", err)
		})
	}
}

func TestPatternAccessors(t *testing.T) {
	src := `{"source": ["aws.ec2"]}`
	p := mustCompile(t, src)
	assert.Equal(t, src, p.String())
	assert.Equal(t, EventBridge, p.Dialect())
	assert.Equal(t, "EventBridge", p.Dialect().String())
	q, err := CompileFilterPolicy([]byte(src), ScopeMessageAttributes)
	require.NoError(t, err)
	assert.Equal(t, SNS, q.Dialect())
	assert.Equal(t, ScopeMessageAttributes, q.Scope())
	assert.Equal(t, "MessageAttributes", q.Scope().String())
	assert.Equal(t, "MessageBody", ScopeMessageBody.String())
}

func TestMatcherLifecycle(t *testing.T) {
	var m Matcher // the zero value is ready
	names, err := m.Match([]byte(`{"a": 1}`))
	require.NoError(t, err)
	assert.Empty(t, names)
	assert.Error(t, m.Add("nil", nil))

	require.NoError(t, m.Add("b", mustCompile(t, `{"a": [1]}`)))
	require.NoError(t, m.Add("a", mustCompile(t, `{"a": [{"numeric": [">", 0]}]}`)))
	require.NoError(t, m.Add("c", mustCompile(t, `{"a": [2]}`)))
	assert.Equal(t, 3, m.Len())
	names, err = m.Match([]byte(`{"a": 1}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, names)

	// Replacing a name.
	require.NoError(t, m.Add("b", mustCompile(t, `{"a": [3]}`)))
	names, _ = m.Match([]byte(`{"a": 1}`))
	assert.Equal(t, []string{"a"}, names)

	assert.True(t, m.Remove("a"))
	assert.False(t, m.Remove("a"))
	assert.Equal(t, 2, m.Len())
	names, _ = m.Match([]byte(`{"a": 1}`))
	assert.Empty(t, names)

	// MatchAppend keeps dst.
	names, err = m.MatchAppend([]string{"x"}, []byte(`{"a": 2}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"x", "c"}, names)
}

func TestMatcherAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless with -race (sync.Pool drops objects)")
	}
	m := NewMatcher()
	for i := 0; i < 200; i++ {
		require.NoError(t, m.Add(fmt.Sprint(i), mustCompile(t, benchPattern(i))))
	}
	dst, err := m.MatchAppend(nil, benchEvent)
	require.NoError(t, err)
	require.Len(t, dst, 5)
	allocs := testing.AllocsPerRun(100, func() {
		dst, _ = m.MatchAppend(dst[:0], benchEvent)
	})
	assert.LessOrEqual(t, allocs, 0.0)
	allocs = testing.AllocsPerRun(100, func() {
		_, _ = m.Match(benchEvent)
	})
	assert.LessOrEqual(t, allocs, 1.0)
}

// TestMatcherConcurrent adds, removes and matches from several goroutines;
// run it with -race.
func TestMatcherConcurrent(t *testing.T) {
	m := NewMatcher()
	ev := []byte(`{"source": "aws.ec2", "detail": {"n": 5}}`)
	require.NoError(t, m.Add("always", mustCompile(t, `{"source": ["aws.ec2"]}`)))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				name := fmt.Sprintf("w%d-%d", w, i%10)
				if i%3 == 0 {
					m.Remove(name)
				} else {
					_ = m.Add(name, mustCompile(t, fmt.Sprintf(`{"detail": {"n": [{"numeric": [">", %d]}]}}`, i%10)))
				}
				names, err := m.Match(ev)
				if err != nil || !slices.Contains(names, "always") {
					t.Errorf("match: %v %v", names, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
}

func TestManyPatternsAgree(t *testing.T) {
	m := NewMatcher()
	var pats []*Pattern
	for i := 0; i < 500; i++ {
		p := mustCompile(t, benchPattern(i))
		pats = append(pats, p)
		require.NoError(t, m.Add(fmt.Sprintf("p%05d", i), p))
	}
	names, err := m.Match(benchEvent)
	require.NoError(t, err)
	var want []string
	for i, p := range pats {
		if ok, _ := p.Match(benchEvent); ok {
			want = append(want, fmt.Sprintf("p%05d", i))
		}
	}
	assert.Equal(t, want, names)
	assert.Len(t, names, 5)
}
