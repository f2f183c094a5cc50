package main

import (
	"testing"

	"github.com/postroom/postroom/queue"
)

// FuzzArguments feeds the parsers of command-line values arbitrary
// input: they return an error or a value, and never panic.
func FuzzArguments(f *testing.F) {
	for _, s := range []string{
		"k=v", "n:Number=42", "b:Binary=AAE=", `a:String.Array=["x"]`, "=", ":=", "k:Bogus=1",
		`{"k": {"DataType": "String", "StringValue": "v"}}`, `{"k": {}}`,
		`[{"Source": "s", "DetailType": "t", "Detail": "{}", "Time": 1700000000}]`, `[{"Time": "2026-01-02"}]`, "[]",
		"20", "1.5", "20s", "-1", "NaN", "1e400",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var a attrFlag
		if err := a.Set(s); err == nil {
			for name, at := range a.attrs {
				if name == "" || at.Type == "" {
					t.Fatalf("Set(%q) accepted an attribute without a name or type", s)
				}
			}
		}
		if attrs, err := parseAWSAttributes([]byte(s)); err == nil {
			for _, at := range attrs {
				if at.Type == "" {
					t.Fatalf("parseAWSAttributes(%q) accepted an attribute without a type", s)
				}
			}
		}
		if evs, err := parseEntries([]byte(s)); err == nil && len(evs) == 0 {
			t.Fatalf("parseEntries(%q) returned no entries and no error", s)
		}
		var sec seconds
		if err := sec.Set(s); err == nil && sec.d < 0 {
			t.Fatalf("seconds.Set(%q) = %v", s, sec.d)
		}
		_ = awsAttributes(queue.Attributes(a.attrs))
	})
}
