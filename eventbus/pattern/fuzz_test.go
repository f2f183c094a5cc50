package pattern

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// refEventValid reports whether encoding/json accepts event as an object.
func refEventValid(event []byte) bool {
	v, err := refDecode(event)
	if err != nil {
		return false
	}
	_, ok := v.(map[string]any)
	return ok
}

// fuzzNeighbours are patterns added next to the fuzzed one in a Matcher.
var fuzzNeighbours = []string{
	`{"a": ["x"]}`,
	`{"a": [{"prefix": ""}], "b": [{"exists": false}]}`,
	`{"detail": {"state": [{"anything-but": "initializing"}]}}`,
	`{"x": {"y": [{"numeric": [">", 0]}]}, "z": [{"exists": true}]}`,
}

func seedCorpus(f *testing.F) [][2][]byte {
	var seeds [][2][]byte
	for _, c := range loadRecordedCases(f) {
		seeds = append(seeds, [2][]byte{c.Pattern, c.Event})
	}
	extra := [][2]string{
		{`{"a": {"b": ["1"], "c": ["2"]}}`, `{"a": [{"b": "1", "c": "3"}, {"b": "4", "c": "2"}]}`},
		{`{"a": {"b": ["1"], "c": [{"exists": false}]}}`, `{"a": [{"b": "1"}, {"c": "2"}]}`},
		{`{"a": {"b": [{"exists": false}]}}`, `{"a": [{"b": "1"}, {"c": "2"}]}`},
		{`{"$or": [{"a": [1]}, {"b": {"c": [{"numeric": [">=", 5, "<", 9]}]}}]}`, `{"b": {"c": [4, 8]}}`},
		{`{"a": [{"cidr": "10.0.0.0/8"}, "2001:db8::1"]}`, `{"a": ["2001:0db8:0:0:0:0:0:1"]}`},
		{`{"$or": {"a": [1]}, "b": ["x"]}`, `{"$or": {"a": 1}, "b": "x"}`},
		{`{"$or": [{"prefix": "a"}, "b"]}`, `{"$or": ["ab", "c"]}`},
		{`{"a": [{"exists": true}], "b": [{"exists": false}]}`, `{}`},
		{`{"a": [{"wildcard": "x*y\\*z"}], "b": [{"anything-but": {"wildcard": ["*q", "r*"]}}]}`, `{"a": "xAAy*z", "b": 3}`},
		{`{"a": [{"equals-ignore-case": "ÄbC"}], "b": [{"suffix": {"equals-ignore-case": "K"}}]}`, `{"a": "äBc", "b": "\u212a"}`},
	}
	for _, e := range extra {
		seeds = append(seeds, [2][]byte{[]byte(e[0]), []byte(e[1])})
	}
	return seeds
}

// FuzzCompileMatch compiles arbitrary patterns and matches them against
// arbitrary events: nothing may panic, errors must wrap the sentinels, and
// Pattern.Match and the Matcher must agree with the reference evaluator.
func FuzzCompileMatch(f *testing.F) {
	for _, s := range seedCorpus(f) {
		f.Add(s[0], s[1])
	}
	var neighbours []*Pattern
	for _, src := range fuzzNeighbours {
		neighbours = append(neighbours, mustCompile(f, src))
	}
	f.Fuzz(func(t *testing.T, pattern, event []byte) {
		if len(pattern) > 2048 || len(event) > 4096 {
			return
		}
		watchdog := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("hang: pattern %q event %q", pattern, event))
		})
		defer watchdog.Stop()
		for _, scope := range []Scope{ScopeMessageAttributes, ScopeMessageBody} {
			q, err := CompileFilterPolicy(pattern, scope)
			if err != nil {
				if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "Invalid parameter: ") {
					t.Fatalf("filter policy error %q does not wrap ErrInvalid", err)
				}
				continue
			}
			_, _ = q.Match(event)
			q.MatchAttributes(map[string]Attribute{"a": {"String.Array", string(event)}, "b": {"Number", string(event)}})
		}

		p, err := Compile(pattern)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "Event pattern is not valid. Reason: ") {
				t.Fatalf("compile error %q does not wrap ErrInvalid", err)
			}
			return
		}
		if p.String() != string(pattern) {
			t.Fatal("String does not return the source")
		}
		got, merr := p.Match(event)
		if merr != nil && !errors.Is(merr, ErrInvalidEvent) {
			t.Fatalf("match error %q does not wrap ErrInvalidEvent", merr)
		}
		if valid := refEventValid(event); valid != (merr == nil) {
			t.Fatalf("event validity: encoding/json says %v, Match says %v", valid, merr)
		}

		m := NewMatcher()
		require.NoError(t, m.Add("p", p))
		for i, n := range neighbours {
			require.NoError(t, m.Add(fmt.Sprint("n", i), n))
		}
		names, nerr := m.Match(event)
		if (merr == nil) != (nerr == nil) {
			t.Fatalf("Pattern.Match error %v, Matcher.Match error %v", merr, nerr)
		}
		if merr != nil {
			return
		}
		if got != slices.Contains(names, "p") {
			t.Fatalf("Pattern.Match=%v but Matcher.Match=%v", got, names)
		}
		want, rerr := refMatch(pattern, event)
		if errors.Is(rerr, errRefSkip) {
			return
		}
		if rerr != nil {
			t.Fatalf("reference rejects the event: %v", rerr)
		}
		if got != want {
			t.Fatalf("pattern %s event %s: Match=%v reference=%v", pattern, event, got, want)
		}
	})
}

