package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestFanout(t *testing.T) {
	defer goleak.VerifyNone(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	runErr := run(context.Background(), w)
	w.Close()
	out, _ := io.ReadAll(r)
	if runErr != nil {
		t.Fatal(runErr)
	}
	got := string(out)
	for _, want := range []string{
		"billing  charged o-1 25.00",
		"billing  charged o-3 99.50",
		`shipping sent o-1 by express (subject "order placed")`,
		`shipping sent o-2 by standard (subject "order placed")`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"charged o-2", "charged o-4", "sent o-3", "sent o-4"} {
		if strings.Contains(got, not) {
			t.Errorf("output has %q, which the filter policies exclude:\n%s", not, got)
		}
	}
}
