package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/eventbus/pattern"
	"github.com/postroom/postroom/queue"
)

const recordedDir = "../../testdata/eventbridge-patterns"

// recordedCase is one case recorded on Amazon EventBridge's
// TestEventPattern (see testdata/eventbridge-patterns/NOTICE).
type recordedCase struct {
	name           string
	event, pattern []byte
	want           string // "match", "nomatch" or "error"
	message        string // AWS's message, for "error"
}

// json5ToJSON turns the JSON5 of the recorded cases (comments, trailing
// commas) into JSON.
func json5ToJSON(src []byte) []byte {
	var out []byte
	inStr := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inStr {
			out = append(out, c)
			if c == '\\' && i+1 < len(src) {
				i++
				out = append(out, src[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			out = append(out, c)
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			out = append(out, '\n')
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := bytes.Index(src[i+2:], []byte("*/"))
			if end < 0 {
				i = len(src)
			} else {
				i += end + 3
			}
		case c == ',':
			j := i + 1
			for j < len(src) && strings.ContainsRune(" \t\r\n", rune(src[j])) {
				j++
			}
			if j < len(src) && (src[j] == '}' || src[j] == ']') {
				continue
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

func loadRecordedCases(t *testing.T) []recordedCase {
	t.Helper()
	snapRaw, err := os.ReadFile(filepath.Join(recordedDir, "test_events_patterns.snapshot.json"))
	require.NoError(t, err)
	var snap map[string]struct {
		RecordedContent map[string]json.RawMessage `json:"recorded-content"`
	}
	require.NoError(t, json.Unmarshal(snapRaw, &snap))
	messages := map[string]string{}
	for _, v := range snap {
		for name, raw := range v.RecordedContent {
			if !strings.HasSuffix(name, "_EXC") {
				continue
			}
			var rec struct {
				ExceptionMessage struct{ Error struct{ Message string } } `json:"exception_message"`
			}
			require.NoError(t, json.Unmarshal(raw, &rec), name)
			messages[name] = rec.ExceptionMessage.Error.Message
		}
	}
	files, err := filepath.Glob(filepath.Join(recordedDir, "*.json5"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var cases []recordedCase
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc struct{ Event, EventPattern json.RawMessage }
		require.NoError(t, json.Unmarshal(json5ToJSON(raw), &doc), f)
		name := strings.TrimSuffix(filepath.Base(f), ".json5")
		c := recordedCase{name: name, event: doc.Event, pattern: doc.EventPattern, want: "match"}
		switch {
		case strings.HasSuffix(name, "_EXC"):
			c.want, c.message = "error", messages[name]
			require.NotEmpty(t, c.message, "no recorded message for %s", name)
		case strings.HasSuffix(name, "_NEG"):
			c.want = "nomatch"
		}
		cases = append(cases, c)
	}
	// The multi-key pair: the pattern repeats a key, and the last one wins.
	ev, err := os.ReadFile(filepath.Join(recordedDir, "complex_multi_key_event.json"))
	require.NoError(t, err)
	pat, err := os.ReadFile(filepath.Join(recordedDir, "complex_multi_key_event_pattern.json"))
	require.NoError(t, err)
	return append(cases, recordedCase{name: "complex_multi_key_event", event: ev, pattern: pat, want: "match"})
}

// TestTestEventPatternRecorded runs every case recorded on EventBridge
// through the verb's function: the same Result, or the same error.
func TestTestEventPatternRecorded(t *testing.T) {
	cases := loadRecordedCases(t)
	passed := 0
	for _, c := range cases {
		ok := t.Run(c.name, func(t *testing.T) {
			got, err := testEventPattern(c.pattern, c.event)
			if c.want == "error" {
				require.Error(t, err)
				assert.Equal(t, "test-event-pattern: InvalidEventPatternException: "+c.message, err.Error())
				assert.Equal(t, exitFailed, exitCode(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want == "match", got)
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
	byName := map[string]recordedCase{}
	for _, rc := range loadRecordedCases(t) {
		byName[rc.name] = rc
	}
	for _, name := range []string{"content_numeric_and", "content_numeric_and_NEG", "content_wildcard_simplified",
		"content_anything_but_number_list_NEG", "content_numeric_syntax_EXC", "int_nolist_EXC"} {
		t.Run(name, func(t *testing.T) {
			rc, ok := byName[name]
			require.True(t, ok, "no recorded case %s", name)
			pf, ef := filepath.Join(dir, name+".pattern.json"), filepath.Join(dir, name+".event.json")
			require.NoError(t, os.WriteFile(pf, rc.pattern, 0o644))
			require.NoError(t, os.WriteFile(ef, rc.event, 0o644))
			args := []string{"test-event-pattern", "--event-pattern", "file://" + pf, "--event", "file://" + ef}
			if rc.want == "error" {
				assert.Equal(t, "postroom: test-event-pattern: InvalidEventPatternException: "+rc.message, c.fails(1, args...))
				return
			}
			var out map[string]bool
			c.ok(args...).json(t, &out)
			assert.Equal(t, map[string]bool{"Result": rc.want == "match"}, out)
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