// fuzzEventPatterns is the fixed pattern set of FuzzMatchEvent.
var fuzzEventPatterns = []string{
	`{"source": ["aws.ec2"]}`,
	`{"detail": {"state": ["running", "stopped"]}}`,
	`{"detail": {"state": [{"anything-but": ["running"]}]}}`,
	`{"detail": {"count": [{"numeric": [">", 1, "<=", 10]}]}}`,
	`{"detail": {"count": [5, "5"]}}`,
	`{"detail": {"tags": {"k": ["a"], "v": ["b"]}}}`,
	`{"detail": {"tags": {"k": ["a"], "v": [{"exists": false}]}}}`,
	`{"detail": {"tags": {"k": [{"exists": true}]}}}`,
	`{"detail": {"tags": {"k": [{"exists": false}]}}}`,
	`{"resources": [{"prefix": "arn:"}]}`,
	`{"resources": [{"suffix": {"equals-ignore-case": "X"}}]}`,
	`{"detail": {"ip": [{"cidr": "10.0.0.0/8"}]}}`,
	`{"detail.state": [null]}`,
	`{"$or": [{"source": ["a"]}, {"detail": {"count": [{"numeric": ["<", 0]}]}}]}`,
	`{"detail": {"x": [{"wildcard": "a*b"}], "y": [true, false]}}`,
	`{"detail": {"tags": {"k": [{"anything-but": {"prefix": "a"}}], "v": [{"equals-ignore-case": "B"}]}}}`,
}

func mustCompile(t testing.TB, src string) *Pattern {
	t.Helper()
	p, err := Compile([]byte(src))
	require.NoError(t, err, src)
	return p
}

// FuzzMatchEvent matches arbitrary events against a fixed set of patterns
// and checks the Matcher against Pattern.Match and the reference.
func FuzzMatchEvent(f *testing.F) {
	for _, s := range seedCorpus(f) {
		f.Add(s[1])
	}
	f.Add([]byte(`{"detail": {"tags": [{"k": "a", "v": "c"}, {"k": "d", "v": "b"}], "count": [0, 3]}, "resources": ["arn:x", 1]}`))
	m := NewMatcher()
	var pats []*Pattern
	for i, src := range fuzzEventPatterns {
		p := mustCompile(f, src)
		pats = append(pats, p)
		require.NoError(f, m.Add(fmt.Sprint(i), p))
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		if len(event) > 8192 {
			return
		}
		names, err := m.Match(event)
		if valid := refEventValid(event); valid != (err == nil) {
			t.Fatalf("event validity: encoding/json says %v, Matcher says %v", valid, err)
		}
		if err != nil {
			return
		}
		for i, p := range pats {
			got, err := p.Match(event)
			require.NoError(t, err)
			if got != slices.Contains(names, fmt.Sprint(i)) {
				t.Fatalf("pattern %d: Pattern.Match=%v, Matcher=%v", i, got, names)
			}
			want, rerr := refMatch([]byte(fuzzEventPatterns[i]), event)
			if rerr != nil {
				continue
			}
			if got != want {
				t.Fatalf("pattern %s event %s: Match=%v reference=%v", fuzzEventPatterns[i], event, got, want)
			}
		}
	})
}

