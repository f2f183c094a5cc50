package pattern

import (
	"math"
	"slices"
	"strconv"
)

// mkind is the kind of a value matcher.
type mkind uint8

const (
	mString         mkind = iota // exact string
	mIP                          // exact IP address, from an exact string that is an address literal
	mNumber                      // exact number
	mTrue                        // true
	mFalse                       // false
	mNull                        // null
	mPrefix                      // prefix
	mPrefixFold                  // prefix, equals-ignore-case
	mSuffix                      // suffix
	mSuffixFold                  // suffix, equals-ignore-case
	mFold                        // equals-ignore-case
	mWildcard                    // wildcard
	mRange                       // numeric range (numeric "=" is a closed point range)
	mCIDR                        // cidr
	mExists                      // exists: true
	mExistsValue                 // exists: true in SNS: a value other than null and ""
	mAnyBut                      // anything-but a value or a list of values
	mAnyButPrefix                // anything-but prefix
	mAnyButSuffix                // anything-but suffix
	mAnyButFold                  // anything-but equals-ignore-case
	mAnyButWildcard              // anything-but wildcard
)

// matcher is one alternative of a condition: the pattern matches a field if
// any of its matchers accept one of the field's values.
type matcher struct {
	kind     mkind
	s        string // string, prefix, suffix; folded for the *Fold kinds; number literal for mNumber
	num      float64
	fin      bool // num is finite (mNumber)
	lo, hi   float64
	loOpen   bool
	hiOpen   bool
	ip       ipAddr // mIP; low end for mCIDR
	ipHi     ipAddr // mCIDR
	ipPrefix uint8  // mCIDR: fixed leading bits of the 16-byte form
	wc       *wildcard
	set      *valueSet // anything-but variants
}

// valueSet holds the values of an anything-but.
type valueSet struct {
	strs []string    // sorted: exact strings, prefixes, suffixes or folded strings
	nums []float64   // sorted, finite
	wcs  []*wildcard // anything-but wildcard
}

func (v *valueSet) hasString(s []byte) bool {
	_, ok := slices.BinarySearch(v.strs, string(s))
	return ok
}

func (v *valueSet) hasNumber(f float64) bool {
	_, ok := slices.BinarySearch(v.nums, f)
	return ok
}

// presenceOnly reports whether the matcher accepts values no index can
// enumerate, so a condition using it can only be found by the presence of
// its field.
func (m *matcher) presenceOnly() bool {
	switch m.kind {
	case mExists, mExistsValue, mAnyBut, mAnyButPrefix, mAnyButSuffix, mAnyButFold, mAnyButWildcard:
		return true
	case mWildcard:
		return len(m.wc.literalPrefix()) == 0 && len(m.wc.literalSuffix()) == 0
	}
	return false
}

// condSpec is the compiled condition on one field path.
type condSpec struct {
	path   string
	ms     []matcher
	absent bool // [{"exists": false}] is one of the alternatives
}

// clauseSpec is a conjunction of conditions on distinct paths. A pattern is
// a disjunction of clauses ($or expands into several).
type clauseSpec struct {
	conds []*condSpec // sorted by path
}

var (
	negInf = math.Inf(-1)
	posInf = math.Inf(1)
)

// parseNumber parses a JSON number literal. fin is false when the value
// does not fit a float64.
func parseNumber(lit string) (f float64, fin bool) {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	if f == 0 {
		f = 0 // fold -0 into 0
	}
	return f, true
}
