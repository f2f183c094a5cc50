package awslambda_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: a
// Mapping's pollers must end with Run.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
