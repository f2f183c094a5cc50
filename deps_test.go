package postroom_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The contract packages import only the standard library and this module:
// a program that imports them links no third-party code. OpenTelemetry
// lives in package tracing, the consumer in package consumer.
func TestContractPackagesDependOnStandardLibraryOnly(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	const module = "github.com/postroom/postroom"
	contracts := []string{"./queue", "./pubsub", "./eventbus", "./broker"}
	args := append([]string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}, contracts...)
	out, err := exec.Command(goTool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var deps int
	for p := range strings.FieldsSeq(string(out)) {
		deps++
		if p != module && !strings.HasPrefix(p, module+"/") {
			t.Errorf("a contract package depends on %s, outside the standard library and %s", p, module)
		}
	}
	if deps < len(contracts) {
		t.Fatalf("go list listed %d packages outside the standard library, want at least the %d contract packages:\n%s", deps, len(contracts), out)
	}
}
