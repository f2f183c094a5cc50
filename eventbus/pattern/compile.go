package pattern

import (
	"slices"
	"sort"
	"strings"

	"github.com/postroom/postroom/pubsub"
)

// Scope is an SNS filter policy scope: what the policy is applied to. It
// is pubsub.Scope, so that a subscription's scope is passed on as it is.
type Scope = pubsub.Scope

const (
	// ScopeMessageAttributes applies the policy to the message attributes
	// (SNS's default). Nested policies are rejected.
	ScopeMessageAttributes = pubsub.ScopeMessageAttributes
	// ScopeMessageBody applies the policy to the message body, which must
	// be a JSON object.
	ScopeMessageBody = pubsub.ScopeMessageBody
)

// Limits that keep compiled patterns bounded.
const (
	// maxClauses bounds the expansion of $or: AWS documents a limit of
	// 1,000 combinations.
	maxClauses = 1000
	// snsMaxKeys and snsMaxCombinations are SNS's filter policy limits.
	snsMaxKeys         = 5
	snsMaxCombinations = 150
)

// reservedInOr lists the field names that may not appear inside $or.
var reservedInOr = map[string]bool{
	"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true,
	"anything-but": true, "exists": true, "wildcard": true, "numeric": true,
	"cidr": true, "html": true, "=": true, "<": true, "<=": true, ">": true,
	">=": true, "regex": true, "not-wildcard": true, "not-equals-ignore-case": true,
	"date-after": true, "date-on-or-after": true, "date-before": true,
	"date-on-or-before": true, "in-date-range": true, "ip-address-in-range": true,
	"ip-address-not-in-range": true,
}

// Compile compiles an Amazon EventBridge event pattern.
//
// An invalid pattern yields an [*Error] (which wraps [ErrInvalid]) whose
// text is the one EventBridge returns, e.g.
// "Event pattern is not valid. Reason: Empty arrays are not allowed".
func Compile(pattern []byte) (*Pattern, error) {
	return compile(pattern, EventBridge, ScopeMessageBody)
}

// CompileFilterPolicy compiles an Amazon SNS subscription filter policy for
// the given scope, with SNS's rules: no wildcard, anything-but limited to a
// value, a list or a prefix, at most 5 keys and 150 combinations, and no
// nesting in the MessageAttributes scope.
//
// An invalid policy yields an [*Error] (which wraps [ErrInvalid]) whose text
// is the one SNS returns, e.g.
// "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys".
func CompileFilterPolicy(policy []byte, scope Scope) (*Pattern, error) {
	return compile(policy, SNS, scope)
}

// rule is one clause under construction: an ordered set of (path, cond).
type rule struct {
	paths []string
	conds []*condSpec
}

func (r *rule) put(path string, c *condSpec) {
	if i := slices.Index(r.paths, path); i >= 0 {
		r.conds[i] = c // the last write wins
		return
	}
	r.paths = append(r.paths, path)
	r.conds = append(r.conds, c)
}

func (r *rule) clone() *rule {
	return &rule{paths: slices.Clone(r.paths), conds: slices.Clone(r.conds)}
}

type compiler struct {
	lx      *lexer
	dialect Dialect
	scope   Scope
	rules   []*rule
	// orIsField reads "$or" as an ordinary field name (see compile).
	orIsField bool
	// sawOr is set when a "$or" key was read as the $or operator, and
	// orNotArray when the value of such a key was not an array.
	sawOr, orNotArray bool
	// combos is SNS's combination count of the parsed pattern.
	combos int
	// SNS bookkeeping
	nested bool // an object value appeared below the top level
}

// failure aborts compilation; it is recovered by compile.
type failure struct{ err *Error }

func (c *compiler) fail(reason string) {
	panic(failure{&Error{Dialect: c.dialect, Reason: reason, Param: c.param()}})
}

