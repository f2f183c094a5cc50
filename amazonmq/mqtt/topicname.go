package mqtt

import (
	"github.com/postroom/postroom"

	"strings"
	"unicode/utf8"
)

// match reports whether topic name matches the MQTT topic filter: "+"
// matches one level, "#" (last) the remaining levels, including none. As
// MQTT 3.1.1 says (4.7.2), a filter starting with a wildcard does not
// match topics starting with "$".
func match(filter, topic string) bool {
	if filter == topic {
		return true
	}
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	for {
		f, frest, fmore := strings.Cut(filter, "/")
		if f == "#" {
			return true
		}
		t, trest, tmore := strings.Cut(topic, "/")
		if f != "+" && f != t {
			return false
		}
		switch {
		case !fmore && !tmore:
			return true
		case !tmore:
			return frest == "#" // "a/#" matches "a"
		case !fmore:
			return false
		}
		filter, topic = frest, trest
	}
}

// checkFilter checks a topic filter for Subscribe: not empty, UTF-8
// without NUL, "#" alone in the last level, "+" alone in its level.
func checkFilter(op, filter string) error {
	if err := checkTopicText(op, filter); err != nil {
		return err
	}
	levels := strings.Split(filter, "/")
	for i, lv := range levels {
		switch {
		case strings.Contains(lv, "#") && (lv != "#" || i != len(levels)-1):
			return ek.Errorf(postroom.ErrInvalid, op, "topic filter %q: # must be the whole last level", filter)
		case strings.Contains(lv, "+") && lv != "+":
			return ek.Errorf(postroom.ErrInvalid, op, "topic filter %q: + must be a whole level", filter)
		}
	}
	return nil
}

// checkTopic checks a topic name for Publish: a filter without wildcards.
func checkTopic(op, topic string) error {
	if err := checkTopicText(op, topic); err != nil {
		return err
	}
	if strings.ContainsAny(topic, "+#") {
		return ek.Errorf(postroom.ErrInvalid, op, "topic %q holds a wildcard: subscribe to it, publish to a topic without", topic)
	}
	return nil
}

func checkTopicText(op, s string) error {
	switch {
	case s == "":
		return ek.Errorf(postroom.ErrInvalid, op, "empty topic")
	case len(s) > 65535:
		return ek.Errorf(postroom.ErrInvalid, op, "topic over 65535 bytes")
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return ek.Errorf(postroom.ErrInvalid, op, "topic %q is not UTF-8 without NUL", s)
	}
	return nil
}
