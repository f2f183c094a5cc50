package memory_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: the
// goroutines of function subscriptions and function targets must end with
// the topic or bus that owns them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
