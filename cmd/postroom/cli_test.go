package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cli runs the postroom binary built for one test.
type cli struct {
	t   *testing.T
	bin string
	env []string
}

// buildCLI builds the postroom command into the test's temporary directory.
func buildCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "postroom")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	home := filepath.Join(dir, "home")
	require.NoError(t, os.Mkdir(home, 0o755))
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true"}
	return &cli{t: t, bin: bin, env: env}
}

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
}

// json decodes the run's standard output into v.
func (r result) json(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(r.stdout), v), "stdout: %q, stderr: %q", r.stdout, r.stderr)
}

// runIn runs postroom with args and standard input.
func (c *cli) runIn(stdin string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		c.t.Fatalf("postroom %v: %v", args, err)
	}
	return r
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.runIn("", args...)
}

// ok runs postroom, requires it to succeed, and returns its output.
func (c *cli) ok(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	require.Equal(c.t, 0, r.code, "postroom %v: stderr %q", args, r.stderr)
	require.Empty(c.t, r.stderr, "postroom %v", args)
	return r
}

// fails runs postroom, requires exit code code with one line on stderr,
// and returns that line.
func (c *cli) fails(code int, args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	require.Equal(c.t, code, r.code, "postroom %v: stdout %q stderr %q", args, r.stdout, r.stderr)
	line := strings.TrimSuffix(r.stderr, "\n")
	require.NotEmpty(c.t, line)
	require.NotContains(c.t, line, "\n", "one line on stderr")
	require.True(c.t, strings.HasPrefix(line, "postroom: "), line)
	return line
}

// receiveOut is what receive prints.
type receiveOut struct {
	Messages []struct {
		MessageId              string
		ReceiptHandle          string
		MD5OfBody              string
		Body                   string
		Attributes             map[string]string
		MD5OfMessageAttributes string
		MessageAttributes      map[string]struct {
			DataType    string
			StringValue string
			BinaryValue []byte
		}
	}
}

type sendOut struct {
	MessageId              string
	MD5OfMessageBody       string
	MD5OfMessageAttributes string
}
