package registry

import (
	"errors"
	"testing"

	"github.com/postroom/postroom"
)

func TestLookup(t *testing.T) {
	r := New[int]("eventbus")
	r.Register("mem", 1)
	if o, u, err := r.Lookup("mem://orders"); err != nil || o != 1 || u.Host != "orders" {
		t.Fatalf("Lookup(mem://orders) = %v, %v, %v", o, u, err)
	}
	tests := []struct {
		raw  string
		kind error
		want string
	}{
		{"nosuch://x", postroom.ErrNotFound,
			`eventbus: open "nosuch://x": not found: unknown scheme "nosuch" (registered: mem); did you import the driver?`},
		{"orders", postroom.ErrInvalid,
			`eventbus: open "orders": invalid argument: the URL has no scheme (want scheme://name)`},
		{"mem://a b%zz", postroom.ErrInvalid, ""},
	}
	for _, tc := range tests {
		_, _, err := r.Lookup(tc.raw)
		if !errors.Is(err, tc.kind) {
			t.Errorf("Lookup(%q) = %v, want an error matching %v", tc.raw, err, tc.kind)
			continue
		}
		if tc.want != "" && err.Error() != tc.want {
			t.Errorf("Lookup(%q) error:\n got %s\nwant %s", tc.raw, err, tc.want)
		}
		if got := err.Error(); len(got) < 10 || got[:10] != "eventbus: " {
			t.Errorf("Lookup(%q) error %q does not start with the package name", tc.raw, got)
		}
	}
}

func TestLookupEmpty(t *testing.T) {
	_, _, err := New[int]("broker").Lookup("amqp://h")
	want := `broker: open "amqp://h": not found: unknown scheme "amqp" (registered: none); did you import the driver?`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestRegisterPanics(t *testing.T) {
	r := New[int]("queue")
	r.Register("a+b", 1)
	for _, scheme := range []string{"a+b", "", "1x", "a b"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", scheme)
				}
			}()
			r.Register(scheme, 2)
		}()
	}
	if got := r.Schemes(); len(got) != 1 || got[0] != "a+b" {
		t.Errorf("Schemes() = %v", got)
	}
}
