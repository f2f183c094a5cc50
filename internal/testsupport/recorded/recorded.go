// Package recorded loads the EventBridge pattern cases recorded against
// the real service (testdata/eventbridge-patterns, see its NOTICE), for the
// tests of the pattern engine and of the command line's pattern verbs.
package recorded

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Case is one recorded case.
type Case struct {
	Name    string
	Event   []byte
	Pattern []byte
	Want    string // "match", "nomatch" or "error"
	Message string // the exact AWS message, for "error"
}

// Load returns every case in dir: each *.json5 case file (named *_EXC for
// an invalid pattern, with AWS's message from the snapshot file, *_NEG for
// a pattern that does not match), and the multi-key pair.
func Load(t testing.TB, dir string) []Case {
	t.Helper()
	snapRaw, err := os.ReadFile(filepath.Join(dir, "test_events_patterns.snapshot.json"))
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

	files, err := filepath.Glob(filepath.Join(dir, "*.json5"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var cases []Case
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc struct{ Event, EventPattern json.RawMessage }
		require.NoError(t, json.Unmarshal(JSON5ToJSON(raw), &doc), f)
		name := strings.TrimSuffix(filepath.Base(f), ".json5")
		c := Case{Name: name, Event: doc.Event, Pattern: doc.EventPattern, Want: "match"}
		switch {
		case strings.HasSuffix(name, "_EXC"):
			c.Want, c.Message = "error", messages[name]
			require.NotEmpty(t, c.Message, "no recorded message for %s", name)
		case strings.HasSuffix(name, "_NEG"):
			c.Want = "nomatch"
		}
		cases = append(cases, c)
	}
	// The multi-key pair: the pattern repeats a key, and the last one wins.
	ev, err := os.ReadFile(filepath.Join(dir, "complex_multi_key_event.json"))
	require.NoError(t, err)
	pat, err := os.ReadFile(filepath.Join(dir, "complex_multi_key_event_pattern.json"))
	require.NoError(t, err)
	return append(cases, Case{Name: "complex_multi_key_event", Event: ev, Pattern: pat, Want: "match"})
}

// JSON5ToJSON turns the JSON5 of the recorded cases (comments, trailing
// commas) into JSON.
func JSON5ToJSON(src []byte) []byte {
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
			// A comma followed by a closing bracket is dropped.
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
