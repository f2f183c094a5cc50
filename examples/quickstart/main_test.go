package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
)

func TestQuickstart(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	runErr := run(context.Background(), "mem://quickstart-test")
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	if runErr != nil {
		t.Fatal(runErr)
	}
	for _, want := range []string{`sent     id=`, `body="Hello, SQS!"`, `received id=`, `receive-count=1`, `deleted  id=`, `0 visible, 0 in flight, 0 delayed`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