func (c *compiler) param() string {
	if c.dialect == SNS {
		return "FilterPolicy"
	}
	return ""
}

func (c *compiler) next() token {
	t, err := c.lx.next()
	if err != nil {
		c.fail(err.Error())
	}
	return t
}

// compile compiles a pattern the way event-ruler's Machine.addRule does:
// "$or" is first read as the $or operator and, when that reading is
// invalid, as an ordinary field name, so that {"$or": {"a": ["x"]}} matches
// an event field named "$or". When neither reading compiles, the error is
// the field reading's if some "$or" was followed by something other than
// an array (the pattern can then only mean a field), and the $or
// reading's otherwise.
func compile(src []byte, d Dialect, scope Scope) (*Pattern, error) {
	c, err := parse(src, d, scope, false)
	if err != nil && c.sawOr {
		lc, lerr := parse(src, d, scope, true)
		switch {
		case lerr == nil:
			c, err = lc, nil
		case c.orNotArray:
			err = lerr
		}
	}
	if err != nil {
		return nil, err
	}
	var p *Pattern
	err = c.guard(func() { p = c.build(src) })
	return p, err
}

// guard runs f, turning a compilation failure into its error.
func (c *compiler) guard(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			fl, ok := r.(failure)
			if !ok {
				panic(r)
			}
			err = fl.err
		}
	}()
	f()
	return nil
}

// parse parses src into c.rules.
func parse(src []byte, d Dialect, scope Scope, orIsField bool) (*compiler, error) {
	c := &compiler{lx: newLexer(src), dialect: d, scope: scope, orIsField: orIsField}
	err := c.guard(func() {
		if c.next().kind != tStartObject {
			c.fail("Filter is not an object")
		}
		c.combos = c.parseObject(nil, false, 1, 1)
		if err := c.lx.finish(); err != nil {
			c.fail(err.Error())
		}
	})
	return c, err
}

// build applies the checks that follow a successful parse and returns the
// pattern.
func (c *compiler) build(src []byte) *Pattern {
	if c.dialect == SNS {
		c.checkSNS(src, c.combos)
	}
	clauses := make([]*clauseSpec, 0, len(c.rules))
	for _, r := range c.rules {
		cl := &clauseSpec{conds: slices.Clone(r.conds)}
		sort.Slice(cl.conds, func(i, j int) bool { return cl.conds[i].path < cl.conds[j].path })
		clauses = append(clauses, cl)
	}
	if c.dialect == EventBridge {
		if !wildcardsAcceptable(clauses) {
			c.fail("Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character")
		}
	}
	return newPattern(string(src), c.dialect, c.scope, clauses)
}

// checkSNS applies SNS's structural limits after a successful parse.
func (c *compiler) checkSNS(src []byte, combos int) {
	if c.scope == ScopeMessageAttributes && c.nested {
		panic(failure{&Error{Dialect: SNS, Reason: "Filter policy scope MessageAttributes does not support nested filter policy"}})
	}
	if topLevelKeys(src) > snsMaxKeys {
		c.fail("Filter policy can not have more than 5 keys")
	}
	if combos > snsMaxCombinations {
		c.fail("Filter policy is too complex")
	}
}

// topLevelKeys counts the distinct keys of the (valid) root object.
func topLevelKeys(src []byte) int {
	lx := newLexer(src)
	seen := map[string]bool{}
	depth := 0
	for {
		t, err := lx.next()
		if err != nil || t.kind == tEOF {
			return len(seen)
		}
		switch t.kind {
		case tStartObject, tStartArray:
			depth++
		case tEndObject, tEndArray:
			depth--
		case tField:
			if depth == 1 {
				seen[t.text] = true
			}
		}
	}
}

func joinPath(path []string, name string) string {
	if len(path) == 0 {
		return name
	}
	return strings.Join(path, ".") + "." + name
}

