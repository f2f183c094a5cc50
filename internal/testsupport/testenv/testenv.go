// Package testenv finds the real services integration tests run against.
package testenv

import (
	"os"
	"testing"
)

// RequireVar is the variable that makes a missing service a test failure
// rather than a skip: the full test command (scripts/test.sh) sets it, so
// that it never skips an integration test.
const RequireVar = "POSTROOM_REQUIRE_BROKERS"

// Get returns the value of the environment variable name, which points a
// test at a real service. When it is unset the test is skipped with a
// message naming the variable and what it is for, or fails when RequireVar
// is set.
func Get(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv(RequireVar) != "" {
		t.Fatalf("%s is not set, but %s requires it (%s)", name, RequireVar, what)
	}
	t.Skipf("set %s to run against %s (scripts/brokers.sh env prints it)", name, what)
	return ""
}
