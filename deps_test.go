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

// Driver plumbing and test support are apart: no package a program links
// (anything but internal/testsupport and the public conformance suites,
// the packages named *test) depends on a test-support package.
func TestInternalLayout(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	const support = "github.com/postroom/postroom/internal/testsupport/"
	out, err := exec.Command(goTool, "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var checked int
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := fields[0]
		if strings.HasPrefix(pkg, support) || strings.HasSuffix(pkg, "test") {
			continue
		}
		checked++
		for _, dep := range fields[1:] {
			if strings.HasPrefix(dep, support) {
				t.Errorf("%s depends on the test-support package %s", pkg, dep)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("go list listed only %d packages to check:\n%s", checked, out)
	}
}