// parseObject parses the members of an object whose '{' was read. depth and
// combos implement SNS's complexity count; the updated count is returned.
func (c *compiler) parseObject(path []string, inOr bool, depth, combos int) int {
	fields := false
	for {
		t := c.next()
		if t.kind == tEndObject {
			break
		}
		fields = true
		name := t.text
		if name == "$or" && !c.orIsField {
			c.sawOr = true
			combos = c.parseOr(path, depth, combos)
			continue
		}
		if inOr && reservedInOr[name] {
			c.fail(name + " is Ruler reserved fieldName which cannot be used inside $or.")
		}
		v := c.next()
		switch v.kind {
		case tStartObject:
			c.nested = true // any object value makes an SNS policy nested
			combos = c.parseObject(append(slices.Clone(path), name), inOr, depth+1, combos)
		case tStartArray:
			n := c.writeRules(joinPath(path, name))
			combos = satMul(combos, satMul(n, depth))
		default:
			c.fail(`"` + name + `" must be an object or an array`)
		}
	}
	if !fields {
		c.fail("Empty objects are not allowed")
	}
	return combos
}

// satLimit is where the combination count saturates: far above every limit
// it is compared with, and within the range of a 32-bit int.
const satLimit = 1 << 30

// satMul returns a*b for non-negative a and b, or satLimit if that is less.
func satMul(a, b int) int {
	a, b = min(a, satLimit), min(b, satLimit)
	if a != 0 && b > satLimit/a {
		return satLimit
	}
	return a * b
}

// satAdd returns a+b for non-negative a and b, or satLimit if that is less.
func satAdd(a, b int) int {
	a, b = min(a, satLimit), min(b, satLimit)
	if a > satLimit-b {
		return satLimit
	}
	return a + b
}

// parseOr parses the array following "$or": every object in it forks the
// clauses built so far.
func (c *compiler) parseOr(path []string, depth, combos int) int {
	current := c.rules
	c.rules = nil
	if c.next().kind != tStartArray {
		c.orNotArray = true
		c.fail("It must be an Array followed with $or.")
	}
	var all []*rule
	n, sum := 0, 0
	for {
		t := c.next()
		if t.kind == tEndArray {
			break
		}
		n++
		if t.kind != tStartObject {
			c.fail("Only JSON object is allowed in array of $or relationship.")
		}
		fork := make([]*rule, 0, len(current))
		for _, r := range current {
			fork = append(fork, r.clone())
		}
		if len(fork) == 0 {
			fork = append(fork, &rule{})
		}
		c.rules = fork
		sum = satAdd(sum, c.parseObject(path, true, depth, combos))
		all = append(all, c.rules...)
		if len(all) > maxClauses {
			c.fail("Rule is too complex - the $or relationships expand to more than 1000 combinations")
		}
	}
	if n < 2 {
		c.fail("There must have at least 2 Objects in $or relationship.")
	}
	c.rules = all
	return sum
}

// writeRules parses the array of match values for a field and stores the
// condition in every clause. It returns the number of values.
func (c *compiler) writeRules(name string) int {
	cond := &condSpec{path: name}
	count := 0
	for {
		t := c.next()
		if t.kind == tEndArray {
			break
		}
		count++
		switch t.kind {
		case tStartObject:
			c.matchExpression(cond)
		case tString:
			if ip, shape, ok := parseIP([]byte(t.text)); shape && ok {
				cond.ms = append(cond.ms, matcher{kind: mIP, ip: ip, s: t.text})
			} else {
				cond.ms = append(cond.ms, matcher{kind: mString, s: t.text})
			}
		case tNumber:
			f, fin := parseNumber(t.text)
			cond.ms = append(cond.ms, matcher{kind: mNumber, s: t.text, num: f, fin: fin})
		case tTrue:
			cond.ms = append(cond.ms, matcher{kind: mTrue})
		case tFalse:
			cond.ms = append(cond.ms, matcher{kind: mFalse})
		case tNull:
			cond.ms = append(cond.ms, matcher{kind: mNull})
		default:
			c.fail("Match value must be String, number, true, false, or null")
		}
	}
	if count == 0 {
		c.fail("Empty arrays are not allowed")
	}
	if len(c.rules) == 0 {
		c.rules = append(c.rules, &rule{})
	}
	for _, r := range c.rules {
		r.put(name, cond)
	}
	return count
}

