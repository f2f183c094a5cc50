package driverkit

import (
	"errors"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/postroom/postroom"
)

// opts is a driver configuration for the tests.
type opts struct {
	wait, beat time.Duration
	prefetch   int
	raw        bool
	id, kind   string
}

func (o *opts) params(keepWait bool) []Param {
	return []Param{
		Known("failover"),
		Duration("wait_time", &o.wait, keepWait, time.Nanosecond, 0),
		Duration("heartbeat", &o.beat, false, 0, -1),
		Int("prefetch", &o.prefetch, false, 1, 65535),
		Bool("raw", &o.raw),
		String("client_id", &o.id),
		OneOf("kind", &o.kind, "classic", "quorum"),
	}
}

func apply(t *testing.T, o *opts, keepWait, strict bool, query string) error {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	return ApplyParams("stomp", "dial", q, strict, o.params(keepWait)...)
}

func TestApplyParams(t *testing.T) {
	var o opts
	err := apply(t, &o, false, true, "failover=b:1&wait_time=2s&heartbeat=0&prefetch=7&raw=1&client_id=svc&kind=quorum")
	if err != nil {
		t.Fatal(err)
	}
	want := opts{wait: 2 * time.Second, beat: -1, prefetch: 7, raw: true, id: "svc", kind: "quorum"}
	if o != want {
		t.Errorf("got %+v, want %+v", o, want)
	}

	o = opts{wait: time.Second, raw: true, id: "code", kind: "classic"}
	if err := apply(t, &o, true, true, "wait_time=2s&raw=false&client_id=url&kind=quorum"); err != nil {
		t.Fatal(err)
	}
	want = opts{wait: time.Second, raw: true, id: "code", kind: "classic"}
	if o != want {
		t.Errorf("options set in code lost to the URL: got %+v, want %+v", o, want)
	}

	o = opts{}
	if err := apply(t, &o, false, false, "heartbeat_ms=5&channel_max=3"); err != nil {
		t.Errorf("not strict: %v", err)
	}
}

func TestApplyParamsErrors(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"wait_time=soon", `stomp: dial: invalid argument: wait_time="soon" in the URL (want a duration such as 10s)`},
		{"wait_time=0s", `stomp: dial: invalid argument: wait_time="0s" in the URL (want a duration such as 10s)`},
		{"heartbeat=-1s", `stomp: dial: invalid argument: heartbeat="-1s" in the URL (want a duration such as 10s)`},
		{"prefetch=0", `stomp: dial: invalid argument: prefetch="0" in the URL (want 1 to 65535)`},
		{"prefetch=65536", `stomp: dial: invalid argument: prefetch="65536" in the URL (want 1 to 65535)`},
		{"raw=maybe", `stomp: dial: invalid argument: raw="maybe" in the URL (want true or false)`},
		{"kind=lazy", `stomp: dial: invalid argument: kind="lazy" in the URL (want "classic" or "quorum")`},
		{"zz=1&prefetch=1&aa=2", `stomp: dial: invalid argument: unknown URL parameter "aa" (known: client_id, failover, heartbeat, kind, prefetch, raw, wait_time)`},
	} {
		var o opts
		err := apply(t, &o, false, true, tc.query)
		if !errors.Is(err, postroom.ErrInvalid) || err.Error() != tc.want {
			t.Errorf("%s: got %v, want %s", tc.query, err, tc.want)
		}
	}
}

func TestIntPositive(t *testing.T) {
	var n int
	err := ApplyParams("mqtt", "dial", url.Values{"n": {"-3"}}, true, Int("n", &n, false, 1, math.MaxInt))
	if err == nil || err.Error() != `mqtt: dial: invalid argument: n="-3" in the URL (want a positive number)` {
		t.Errorf("got %v", err)
	}
}

func TestApplyDefaults(t *testing.T) {
	a, b := time.Duration(0), 3*time.Second
	if err := ApplyDefaults("amqp", "dial", Default{"wait time", &a, time.Minute}, Default{"heartbeat", &b, time.Hour}); err != nil {
		t.Fatal(err)
	}
	if a != time.Minute || b != 3*time.Second {
		t.Errorf("got %v %v, want 1m0s 3s", a, b)
	}
	neg := -time.Second
	err := ApplyDefaults("amqp", "dial", Default{"wait time", &neg, time.Minute})
	if !errors.Is(err, postroom.ErrInvalid) || err.Error() != "amqp: dial: invalid argument: negative wait time -1s" {
		t.Errorf("got %v", err)
	}
}

// FuzzApplyParams checks that any query either applies within the
// table's bounds or is refused with ErrInvalid naming the package once.
func FuzzApplyParams(f *testing.F) {
	f.Add("wait_time=2s&prefetch=7&raw=1&kind=quorum")
	f.Add("heartbeat=0&client_id=x&failover=a:1,b:2")
	f.Add("prefetch=99999&x=1")
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		var o opts
		err = ApplyParams("stomp", "dial", q, true, o.params(false)...)
		if err != nil {
			if !errors.Is(err, postroom.ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		if o.wait < 0 || o.beat < -1 || o.prefetch < 0 || o.prefetch > 65535 || o.kind != "" && o.kind != "classic" && o.kind != "quorum" {
			t.Fatalf("%q gave %+v", query, o)
		}
	})
}
