package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const recordedDir = "../../testdata/eventbridge-patterns"

// recordedCase is one AWS-recorded EventBridge case.
type recordedCase struct {
	name    string
	event   []byte
	pattern []byte
	want    string // "match", "nomatch" or "error"
	message string // the exact AWS message, for "error"
}

// json5ToJSON turns the JSON5 of the recorded cases (comments, trailing
// commas) into JSON.
func json5ToJSON(src []byte) []byte {
	// Pass 1: drop comments outside strings.
	var out []byte
	inStr := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inStr {
			out = append(out, c)
			switch c {
			case '\\':
				if i+1 < len(src) {
					i++
					out = append(out, src[i])
				}
			case '"':
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
		default:
			out = append(out, c)
		}
	}
	// Pass 2: drop commas that are followed by a closing bracket.
	var res []byte
	inStr = false
	for i := 0; i < len(out); i++ {
		c := out[i]
		if inStr {
			res = append(res, c)
			if c == '\\' && i+1 < len(out) {
				i++
				res = append(res, out[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
		}
		if c == ',' {
			j := i + 1
			for j < len(out) && strings.ContainsRune(" \t\r\n", rune(out[j])) {
				j++
			}
			if j < len(out) && (out[j] == '}' || out[j] == ']') {
				continue
			}
		}
		res = append(res, c)
	}
	return res
}

func loadRecordedCases(t testing.TB) []recordedCase {
	t.Helper()
	snapRaw, err := os.ReadFile(filepath.Join(recordedDir, "test_events_patterns.snapshot.json"))
	require.NoError(t, err)
	var snap map[string]struct {
		RecordedContent map[string]json.RawMessage `json:"recorded-content"`
	}
	require.NoError(t, json.Unmarshal(snapRaw, &snap))
	messages := map[string]string{}
	for key, v := range snap {
		i := strings.LastIndex(key, "[")
		if i < 0 || !strings.HasSuffix(key, "_EXC]") {
			continue
		}
		name := key[i+1 : len(key)-1]
		var rec struct {
			ExceptionMessage struct {
				Error struct{ Message string }
			} `json:"exception_message"`
		}
		require.NoError(t, json.Unmarshal(v.RecordedContent[name], &rec))
		messages[name] = rec.ExceptionMessage.Error.Message
	}

	files, err := filepath.Glob(filepath.Join(recordedDir, "*.json5"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var cases []recordedCase
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc struct {
			Event        json.RawMessage
			EventPattern json.RawMessage
		}
		require.NoError(t, json.Unmarshal(json5ToJSON(raw), &doc), f)
		name := strings.TrimSuffix(filepath.Base(f), ".json5")
		c := recordedCase{name: name, event: doc.Event, pattern: doc.EventPattern, want: "match"}
		switch {
		case strings.HasSuffix(name, "_EXC"):
			c.want = "error"
			c.message = messages[name]
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
	cases = append(cases, recordedCase{name: "complex_multi_key_event", event: ev, pattern: pat, want: "match"})
	return cases
}

// TestRecordedEventBridgeCases runs every AWS-recorded case through
// Pattern.Match and through a Matcher holding all the valid patterns.
func TestRecordedEventBridgeCases(t *testing.T) {
	cases := loadRecordedCases(t)

	// One Matcher with every valid pattern of the corpus.
	m := NewMatcher()
	compiled := map[string]*Pattern{}
	for _, c := range cases {
		if c.want == "error" {
			continue
		}
		p, err := Compile(c.pattern)
		if err == nil {
			compiled[c.name] = p
			require.NoError(t, m.Add(c.name, p))
		}
	}

	passed := 0
	for _, c := range cases {
		ok := t.Run(c.name, func(t *testing.T) {
			p, err := Compile(c.pattern)
			if c.want == "error" {
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrInvalid))
				var perr *Error
				require.ErrorAs(t, err, &perr)
				assert.Equal(t, c.message, err.Error())
				return
			}
			require.NoError(t, err)
			got, err := p.Match(c.event)
			require.NoError(t, err)
			assert.Equal(t, c.want == "match", got, "Pattern.Match")

			names, err := m.Match(c.event)
			require.NoError(t, err)
			assert.Equal(t, c.want == "match", slices.Contains(names, c.name), "Matcher.Match")

			// The Matcher must agree with every pattern on this event.
			var want []string
			for name, q := range compiled {
				ok, err := q.Match(c.event)
				require.NoError(t, err)
				if ok {
					want = append(want, name)
				}
			}
			slices.Sort(want)
			assert.Equal(t, want, names, "Matcher against each pattern")
		})
		if ok {
			passed++
		}
	}
	t.Logf("eventbridge recorded cases: %d/%d passed", passed, len(cases))
}
