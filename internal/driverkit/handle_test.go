package driverkit

import (
	"errors"
	"testing"

	"github.com/postroom/postroom"
)

type fakeBroker struct {
	kids   Children
	closes int
}

func (b *fakeBroker) Close() error { b.closes++; return nil }

type fakeTopic struct{ h Handle }

func TestHandle(t *testing.T) {
	var h Handle
	if h.Closed() || h.Check("mqtt", "publish") != nil {
		t.Fatal("a new handle is closed")
	}
	if !h.Close() || h.Close() {
		t.Error("Close did not report true once, then false")
	}
	err := h.Check("mqtt", "publish")
	if !errors.Is(err, postroom.ErrClosed) || err.Error() != "mqtt: publish: closed" {
		t.Errorf("Check = %v, want mqtt: publish: closed", err)
	}
	var s Handle
	s.Shutdown()
	if !s.Closed() || s.Close() {
		t.Error("Shutdown did not close the handle")
	}
}

func TestOpenOwned(t *testing.T) {
	b := &fakeBroker{}
	topic, err := OpenOwned[*fakeTopic](func() (*fakeBroker, error) { return b, nil },
		func(*fakeBroker) (*fakeTopic, error) { return &fakeTopic{}, nil },
		func(b *fakeBroker, tp *fakeTopic) { b.kids.Own(&tp.h) })
	if err != nil {
		t.Fatal(err)
	}
	if !topic.h.Owned() {
		t.Fatal("the topic does not hold the broker")
	}
	var sub Handle
	b.kids.Inherit(&sub, &topic.h)
	if !sub.Owned() {
		t.Fatal("the subscription of an owned topic does not hold the broker")
	}
	b.kids.Done(topic, &topic.h, b.Close)
	if b.closes != 0 {
		t.Fatal("the broker closed while a subscription holds it")
	}
	b.kids.Done(&sub, &sub, b.Close)
	if b.closes != 1 {
		t.Fatalf("the broker closed %d times after its last holder, want 1", b.closes)
	}

	var plain Handle
	b.kids.Inherit(&plain, &Handle{})
	b.kids.Done(&plain, &plain, b.Close)
	if plain.Owned() || b.closes != 1 {
		t.Error("a value not opened by URL touched the broker's references")
	}

	b = &fakeBroker{}
	boom := errors.New("boom")
	_, err = OpenOwned[*fakeTopic](func() (*fakeBroker, error) { return b, nil },
		func(*fakeBroker) (*fakeTopic, error) { return nil, boom },
		func(*fakeBroker, *fakeTopic) { t.Error("own called after a failed open") })
	if !errors.Is(err, boom) || b.closes != 1 {
		t.Errorf("failed open: err %v, broker closed %d times, want boom and 1", err, b.closes)
	}
	_, err = OpenOwned[*fakeTopic](func() (*fakeBroker, error) { return nil, boom },
		func(*fakeBroker) (*fakeTopic, error) { t.Error("open called after a failed dial"); return nil, nil },
		func(*fakeBroker, *fakeTopic) {})
	if !errors.Is(err, boom) {
		t.Errorf("failed dial: err %v, want boom", err)
	}
}

type closer interface{ Close() error }

func TestUpcast(t *testing.T) {
	c, err := Upcast[closer]((*fakeBroker)(nil), errors.New("refused"))
	if c != nil || err == nil {
		t.Errorf("failed: got %#v, %v; want a nil interface and the error", c, err)
	}
	b := &fakeBroker{}
	c, err = Upcast[closer](b, nil)
	if err != nil || c != closer(b) {
		t.Errorf("got %#v, %v; want the broker", c, err)
	}
}

func TestChildrenClose(t *testing.T) {
	b := &fakeBroker{}
	tp := &fakeTopic{}
	b.kids.Own(&tp.h)
	if err := b.kids.Adopt("amqp", tp, func() {}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := b.kids.Close(tp, &tp.h, b.Close); err != nil {
			t.Fatal(err)
		}
	}
	if !tp.h.Closed() || b.closes != 1 {
		t.Errorf("after two Closes: closed %v, broker closed %d times; want true, 1", tp.h.Closed(), b.closes)
	}
	b.kids.ShutdownAll() // the closed topic was disowned: no shutdown to call
}

func TestIDs(t *testing.T) {
	var a, b IDs
	seed := a.Init()
	b.Init()
	if len(seed) != 12 {
		t.Errorf("seed %q, want 12 hex digits", seed)
	}
	if got := a.New(); got != seed+"-1" {
		t.Errorf("first id %q, want %s-1", got, seed)
	}
	if got := a.New(); got != seed+"-2" {
		t.Errorf("second id %q, want %s-2", got, seed)
	}
	if a.prefix == b.prefix {
		t.Errorf("two IDs drew the same prefix %q", a.prefix)
	}
}