func (c *compiler) expectEnd(reason string) {
	if c.next().kind != tEndObject {
		c.fail(reason)
	}
}

const oneKey = "Only one key allowed in match expression"

// matchExpression parses an operator object such as {"prefix": "a"}.
func (c *compiler) matchExpression(cond *condSpec) {
	t := c.next()
	if t.kind != tField {
		c.fail("Match expression name not found")
	}
	eb := c.dialect == EventBridge
	switch op := t.text; {
	case op == "exactly" && eb:
		v := c.next()
		if v.kind != tString {
			c.fail("exact match pattern must be a string")
		}
		cond.ms = append(cond.ms, matcher{kind: mString, s: v.text})
		c.expectEnd(oneKey)
	case op == "prefix" || op == "suffix":
		v := c.next()
		if v.kind == tStartObject && eb {
			c.affixFold(cond, op)
			return
		}
		if v.kind != tString {
			c.fail(op + " match pattern must be a string")
		}
		k := mPrefix
		if op == "suffix" {
			k = mSuffix
		}
		cond.ms = append(cond.ms, matcher{kind: k, s: v.text})
		c.expectEnd(oneKey)
	case op == "numeric":
		if c.next().kind != tStartArray {
			c.fail("Value of numeric must be an array.")
		}
		cond.ms = append(cond.ms, c.numeric())
		c.expectEnd("Too many elements in numeric expression")
	case op == "anything-but":
		if eb {
			cond.ms = append(cond.ms, c.anythingBut())
		} else {
			cond.ms = append(cond.ms, c.anythingButSNS())
		}
	case op == "exists":
		switch c.next().kind {
		case tTrue:
			if eb {
				cond.ms = append(cond.ms, matcher{kind: mExists})
			} else {
				// SNS: "The key must have a non-null and non-empty value."
				cond.ms = append(cond.ms, matcher{kind: mExistsValue})
			}
		case tFalse:
			cond.absent = true
		default:
			c.fail("exists match pattern must be either true or false.")
		}
		c.expectEnd(oneKey)
	case op == "cidr":
		v := c.next()
		if v.kind != tString {
			c.fail("prefix match pattern must be a string")
		}
		lo, hi, prefix, reason := cidrRange(v.text)
		if reason != "" {
			c.fail(reason)
		}
		cond.ms = append(cond.ms, matcher{kind: mCIDR, ip: lo, ipHi: hi, ipPrefix: uint8(prefix), s: v.text})
		c.expectEnd(oneKey)
	case op == "equals-ignore-case":
		v := c.next()
		if v.kind != tString {
			c.fail("equals-ignore-case match pattern must be a string")
		}
		cond.ms = append(cond.ms, matcher{kind: mFold, s: foldString(v.text)})
		c.expectEnd(oneKey)
	case op == "wildcard" && eb:
		v := c.next()
		if v.kind != tString {
			c.fail("wildcard match pattern must be a string")
		}
		w, reason := parseWildcard(v.text)
		if reason != "" {
			c.fail(reason)
		}
		cond.ms = append(cond.ms, matcher{kind: mWildcard, wc: w})
		c.expectEnd(oneKey)
	default:
		c.fail("Unrecognized match type " + op)
	}
}

