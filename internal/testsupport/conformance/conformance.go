// Package conformance runs the tests of the conformance suites
// (queuetest, pubsubtest, eventbustest): each in its own subtest, skipped
// when the driver does not declare what it needs, inside a testing/synctest
// bubble when the driver asks for fake time.
package conformance

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
)

// A Test is one test of a suite.
type Test struct {
	Name string
	Run  func(t *testing.T)
	// Missing names the capability the driver lacks for this test, or
	// is empty when the test applies.
	Missing string
}

// Unless returns capability when ok is false: the Missing of a test that
// needs it.
func Unless(ok bool, capability string) string {
	if ok {
		return ""
	}
	return capability
}

// Run runs tests as subtests of t. suite prefixes skip messages
// ("queuetest"); with bubble, every test runs in a synctest bubble.
func Run(t *testing.T, suite string, bubble bool, tests []Test) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			if tc.Missing != "" {
				t.Skip(suite + ": the driver does not declare " + tc.Missing)
			}
			if bubble {
				synctest.Test(t, tc.Run)
				return
			}
			tc.Run(t)
		})
	}
}

// ErrorIs checks that err matches the sentinel kind and, when pkg is not
// empty, that its text starts with "pkg: " once: every error a driver
// returns names the package that produced it.
func ErrorIs(t *testing.T, pkg string, err, kind error, what string) bool {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: got error %v, want one matching %v", what, err, kind)
		return false
	}
	if pkg == "" {
		return true
	}
	prefix := pkg + ": "
	if msg := err.Error(); !strings.HasPrefix(msg, prefix) || strings.HasPrefix(msg[len(prefix):], prefix) {
		t.Errorf("%s: error %q does not start with %q once", what, msg, prefix)
		return false
	}
	return true
}

// CheckAs checks a delivery's As. want, when not nil, is a pointer to a
// variable of the raw type the driver documents: As must fill a new one
// with a non-zero value. As of a type no driver offers reports false.
func CheckAs(t *testing.T, d interface{ As(any) bool }, want any) {
	t.Helper()
	var unrelated struct{ notARawValue int }
	if d.As(&unrelated) {
		t.Errorf("As(%T) reported true", &unrelated)
	}
	if d.As(nil) {
		t.Error("As(nil) reported true")
	}
	if want == nil {
		return
	}
	wt := reflect.TypeOf(want)
	if wt.Kind() != reflect.Pointer {
		t.Fatalf("Harness.As is a %v, not a pointer", wt)
	}
	target := reflect.New(wt.Elem())
	if !d.As(target.Interface()) {
		t.Errorf("As(%v) reported false: the driver documents that type", wt)
		return
	}
	if target.Elem().IsZero() {
		t.Errorf("As(%v) set a zero value", wt)
	}
}
