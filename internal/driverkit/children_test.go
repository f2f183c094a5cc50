package driverkit

import (
	"errors"
	"testing"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/errkit"
)

type child struct{ down int }

func (c *child) shutdown() { c.down++ }

func TestChildren(t *testing.T) {
	var cs Children
	a, b, c := &child{}, &child{}, &child{}
	for _, x := range []*child{a, b, c} {
		if err := cs.Adopt("amqp", x, x.shutdown); err != nil {
			t.Fatal(err)
		}
	}
	cs.Disown(b)
	cs.ShutdownAll()
	if a.down != 1 || b.down != 0 || c.down != 1 {
		t.Errorf("shutdowns a=%d b=%d c=%d, want 1 0 1", a.down, b.down, c.down)
	}
	cs.ShutdownAll()
	if a.down != 1 {
		t.Errorf("a second ShutdownAll shut a down again")
	}
	err := cs.Adopt(errkit.Pkg("stomp"), &child{}, func() {})
	if !errors.Is(err, postroom.ErrClosed) || err.Error() != "stomp: open: closed" {
		t.Errorf("Adopt after Close = %v, want stomp: open: closed", err)
	}
}

func TestRefs(t *testing.T) {
	var cs Children
	cs.Retain()
	cs.Retain()
	if cs.Release() {
		t.Error("Release of the first of two owners reported last")
	}
	if !cs.Release() {
		t.Error("Release of the last owner did not report last")
	}
}