// affixFold parses {"prefix": {"equals-ignore-case": "x"}} and the suffix
// form, after the inner '{'.
func (c *compiler) affixFold(cond *condSpec, op string) {
	Op := "Prefix"
	k := mPrefixFold
	if op == "suffix" {
		Op, k = "Suffix", mSuffixFold
	}
	t := c.next()
	if t.kind != tField {
		c.fail(Op + " expression name not found")
	}
	if t.text != "equals-ignore-case" {
		c.fail("Unsupported " + op + " pattern: " + t.text)
	}
	v := c.next()
	if v.kind != tString {
		c.fail("equals-ignore-case match pattern must be a string")
	}
	cond.ms = append(cond.ms, matcher{kind: k, s: foldString(v.text)})
	c.expectEnd(oneKey)
	c.expectEnd(oneKey)
}

// number parses a numeric operand.
func (c *compiler) number(t token, op string) float64 {
	if !t.kind.isNumeric() {
		if op == "=" {
			op = "equals"
		}
		c.fail("Value of " + op + " must be numeric")
	}
	f, fin := parseNumber(t.text)
	if !fin {
		c.fail("Value must be between -1.7976931348623157E308 and 1.7976931348623157E308, inclusive")
	}
	return f
}

// numeric parses the array of a numeric expression after its '['.
func (c *compiler) numeric() matcher {
	t := c.next()
	if t.kind != tString {
		c.fail("Invalid member in numeric match: " + t.display())
	}
	op := t.text
	m := matcher{kind: mRange, lo: negInf, hi: posInf, loOpen: true, hiOpen: true}
	switch op {
	case "=":
		v := c.number(c.next(), op)
		if c.next().kind != tEndArray {
			c.fail("Too many elements in numeric expression")
		}
		m.lo, m.hi, m.loOpen, m.hiOpen = v, v, false, false
	case ">=", ">":
		m.lo = c.number(c.next(), op)
		m.loOpen = op == ">"
		t = c.next()
		if t.kind == tEndArray {
			return m
		}
		if t.kind != tString {
			c.fail("Bad value in numeric range: " + t.display())
		}
		op2 := t.text
		switch op2 {
		case "<":
			m.hiOpen = true
		case "<=":
			m.hiOpen = false
		default:
			c.fail("Bad numeric range operator: " + op2)
		}
		m.hi = c.number(c.next(), op2)
		if c.next().kind != tEndArray {
			c.fail("Too many terms in numeric range expression")
		}
		if m.lo >= m.hi {
			c.fail("Bottom must be less than top")
		}
	case "<=", "<":
		m.hi = c.number(c.next(), op)
		m.hiOpen = op == "<"
		if c.next().kind != tEndArray {
			c.fail("Too many elements in numeric expression")
		}
	default:
		c.fail("Unrecognized numeric range operator: " + op)
	}
	return m
}

// anythingBut parses the value of an EventBridge anything-but.
func (c *compiler) anythingBut() matcher {
	kind := mAnyBut
	v := c.next()
	if v.kind == tStartObject {
		f := c.next()
		if f.kind != tField {
			c.fail("Anything-But expression name not found")
		}
		switch f.text {
		case "equals-ignore-case":
			kind = mAnyButFold
		case "prefix":
			kind = mAnyButPrefix
		case "suffix":
			kind = mAnyButSuffix
		case "wildcard":
			kind = mAnyButWildcard
		default:
			c.fail("Unsupported anything-but pattern: " + f.text)
		}
		v = c.next()
	}
	if v.kind != tStartArray && v.kind != tString && v.kind != tNumber {
		c.fail("Value of anything-but must be an array or single string/number value.")
	}
	var m matcher
	switch {
	case kind == mAnyBut && v.kind == tStartArray:
		m = c.anyButList()
	case kind == mAnyBut:
		m = c.anyButValues([]token{v})
	default:
		var vals []token
		if v.kind == tStartArray {
			for t := c.next(); t.kind != tEndArray; t = c.next() {
				c.checkSetValue(t, kind)
				vals = append(vals, t)
			}
		} else {
			c.checkSetValue(v, kind)
			vals = append(vals, v)
		}
		m = c.anyButSet(kind, vals)
	}
	c.expectEnd("Too many elements in numeric expression")
	if kind != mAnyBut {
		c.expectEnd("Too many elements in numeric expression")
	}
	return m
}

