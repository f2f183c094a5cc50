package driverkit

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/errkit"
)

// A Param is one URL query parameter a driver knows: its name and how its
// value applies to the driver's configuration. Build them with [Value],
// [Duration], [Int], [Bool], [String] and [Known].
type Param struct {
	Name string
	set  func(v string) bool // nil: known, read elsewhere
	want string              // what a refused value should have been
}

// Value is the parameter name parsed by parse into *dst. keep leaves *dst
// as it is (an option set in code wins over the URL). parse reports false
// for a value it refuses; want says what it wants, for the error.
func Value[T any](name string, dst *T, keep bool, parse func(string) (T, bool), want string) Param {
	return Param{Name: name, want: want, set: func(v string) bool {
		x, ok := parse(v)
		if ok && !keep {
			*dst = x
		}
		return ok
	}}
}

// Duration is a duration parameter of at least least; zero, when least
// allows it, becomes zeroMeans (a driver's "off").
func Duration(name string, dst *time.Duration, keep bool, least, zeroMeans time.Duration) Param {
	return Value(name, dst, keep, func(v string) (time.Duration, bool) {
		d, err := time.ParseDuration(v)
		if err != nil || d < least {
			return 0, false
		}
		if d == 0 {
			d = zeroMeans
		}
		return d, true
	}, "a duration such as 10s")
}

// Int is an integer parameter from lo to hi.
func Int(name string, dst *int, keep bool, lo, hi int) Param {
	want := "a positive number"
	if lo != 1 || hi != int(^uint(0)>>1) {
		want = strconv.Itoa(lo) + " to " + strconv.Itoa(hi)
	}
	return Value(name, dst, keep, func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= lo && n <= hi
	}, want)
}

// Bool is a boolean parameter that can only turn *dst on: an option set
// in code stays set.
func Bool(name string, dst *bool) Param {
	return Value(name, dst, false, func(v string) (bool, bool) {
		b, err := strconv.ParseBool(v)
		return b || *dst, err == nil
	}, "true or false")
}

// String is a text parameter, taken when *dst is empty.
func String(name string, dst *string) Param {
	return Value(name, dst, *dst != "", func(v string) (string, bool) { return v, true }, "")
}

// OneOf is a text parameter taken from choices, when *dst is empty.
func OneOf(name string, dst *string, choices ...string) Param {
	want := make([]string, len(choices))
	for i, c := range choices {
		want[i] = strconv.Quote(c)
	}
	return Value(name, dst, *dst != "", func(v string) (string, bool) {
		return v, slices.Contains(choices, v)
	}, strings.Join(want, " or "))
}

// Known names a parameter the driver reads elsewhere (failover, the
// queue or topic of a URL opener), so that [ApplyParams] does not refuse
// it.
func Known(name string) Param { return Param{Name: name} }

// ApplyParams applies the non-empty parameters of q in the order of
// params. A refused value is an error of pkg's op matching
// postroom.ErrInvalid that says what was wanted. When strict, a parameter
// params does not name is such an error too, listing the known ones;
// otherwise it is left to the caller (a client library's own
// parameters).
func ApplyParams(pkg errkit.Pkg, op string, q url.Values, strict bool, params ...Param) error {
	if strict {
		var unknown []string
		for k := range q {
			if !slices.ContainsFunc(params, func(p Param) bool { return p.Name == k }) {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			slices.Sort(unknown)
			known := make([]string, len(params))
			for i, p := range params {
				known[i] = p.Name
			}
			slices.Sort(known)
			return pkg.Errorf(postroom.ErrInvalid, op, "unknown URL parameter %q (known: %s)", unknown[0], strings.Join(known, ", "))
		}
	}
	for _, p := range params {
		v := q.Get(p.Name)
		if v == "" || p.set == nil {
			continue
		}
		if !p.set(v) {
			return pkg.Errorf(postroom.ErrInvalid, op, "%s=%q in the URL (want %s)", p.Name, v, p.want)
		}
	}
	return nil
}

// A Default is a duration option with the value zero stands for.
type Default struct {
	Name string // for errors: "wait time"
	V    *time.Duration
	Def  time.Duration
}

// ApplyDefaults replaces zero durations with their defaults; a negative
// one is an error of pkg's op matching postroom.ErrInvalid.
func ApplyDefaults(pkg errkit.Pkg, op string, ds ...Default) error {
	for _, d := range ds {
		if *d.V < 0 {
			return pkg.Errorf(postroom.ErrInvalid, op, "negative %s %v", d.Name, *d.V)
		}
		if *d.V == 0 {
			*d.V = d.Def
		}
	}
	return nil
}
