package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/eventbus/pattern"
	"github.com/postroom/postroom/internal/testsupport/recorded"
	"github.com/postroom/postroom/queue"
)

const recordedDir = "../../testdata/eventbridge-patterns"

func loadRecordedCases(t *testing.T) []recorded.Case { return recorded.Load(t, recordedDir) }

// TestTestEventPatternRecorded runs every case recorded on EventBridge
// through the verb's function: the same Result, or the same error.
func TestTestEventPatternRecorded(t *testing.T) {
	cases := loadRecordedCases(t)
	passed := 0
	for _, c := range cases {
		ok := t.Run(c.Name, func(t *testing.T) {
			got, err := testEventPattern(c.Pattern, c.Event)
			if c.Want == "error" {
				require.Error(t, err)
				assert.Equal(t, "test-event-pattern: InvalidEventPatternException: "+c.Message, err.Error())
				assert.Equal(t, exitFailed, exitCode(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.Want == "match", got)
		})
		if ok {
			passed++
		}
	}
	t.Logf("eventbridge recorded cases through test-event-pattern: %d/%d passed", passed, len(cases))
}

// TestTestEventPatternBinary runs recorded cases of each outcome through
// the built binary, with the pattern and event in files as the AWS CLI
// reads them.
func TestTestEventPatternBinary(t *testing.T) {
	c := buildCLI(t)
	dir := t.TempDir()
	byName := map[string]recorded.Case{}
	for _, rc := range loadRecordedCases(t) {
		byName[rc.Name] = rc
	}
	for _, name := range []string{"content_numeric_and", "content_numeric_and_NEG", "content_wildcard_simplified",
		"content_anything_but_number_list_NEG", "content_numeric_syntax_EXC", "int_nolist_EXC"} {
		t.Run(name, func(t *testing.T) {
			rc, ok := byName[name]
			require.True(t, ok, "no recorded case %s", name)
			pf, ef := filepath.Join(dir, name+".pattern.json"), filepath.Join(dir, name+".event.json")
			require.NoError(t, os.WriteFile(pf, rc.Pattern, 0o644))
			require.NoError(t, os.WriteFile(ef, rc.Event, 0o644))
			args := []string{"test-event-pattern", "--event-pattern", "file://" + pf, "--event", "file://" + ef}
			if rc.Want == "error" {
				assert.Equal(t, "postroom: test-event-pattern: InvalidEventPatternException: "+rc.Message, c.fails(1, args...))
				return
			}
			var out map[string]bool
			c.ok(args...).json(t, &out)
			assert.Equal(t, map[string]bool{"Result": rc.Want == "match"}, out)
		})
	}
	// The pattern inline, the event from standard input.
	r := c.runIn(`{"id": "1", "account": "1", "source": "s", "time": "2026-01-01T00:00:00Z", "region": "r", "detail-type": "t", "detail": {"n": 3}}`,
		"test-event-pattern", "--event-pattern", `{"detail": {"n": [{"numeric": [">", 2]}]}}`, "--event", "-")
	require.Equal(t, 0, r.code, r.stderr)
	assert.JSONEq(t, `{"Result": true}`, r.stdout)

	line := c.fails(1, "test-event-pattern", "--event-pattern", `{"source": ["s"]}`, "--event", `{"source": "s"}`)
	assert.Equal(t, `postroom: test-event-pattern: ValidationException: Parameter Event is not valid. Reason: Provided Event is missing required field "id".`, line)
	c.fails(2, "test-event-pattern", "--event-pattern", `{}`)
}

// TestTestFilterPolicy matches SNS filter policies, from the SNS
// documentation's examples, through the built binary and the verb's
// function.
func TestTestFilterPolicy(t *testing.T) {
	c := buildCLI(t)
	const policy = `{"store": ["example_corp"], "price_usd": [{"numeric": [">=", 100]}], "customer_interests": ["soccer"]}`
	for _, tc := range []struct {
		name string
		args []string
		want bool
	}{
		{"attributes match", []string{"--attr", "store=example_corp", "--attr", "price_usd:Number=210.75", "--attr", `customer_interests:String.Array=["rugby","soccer"]`}, true},
		{"number compared as a number", []string{"--attr", "store=example_corp", "--attr", "price_usd:Number=1e2", "--attr", "customer_interests=soccer"}, true},
		{"a String is not a Number", []string{"--attr", "store=example_corp", "--attr", "price_usd=210.75", "--attr", "customer_interests=soccer"}, false},
		{"price too low", []string{"--attr", "store=example_corp", "--attr", "price_usd:Number=99", "--attr", "customer_interests=soccer"}, false},
		{"AWS CLI attributes", []string{"--message-attributes", `{"store": {"DataType": "String", "StringValue": "example_corp"}, "price_usd": {"DataType": "Number", "StringValue": "100"}, "customer_interests": {"DataType": "String", "StringValue": "soccer"}}`}, true},
		{"no attributes", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out map[string]bool
			c.ok(append([]string{"test-filter-policy", "--filter-policy", policy}, tc.args...)...).json(t, &out)
			assert.Equal(t, map[string]bool{"Result": tc.want}, out)
		})
	}

	var out map[string]bool
	c.ok("test-filter-policy", "--scope", "MessageBody", "--filter-policy", `{"order": {"total": [{"numeric": [">", 10]}]}}`,
		"--message", `{"order": {"total": 12}}`).json(t, &out)
	assert.True(t, out["Result"])

	line := c.fails(1, "test-filter-policy", "--filter-policy", `{"a": [{"wildcard": "x*"}]}`, "--attr", "a=xy")
	assert.Equal(t, "postroom: test-filter-policy: InvalidParameter: Invalid parameter: FilterPolicy: Unrecognized match type wildcard", line)
	c.fails(2, "test-filter-policy", "--filter-policy", `{}`, "--scope", "Body")
	c.fails(2, "test-filter-policy", "--filter-policy", `{}`, "--attr", "nameonly")

	// The function agrees with the pattern package on the body scope's
	// non-JSON bodies: no match, no error.
	ok, err := testFilterPolicy([]byte(`{"a": ["b"]}`), pattern.ScopeMessageBody, []byte("not json"), nil)
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = testFilterPolicy([]byte(`{"a": ["b"]}`), pattern.ScopeMessageAttributes, nil, queue.Attributes{"a": queue.String("b")})
	require.NoError(t, err)
	assert.True(t, ok)
	_, err = testFilterPolicy([]byte(`{"a": []}`), pattern.ScopeMessageAttributes, nil, nil)
	assert.True(t, errors.Is(err, pattern.ErrInvalid))
}
