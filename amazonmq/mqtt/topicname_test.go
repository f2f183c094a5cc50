package mqtt

import (
	"testing"

	"github.com/postroom/postroom"
	"github.com/stretchr/testify/assert"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/+/c", "a/b/c", true},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"a/#", "b/c", false},
		{"#", "a/b", true},
		{"+", "a", true},
		{"+", "a/b", false},
		{"+/+", "/a", true},
		{"a/+", "a/", true},
		{"#", "$SYS/x", false},
		{"+/x", "$SYS/x", false},
		{"$SYS/#", "$SYS/x", true},
		{"a/b/c", "a/b", false},
		{"a/b", "a/b/c", false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, match(tc.filter, tc.topic), "%q ~ %q", tc.filter, tc.topic)
	}
}

func TestCheckFilterAndTopic(t *testing.T) {
	for _, f := range []string{"a", "a/+", "a/#", "#", "+/b/+", "/"} {
		assert.NoError(t, checkFilter("subscribe", f), f)
	}
	for _, f := range []string{"", "a/b#", "a/#/b", "a+", "x\x00"} {
		assert.ErrorIs(t, checkFilter("subscribe", f), postroom.ErrInvalid, f)
	}
	assert.NoError(t, checkTopic("publish", "a/b"))
	for _, tp := range []string{"a/+", "a/#", ""} {
		assert.ErrorIs(t, checkTopic("publish", tp), postroom.ErrInvalid, tp)
	}
}
