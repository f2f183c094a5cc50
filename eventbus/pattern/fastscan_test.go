package pattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// flatResult is what a scan recorded, in comparable form.
type flatResult struct {
	Leaves     []string
	NodeParent []int32
	ArrParent  []int32
}

func flatResultOf(s *scratch) flatResult {
	r := flatResult{
		NodeParent: append([]int32(nil), s.nodeParent...),
		ArrParent:  append([]int32(nil), s.arrParent...),
	}
	for i := range s.leaves {
		l := &s.leaves[i]
		r.Leaves = append(r.Leaves, fmt.Sprintf("path=%d node=%d kind=%d next=%d %q", l.path, l.node, l.kind, l.next, s.str(l)))
	}
	return r
}

// structuralAgrees checks that the structural scanner either declines
// event or records exactly what the exact scanner records, and reports
// whether it read it.
func structuralAgrees(t testing.TB, root *trieNode, npaths int, event []byte) bool {
	t.Helper()
	fast, exact := new(scratch), new(scratch)
	ok := fast.fastFlatten(root, npaths, event)
	err := exact.exactFlatten(root, npaths, event)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("structural scanner accepts %q, exact scanner says %v", event, err)
	}
	require.Equal(t, flatResultOf(exact), flatResultOf(fast), "event %q", event)
	return true
}

// matcherRoot compiles srcs into one Matcher and returns its path trie.
func matcherRoot(t testing.TB, srcs []string) (*trieNode, int) {
	t.Helper()
	m := NewMatcher()
	for i, src := range srcs {
		require.NoError(t, m.Add(fmt.Sprint(i), mustCompile(t, src)))
	}
	snap := m.current()
	return snap.prog.root, len(snap.prog.paths)
}

func TestClassify(t *testing.T) {
	// classifyRef is the byte-at-a-time definition of classify. Escapes
	// do not depend on strings: a byte is escaped when an odd run of
	// backslashes precedes it.
	classifyRef := func(data []byte, out []blockMasks) (ok, escapes bool) {
		ok = true
		in, run := false, 0 // in a string; backslashes just before
		for i := 0; i < len(out)*64; i++ {
			c := byte(' ') // padding
			if i < len(data) {
				c = data[i]
			}
			bit, m := uint64(1)<<(i&63), &out[i>>6]
			if i&63 == 0 {
				*m = blockMasks{}
			}
			escaped := run%2 == 1
			if c == '\\' {
				run++
				if !escaped {
					m.esc |= bit
					escapes = true
				}
			} else {
				run = 0
			}
			if c == '.' {
				m.dot |= bit
			}
			if c >= 0x80 {
				m.high |= bit
			}
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c < 0x20 && in) {
				ok = false
			}
			switch {
			case c == '"' && !escaped:
				m.quote |= bit
				if !in {
					m.sig |= bit
				}
				in = !in
			case !in && c > 0x20:
				m.sig |= bit
			}
		}
		return ok && !in, escapes
	}
	for _, impl := range classifyImpls() {
		t.Run(impl.name, func(t *testing.T) {
			defer impl.use()()
			testClassify(t, classifyRef)
		})
	}
}

func testClassify(t *testing.T, classifyRef func([]byte, []blockMasks) (bool, bool)) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{'"', '"', '.', '\\', '\\', '\\', '\n', '\t', '\r', 0x0b, 0x0c, 0x19, 0x1a, 0x1d, ' ', ' ', 0, 0x1f, 0x20, 0x21, 'a', 0x80, 0xff, 0x7f, 0xa2, 0xdc, 'x', 'x', 'x'}
	for iter := 0; iter < 20000; iter++ {
		data := make([]byte, r.IntN(300))
		for i := range data {
			if r.IntN(8) == 0 {
				data[i] = byte(r.IntN(256))
			} else {
				data[i] = alphabet[r.IntN(len(alphabet))]
			}
			if iter%2 == 0 && data[i] < 0x20 {
				data[i] = "\t\n\r"[i%3] // keep half the inputs free of unusual bytes
			}
		}
		nb := (len(data) + 63) / 64
		got, want := make([]blockMasks, nb), make([]blockMasks, nb)
		ok, escapes := classify(data, got)
		wok, wescapes := classifyRef(data, want)
		require.Equal(t, wok, ok, "%q", data)
		if ok {
			require.Equal(t, want, got, "%q", data)
			require.Equal(t, wescapes, escapes, "%q", data)
		}
	}
}

