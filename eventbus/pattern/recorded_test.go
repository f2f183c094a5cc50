package pattern

import (
	"errors"
	"slices"
	"testing"

	"github.com/postroom/postroom/internal/testsupport/recorded"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const recordedDir = "../../testdata/eventbridge-patterns"

type recordedCase = recorded.Case

func loadRecordedCases(t testing.TB) []recordedCase { return recorded.Load(t, recordedDir) }

// TestRecordedEventBridgeCases runs every AWS-recorded case through
// Pattern.Match and through a Matcher holding all the valid patterns.
func TestRecordedEventBridgeCases(t *testing.T) {
	cases := loadRecordedCases(t)

	// One Matcher with every valid pattern of the corpus.
	m := NewMatcher()
	compiled := map[string]*Pattern{}
	for _, c := range cases {
		if c.Want == "error" {
			continue
		}
		p, err := Compile(c.Pattern)
		if err == nil {
			compiled[c.Name] = p
			require.NoError(t, m.Add(c.Name, p))
		}
	}

	passed := 0
	for _, c := range cases {
		ok := t.Run(c.Name, func(t *testing.T) {
			p, err := Compile(c.Pattern)
			if c.Want == "error" {
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrInvalid))
				var perr *Error
				require.ErrorAs(t, err, &perr)
				assert.Equal(t, c.Message, err.Error())
				return
			}
			require.NoError(t, err)
			got, err := p.Match(c.Event)
			require.NoError(t, err)
			assert.Equal(t, c.Want == "match", got, "Pattern.Match")

			names, err := m.Match(c.Event)
			require.NoError(t, err)
			assert.Equal(t, c.Want == "match", slices.Contains(names, c.Name), "Matcher.Match")

			// The Matcher must agree with every pattern on this event.
			var want []string
			for name, q := range compiled {
				ok, err := q.Match(c.Event)
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
