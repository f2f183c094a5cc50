package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/postroom/postroom"
)

// A verb is one command of postroom besides serve.
type verb struct {
	name    string
	args    string // the positional arguments, for the usage line
	summary string
	// flags defines the verb's flags on fs and returns the function that
	// runs it with the positional arguments.
	flags func(fs *flag.FlagSet) func(ctx context.Context, env *env, args []string) error
}

// env is what a verb reads and writes besides its arguments; its errors
// go to standard error through run's caller.
type env struct {
	stdin  io.Reader
	stdout io.Writer
}

// verbs are the verbs that work over driver URLs, and offline.
var verbs = []*verb{
	sendVerb, receiveVerb, deleteVerb, purgeVerb, statsVerb,
	publishVerb, putEventsVerb, testEventPatternVerb, testFilterPolicyVerb,
}

func findVerb(name string) *verb {
	for _, v := range verbs {
		if v.name == name {
			return v
		}
	}
	return nil
}

// Exit codes: 0 when the verb did what was asked, 1 when the operation
// failed (a service error, a queue that does not exist, a broker that
// cannot be reached), 2 for a usage error (a bad flag, a malformed URL or
// argument).
const (
	exitFailed = 1
	exitUsage  = 2
)

// exitError carries the exit code of an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf returns a usage error (exit code 2).
func usageErrorf(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// failed returns err as an operation failure (exit code 1), or as a usage
// error when the driver refused bad input before asking the service
// (postroom.ErrInvalid without a service's error code), such as an
// unknown URL parameter. A service's refusal, such as SQS's
// MissingParameter, is an operation failure, as in the AWS CLI.
func failed(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	var pe *postroom.Error
	if errors.Is(err, postroom.ErrInvalid) && !(errors.As(err, &pe) && pe.Code != "") {
		return &exitError{code: exitUsage, err: err}
	}
	return &exitError{code: exitFailed, err: err}
}

// exitCode returns the process's exit code for the error run returned.
// Errors without a code (serve's) exit with 2, as they always did.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}

// runVerb parses the flags of v, which may come before, between or after
// its positional arguments, and runs it. --help prints the verb's usage on
// stdout and succeeds.
func runVerb(ctx context.Context, v *verb, args []string, e *env) error {
	fs := flag.NewFlagSet(v.name, flag.ContinueOnError)
	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.Usage = func() {
		fmt.Fprintf(&help, "usage: postroom %s [flags] %s\n\n%s\n", v.name, v.args, v.summary)
		var n int
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(&help, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	do := v.flags(fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				_, werr := io.Copy(e.stdout, &help)
				return werr
			}
			return usageErrorf("%s: %v (see postroom %s --help)", v.name, err, v.name)
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if err := do(ctx, e, pos); err != nil {
		var ace *argCountError
		if errors.As(err, &ace) {
			if v.args == "" {
				return usageErrorf("%s: takes no arguments, got %d (see postroom %s --help)", v.name, ace.got, v.name)
			}
			return usageErrorf("%s: want %s, got %d arguments (see postroom %s --help)", v.name, v.args, ace.got, v.name)
		}
		// Every error line names the verb once.
		if !strings.HasPrefix(err.Error(), v.name+": ") {
			return &exitError{code: exitCode(failed(err)), err: fmt.Errorf("%s: %w", v.name, err)}
		}
		return err
	}
	return nil
}

// argCountError reports a wrong number of positional arguments; runVerb
// turns it into a usage error naming the verb's arguments.
type argCountError struct{ got int }

func (e *argCountError) Error() string { return fmt.Sprintf("%d arguments", e.got) }

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, min, max int) error {
	if len(args) < min || len(args) > max {
		return &argCountError{got: len(args)}
	}
	return nil
}

// writeJSON writes v as indented JSON, as the AWS CLI does.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// readArg returns a flag value as the AWS CLI reads one: "file://path"
// is the content of the file, "-" standard input, anything else the value
// itself.
func readArg(e *env, name, v string) ([]byte, error) {
	switch {
	case strings.HasPrefix(v, "file://"):
		b, err := os.ReadFile(strings.TrimPrefix(v, "file://"))
		if err != nil {
			return nil, usageErrorf("--%s: %v", name, err)
		}
		return b, nil
	case v == "-":
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, usageErrorf("--%s: reading standard input: %v", name, err)
		}
		return b, nil
	}
	return []byte(v), nil
}

// seconds is a duration flag that also takes a plain number of seconds,
// as the AWS CLI's --wait-time-seconds and --visibility-timeout do.
type seconds struct {
	d   time.Duration
	set bool
}

func (s *seconds) String() string {
	if s == nil || !s.set {
		return ""
	}
	return s.d.String()
}

func (s *seconds) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return errors.New("want a duration such as 20s, or a number of seconds")
		}
		if math.Abs(n) > float64(math.MaxInt64/int64(time.Second)) {
			return errors.New("duration out of range")
		}
		d = time.Duration(n * float64(time.Second))
	}
	if d < 0 {
		return errors.New("negative duration")
	}
	s.d, s.set = d, true
	return nil
}
