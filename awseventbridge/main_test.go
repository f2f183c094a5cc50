package awseventbridge_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/postroom/postroom/internal/testsupport/awstest"
)

// TestMain stops the moto_server the tests started, and fails the package
// when a test leaves a goroutine behind (the SDK's idle HTTP connections
// aside).
func TestMain(m *testing.M) {
	code := m.Run()
	awstest.StopMoto()
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreTopFunction("internal/poll.runtime_pollWait")); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