// checkSetValue validates one value of anything-but prefix, suffix,
// equals-ignore-case or wildcard.
func (c *compiler) checkSetValue(t token, kind mkind) {
	if t.kind == tString {
		if (kind == mAnyButPrefix || kind == mAnyButSuffix) && t.text == "" {
			c.fail("Null prefix/suffix not allowed")
		}
		return
	}
	switch kind {
	case mAnyButFold:
		c.fail("Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.")
	case mAnyButWildcard:
		c.fail("wildcard match pattern must be a string")
	default:
		c.fail("prefix/suffix match pattern must be a string")
	}
}

func (c *compiler) anyButSet(kind mkind, vals []token) matcher {
	set := &valueSet{}
	for _, t := range vals {
		switch kind {
		case mAnyButFold:
			set.strs = append(set.strs, foldString(t.text))
		case mAnyButWildcard:
			w, reason := parseWildcard(t.text)
			if reason != "" {
				c.fail(reason)
			}
			set.wcs = append(set.wcs, w)
		default:
			set.strs = append(set.strs, t.text)
		}
	}
	slices.Sort(set.strs)
	set.strs = slices.Compact(set.strs)
	return matcher{kind: kind, set: set}
}

// anyButList parses a plain anything-but list after its '['.
func (c *compiler) anyButList() matcher {
	var vals []token
	for t := c.next(); t.kind != tEndArray; t = c.next() {
		if t.kind != tString && t.kind != tNumber {
			c.fail("Inside anything but list, start|null|boolean is not supported.")
		}
		vals = append(vals, t)
	}
	strs, nums := 0, 0
	for _, t := range vals {
		if t.kind == tString {
			strs++
		} else {
			nums++
		}
	}
	if (strs > 0) == (nums > 0) {
		c.fail("Inside anything but list, either all values are number or string, mixed type is not supported")
	}
	return c.anyButValues(vals)
}

func (c *compiler) anyButValues(vals []token) matcher {
	set := &valueSet{}
	for _, t := range vals {
		if t.kind == tString {
			set.strs = append(set.strs, t.text)
			continue
		}
		f, fin := parseNumber(t.text)
		if !fin {
			c.fail("Value must be between -1.7976931348623157E308 and 1.7976931348623157E308, inclusive")
		}
		set.nums = append(set.nums, f)
	}
	slices.Sort(set.strs)
	set.strs = slices.Compact(set.strs)
	slices.Sort(set.nums)
	set.nums = slices.Compact(set.nums)
	return matcher{kind: mAnyBut, set: set}
}

// anythingButSNS parses the value of an SNS anything-but: a value, a list,
// or {"prefix": "x"}.
func (c *compiler) anythingButSNS() matcher {
	v := c.next()
	if v.kind == tStartObject {
		f := c.next()
		if f.kind != tField {
			c.fail("Anything-But expression name not found")
		}
		if f.text != "prefix" {
			c.fail("Unsupported anything-but pattern: " + f.text)
		}
		p := c.next()
		if p.kind != tString {
			c.fail("prefix match pattern must be a string")
		}
		if p.text == "" {
			c.fail("Null prefix/suffix not allowed")
		}
		c.expectEnd(oneKey)
		c.expectEnd(oneKey)
		return matcher{kind: mAnyButPrefix, set: &valueSet{strs: []string{p.text}}}
	}
	var m matcher
	switch v.kind {
	case tStartArray:
		m = c.anyButList()
	case tString, tNumber:
		m = c.anyButValues([]token{v})
	default:
		c.fail("Value of anything-but must be an array or single string/number value.")
	}
	c.expectEnd("Too many elements in numeric expression")
	return m
}