// indent pretty-prints a valid JSON event, as most events are sent.
func indent(t testing.TB, event string, prefix, step string) []byte {
	var b bytes.Buffer
	require.NoError(t, json.Indent(&b, []byte(event), prefix, step))
	return b.Bytes()
}

func TestStructuralScan(t *testing.T) {
	if !structuralScan {
		t.Skip("no structural scanner on this platform")
	}
	for _, impl := range classifyImpls() {
		t.Run(impl.name, func(t *testing.T) {
			defer impl.use()()
			testStructuralScan(t)
		})
	}
}

func testStructuralScan(t *testing.T) {
	var srcs []string
	srcs = append(srcs, fuzzEventPatterns...)
	for i := 0; i < 10; i++ {
		srcs = append(srcs, benchPattern(i))
	}
	srcs = append(srcs,
		`{"a": {"b": ["x"]}, "c": [1], "a.b": ["y"]}`,
		`{"b": {"c": [{"exists": true}]}, "a": [null, true, false]}`,
		`{"k\u00e9y": ["v"], "d": {"e.f": [{"exists": true}]}}`,
	)
	root, npaths := matcherRoot(t, srcs)

	fixed := []string{
		string(benchEvent),
		`{}`, ` {} `, "{\n}\n", `{"a":"x"}`, `{"a" : "x" , "b" : [ 1 , 2 ] }`,
		`{"a":{"b":"x","b":"y"},"a.b":"z","c":[1,[2,[3]],{"d":4}]}`,
		`{"a":[{"b":"x"},{"b":["y","z"]}],"c":[true,false,null,-0,1e5,2.5E-3]}`,
		`{"kéy":"v","k\u00e9y":"w","d":{"e.f":1,"e":{"f":2}}}`,
		`{"b":{"c":null},"a":true}`,
		`{"x":"` + strings.Repeat("y", 200) + `","a":"` + strings.Repeat("é", 70) + `"}`,
		`{"detail":{"count":` + strings.Repeat("1", 130) + `}}`,
		`{"detail":{"count":1.` + strings.Repeat("0", 130) + `1}}`,
		`{"z":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `,"a":"x"}`,
		`{"z":` + strings.Repeat(`{"a":`, 130) + `1` + strings.Repeat("}", 130) + `}`,
		`{"a":"\xff\xfe","b":"x"}`, `{"\xff":1}`, `{"a":"x\ty"}`, `{"a":"x\\"}`,
		"{\"a\":\"x\ny\"}", "{\"a\":\r\n\"x\"}", "{\"a\":\t\"x\"}",
		// Invalid: the structural scanner must decline, never accept.
		``, ` `, `[]`, `"x"`, `1`, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1}}`,
		`{"a":1}{}`, `{"a":1} x`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":{"b":1,}}`, `{"a":{,}}`,
		`{"a":tru}`, `{"a":truex}`, `{"a":nul}`, `{"a":fals}`, `{"a":-}`, `{"a":01}`, `{"a":1.}`,
		`{"a":.5}`, `{"a":1e}`, `{"a":1x}`, `{"a":"x"y}`, `{"a":"x""y"}`, `{"a" "x"}`, `{"a"::1}`,
		`{1:2}`, `{"a":[}`, `{"a":{]}`, `{"a":[1}`, `{"a":{"b":1]}`, `{"a":"x`, `{"a":"x}`,
		`{"a":1 2}`, `{"a":[1 2]}`, `{"a":{"b" 1}}`, `{"a":é}`, "{\"a\":\x00}", `{"a":[` + strings.Repeat(`"x",`, 40) + `]}`,
		`{"z":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
		`{"z":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
		`{"z":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
		`{"a":"x\y"}`, `{"a":"\u12"}`, `{"a":"\u12g4"}`, `{"a":"\`, `{"a":"\"}`, `{"a":"x"\}`, `{\"a":1}`,
		`{"a":"` + strings.Repeat(`\\`, 40) + `\"}`, `{"a":"` + strings.Repeat(`\\`, 40) + `"}`,
		`{"a":"` + strings.Repeat("x", 63) + `\"` + strings.Repeat("y", 70) + `"}`,
	}
	taken := 0
	for _, ev := range fixed {
		if structuralAgrees(t, root, npaths, []byte(ev)) {
			taken++
		}
	}
	require.GreaterOrEqual(t, taken, 15, "the structural scanner declines too much")

	// Generated events, compact and pretty-printed, shifted across block
	// boundaries, and with random mutations.
	r := rand.New(rand.NewPCG(3, 4))
	taken = 0
	n := 20000
	if testing.Short() {
		n = 3000
	}
	for i := 0; i < n; i++ {
		ev := genStructuralEvent(r, 0)
		var b []byte
		switch r.IntN(3) {
		case 0:
			b = []byte(ev)
		case 1:
			b = indent(t, ev, "", "  ")
		default:
			b = indent(t, ev, strings.Repeat(" ", r.IntN(70)), "\t ")
			b = bytes.ReplaceAll(b, []byte("\t"), []byte("   "))
		}
		if structuralAgrees(t, root, npaths, b) {
			taken++
		}
		for k := 0; k < 3; k++ {
			structuralAgrees(t, root, npaths, mutate(r, b))
		}
	}
	require.Greater(t, taken, n*9/10, "the structural scanner declines too much")
}

// structuralKeys are JSON keys, quoted: plain, dotted, escaped (the
// escapes may decode to a dot, or to a key a pattern uses) and invalid
// UTF-8.
var structuralKeys = []string{`"a"`, `"b"`, `"c"`, `"d"`, `"source"`, `"detail"`, `"state"`, `"count"`, `"tags"`, `"k"`, `"v"`, `"x"`,
	`"a.b"`, `"e.f"`, `"kéy"`, `"resources"`, `"ip"`, `"a\u002eb"`, `"\u0073ource"`, `"k\u00e9y"`, `"st\"ate"`, `"\\"`, "\"k\xe9y\""}

// structuralStrings are JSON strings, quoted, with and without escapes.
var structuralStrings = []string{`"x"`, `"running"`, `"a.b"`, `"é"`, `" "`, `"10.0.0.1"`, `""`,
	`"\""`, `"\\"`, `"a\\\"b"`, `"\/"`, `"x\ny\tz"`, `"\u00e9"`, `"\ud83d\ude00"`, `"\ud800"`, `"\u0058"`, "\"\xff\xfe\"", `"\\\\\\"`}

// genStructuralEvent returns a random valid event over the keys the test
// patterns use, with strings and numbers of varied lengths.
func genStructuralEvent(r *rand.Rand, depth int) string {
	var b strings.Builder
	b.WriteByte('{')
	n := r.IntN(6)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(structuralKeys[r.IntN(len(structuralKeys))])
		b.WriteByte(':')
		b.WriteString(genStructuralValue(r, depth+1))
	}
	b.WriteByte('}')
	return b.String()
}

func genStructuralValue(r *rand.Rand, depth int) string {
	switch k := r.IntN(12); {
	case depth < 5 && k < 2:
		return genStructuralEvent(r, depth)
	case depth < 5 && k < 4:
		parts := make([]string, r.IntN(5))
		for i := range parts {
			parts[i] = genStructuralValue(r, depth+1)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case k < 5:
		return []string{"true", "false", "null"}[r.IntN(3)]
	case k < 8:
		return []string{"0", "-1", "5", "10", "2.5", "1e3", "-0.0", "123456789012345678901234567890", "1.5E-7"}[r.IntN(9)]
	default:
		str := structuralStrings[r.IntN(len(structuralStrings))]
		return `"` + strings.Repeat(str[1:len(str)-1], 1+r.IntN(20)) + `"`
	}
}

// mutate returns b with a few bytes replaced, inserted or deleted.
func mutate(r *rand.Rand, b []byte) []byte {
	b = append([]byte(nil), b...)
	const set = "{}[]:,\" \n\t\\0123456789.-+eEtrufalsn\x00\x1f\x80x"
	for k := 1 + r.IntN(2); k > 0 && len(b) > 0; k-- {
		i := r.IntN(len(b))
		switch r.IntN(3) {
		case 0:
			b[i] = set[r.IntN(len(set))]
		case 1:
			b = append(b[:i], append([]byte{set[r.IntN(len(set))]}, b[i:]...)...)
		default:
			b = append(b[:i], b[i+1:]...)
		}
	}
	return b
}

// FuzzStructuralScan checks the structural scanner against the exact one
// on arbitrary events.
func FuzzStructuralScan(f *testing.F) {
	for _, s := range seedCorpus(f) {
		f.Add(s[1])
	}
	f.Add(benchEvent)
	var srcs []string
	srcs = append(srcs, fuzzEventPatterns...)
	srcs = append(srcs, `{"a": {"b": ["x"]}, "c": [1], "a.b": ["y"]}`, `{"b": {"c": [{"exists": true}]}, "a": [null, true, false]}`)
	root, npaths := matcherRoot(f, srcs)
	f.Fuzz(func(t *testing.T, event []byte) {
		if !structuralScan {
			t.Skip("no structural scanner on this platform")
		}
		if len(event) > 8192 {
			return
		}
		structuralAgrees(t, root, npaths, event)
	})
}

// TestCIDRIndex checks the Matcher's CIDR index (blocks filed by network
// and prefix length) against Pattern.Match, which tests each block, on
// blocks written with host bits, of both families, at their edges.
func TestCIDRIndex(t *testing.T) {
	// The prefix is what makes the index selective: with 0, every block
	// would be a candidate for every address (correct, but slow).
	for cidr, want := range map[string]int{"10.1.2.3/16": 112, "0.0.0.0/0": 96, "2001:db8::/32": 32, "::1/127": 127} {
		_, _, prefix, reason := cidrRange(cidr)
		require.Empty(t, reason)
		require.Equal(t, want, prefix, cidr)
	}

	r := rand.New(rand.NewPCG(5, 6))
	v4 := func() ipAddr {
		var ip ipAddr
		ip.v4 = true
		for i := 12; i < 16; i++ {
			ip.b[i] = byte(r.IntN(4)) // few values, so that blocks overlap
		}
		return ip
	}
	v6 := func() ipAddr {
		var ip ipAddr
		ip.b[0], ip.b[1] = 0x20, 0x01
		for i := 2; i < 16; i++ {
			ip.b[i] = byte(r.IntN(3))
		}
		return ip
	}
	str := func(ip ipAddr) string {
		if ip.v4 {
			return fmt.Sprintf("%d.%d.%d.%d", ip.b[12], ip.b[13], ip.b[14], ip.b[15])
		}
		return netip.AddrFrom16(ip.b).String()
	}
	step := func(ip ipAddr, d int) ipAddr { // ip+d, within the family
		lo := 0
		if ip.v4 {
			lo = 12
		}
		for i := 15; i >= lo; i-- {
			v := int(ip.b[i]) + d
			ip.b[i] = byte(v)
			if v >= 0 && v <= 255 {
				break
			}
		}
		return ip
	}
	for iter := 0; iter < 200; iter++ {
		m := NewMatcher()
		var pats []*Pattern
		var probes []ipAddr
		for j := 0; j < 12; j++ {
			ip, bits := v4(), 1+r.IntN(31)
			if r.IntN(3) == 0 {
				ip, bits = v6(), 1+r.IntN(127)
			}
			src := fmt.Sprintf(`{"ip": [{"cidr": %q}]}`, str(ip)+"/"+fmt.Sprint(bits))
			p := mustCompile(t, src)
			pats = append(pats, p)
			require.NoError(t, m.Add(fmt.Sprint(j), p))
			hi := p.clauses[0].conds[0].ms[0].ipHi
			probes = append(probes, step(ip, -1), ip, step(ip, 1), step(hi, -1), hi, step(hi, 1))
		}
		for _, ip := range probes {
			ev := []byte(fmt.Sprintf(`{"ip": %q}`, str(ip)))
			got, err := m.Match(ev)
			require.NoError(t, err)
			var want []string
			for j, p := range pats {
				if ok, _ := p.Match(ev); ok {
					want = append(want, fmt.Sprint(j))
				}
			}
			require.ElementsMatch(t, want, got, "event %s", ev)
		}
	}
}