// TestRandomDifferential generates structured patterns and events over a
// small vocabulary, so that arrays, exists:false and $or interact often,
// and checks Pattern.Match and the Matcher against the reference.
func TestRandomDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 500
	}
	for i := 0; i < n; i++ {
		m := NewMatcher()
		var srcs []string
		var pats []*Pattern
		for j := 0; j < 6; j++ {
			src := genPattern(r)
			p, err := Compile([]byte(src))
			if err != nil {
				continue
			}
			srcs = append(srcs, src)
			pats = append(pats, p)
			require.NoError(t, m.Add(fmt.Sprint(j), p))
		}
		for k := 0; k < 5; k++ {
			event := genEvent(r)
			names, err := m.Match([]byte(event))
			require.NoError(t, err, event)
			var want []string
			for j, p := range pats {
				got, err := p.Match([]byte(event))
				require.NoError(t, err)
				if got {
					want = append(want, fmt.Sprint(j))
				}
				if ref, rerr := refMatch([]byte(srcs[j]), []byte(event)); rerr == nil {
					require.Equal(t, ref, got, "pattern %s event %s", srcs[j], event)
				}
			}
			slices.Sort(want)
			require.Equal(t, want, names, "event %s", event)
		}
	}
}

var genKeys = []string{"a", "b", "c"}

func genScalar(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return "null"
	case 1:
		return []string{"true", "false"}[r.IntN(2)]
	case 2, 3:
		return []string{"1", "2", "2.0", "-1", "10"}[r.IntN(5)]
	default:
		return []string{`"x"`, `"y"`, `"xy"`, `"X"`, `"10.0.0.1"`, `""`}[r.IntN(6)]
	}
}

func genValue(r *rand.Rand, depth int) string {
	k := r.IntN(10)
	switch {
	case depth < 3 && k < 3:
		return genObject(r, depth+1)
	case depth < 3 && k < 6:
		n := r.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = genValue(r, depth+1)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return genScalar(r)
}

func genObject(r *rand.Rand, depth int) string {
	var parts []string
	for _, k := range genKeys {
		if r.IntN(4) == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%q: %s", k, genValue(r, depth)))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func genEvent(r *rand.Rand) string { return genObject(r, 0) }

func genMatch(r *rand.Rand) string {
	switch r.IntN(14) {
	case 0:
		return `{"exists": false}`
	case 1:
		return `{"exists": true}`
	case 2:
		return `{"anything-but": ["x", "y"]}`
	case 3:
		return `{"anything-but": 2}`
	case 4:
		return `{"numeric": [">", 1]}`
	case 5:
		return `{"prefix": "x"}`
	case 6:
		return `{"equals-ignore-case": "x"}`
	case 7:
		return `{"cidr": "10.0.0.0/24"}`
	case 8:
		return `{"wildcard": "*y"}`
	case 9:
		return `{"anything-but": {"prefix": "x"}}`
	default:
		return genScalar(r)
	}
}

func genPatternObject(r *rand.Rand, depth int) string {
	var parts []string
	for _, k := range genKeys {
		if r.IntN(3) != 0 {
			continue
		}
		if depth < 2 && r.IntN(2) == 0 {
			parts = append(parts, fmt.Sprintf("%q: %s", k, genPatternObject(r, depth+1)))
			continue
		}
		n := 1 + r.IntN(2)
		vals := make([]string, n)
		for i := range vals {
			vals[i] = genMatch(r)
		}
		parts = append(parts, fmt.Sprintf("%q: [%s]", k, strings.Join(vals, ",")))
	}
	if depth == 0 && r.IntN(5) == 0 {
		parts = append(parts, fmt.Sprintf(`"$or": [%s, %s]`, genPatternObject(r, 1), genPatternObject(r, 1)))
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%q: [%s]", genKeys[r.IntN(len(genKeys))], genMatch(r)))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func genPattern(r *rand.Rand) string { return genPatternObject(r, 0) }
