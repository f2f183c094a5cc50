package memory

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/eventbus/pattern"
)

// EventBridge's limits on rules.
const (
	maxPatternLen     = 4096
	maxDescriptionLen = 512
	// stateCloudTrail is a rule state EventBridge knows; a memory bus
	// treats it as ENABLED.
	stateCloudTrail = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
)

// A busRule is a rule of a Bus. Its targets slice is replaced, never
// modified in place, so that a routed event keeps a consistent view.
type busRule struct {
	def     eventbus.Rule // with ARN and State set
	pat     *pattern.Pattern
	targets []*busTarget // by ID
}

func (r *busRule) enabled() bool { return r.def.State != eventbus.Disabled }

// ruleARN is the ARN of a rule of the bus: on the default bus
// …:rule/<name>, on another …:rule/<bus>/<name>.
func (b *Bus) ruleARN(name string) string {
	prefix := "arn:aws:events:" + b.world.region + ":" + b.world.account + ":rule/"
	if b.name == defaultBus {
		return prefix + name
	}
	return prefix + b.name + "/" + name
}

// PutRule creates a rule or updates one, keeping its targets. The rule
// needs an event pattern; an invalid one fails with
// InvalidEventPatternException, matching eventbus.ErrInvalidPattern, with
// EventBridge's message. A disabled rule routes nothing.
func (b *Bus) PutRule(ctx context.Context, r eventbus.Rule) error {
	const op = "putrule"
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validName(r.Name, maxRuleName, false) {
		return nameError(op, "name", r.Name, maxRuleName)
	}
	if len(r.Description) > maxDescriptionLen {
		return invalidParam(op, "1 validation error detected: Value '%s' at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", r.Description, maxDescriptionLen)
	}
	switch r.State {
	case "":
		r.State = eventbus.Enabled
	case eventbus.Enabled, eventbus.Disabled, stateCloudTrail:
	default:
		return invalidParam(op, "1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, DISABLED, ENABLED]", r.State)
	}
	p, err := compilePattern(op, r.EventPattern)
	if err != nil {
		return err
	}
	r.ARN = b.ruleARN(r.Name)

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed(op)
	}
	nr := &busRule{def: r, pat: p}
	if old := b.rules[r.Name]; old != nil {
		nr.targets = old.targets
	}
	b.rules[r.Name] = nr
	if nr.enabled() {
		_ = b.matcher.Add(r.Name, p) // p is not nil
	} else {
		b.matcher.Remove(r.Name)
	}
	return nil
}

// compilePattern compiles an event pattern of a rule or an archive.
func compilePattern(op, src string) (*pattern.Pattern, error) {
	switch {
	case src == "":
		return nil, invalidParam(op, "Parameter(s) EventPattern or ScheduleExpression must be specified.")
	case len(src) > maxPatternLen:
		return nil, invalidParam(op, "1 validation error detected: Value '%s' at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to %d", src, maxPatternLen)
	}
	p, err := pattern.Compile([]byte(src))
	if err != nil {
		return nil, &postroom.Error{Pkg: "memory", Op: op, Code: "InvalidEventPatternException", Message: err.Error(), Kind: postroom.ErrInvalid, Err: err}
	}
	return p, nil
}

// DescribeRule returns a rule; an unknown one fails with
// ResourceNotFoundException, matching postroom.ErrNotFound.
func (b *Bus) DescribeRule(ctx context.Context, name string) (eventbus.Rule, error) {
	if err := ctx.Err(); err != nil {
		return eventbus.Rule{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return eventbus.Rule{}, errClosed("describerule")
	}
	r, err := b.rule("describerule", name)
	if err != nil {
		return eventbus.Rule{}, err
	}
	return r.def, nil
}

// rule returns the rule called name. Callers hold b.mu.
func (b *Bus) rule(op, name string) (*busRule, error) {
	r := b.rules[name]
	if r == nil {
		return nil, ebError(op, "ResourceNotFoundException", "Rule "+name+" does not exist on EventBus "+b.name+".", postroom.ErrNotFound)
	}
	return r, nil
}

// ListRules lists the rules whose names start with prefix, by name.
func (b *Bus) ListRules(ctx context.Context, prefix string) ([]eventbus.Rule, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, errClosed("listrules")
	}
	var out []eventbus.Rule
	for _, name := range slices.Sorted(maps.Keys(b.rules)) {
		if strings.HasPrefix(name, prefix) {
			out = append(out, b.rules[name].def)
		}
	}
	return out, nil
}

// DeleteRule deletes a rule. A rule with targets cannot be deleted
// (ValidationException, matching postroom.ErrInvalid): remove them first.
// Deleting a rule that does not exist succeeds, as on EventBridge.
func (b *Bus) DeleteRule(ctx context.Context, name string) error {
	const op = "deleterule"
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validName(name, maxRuleName, false) {
		return nameError(op, "name", name, maxRuleName)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed(op)
	}
	r := b.rules[name]
	if r == nil {
		return nil
	}
	if len(r.targets) > 0 {
		return invalidParam(op, "Rule can't be deleted since it has targets.")
	}
	delete(b.rules, name)
	b.matcher.Remove(name)
	return nil
}

// PutTargets adds targets to a rule or replaces them, by ID. A rule takes
// at most 5 targets: more fail with LimitExceededException, matching
// eventbus.ErrLimitExceeded, and change nothing. A target that breaks a
// rule fails the call with ValidationException, matching postroom.ErrInvalid.
func (b *Bus) PutTargets(ctx context.Context, rule string, targets ...eventbus.Target) error {
	const op = "puttargets"
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validName(rule, maxRuleName, false) {
		return nameError(op, "rule", rule, maxRuleName)
	}
	if len(targets) == 0 {
		return invalidParam(op, "1 validation error detected: Value '[]' at 'targets' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	compiled := make([]*busTarget, len(targets))
	for i, t := range targets {
		ct, err := b.world.compileTarget(i+1, t)
		if err != nil {
			return err
		}
		compiled[i] = ct
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed(op)
	}
	r, err := b.rule(op, rule)
	if err != nil {
		return err
	}
	byID := make(map[string]*busTarget, len(r.targets)+len(compiled))
	for _, t := range r.targets {
		byID[t.def.ID] = t
	}
	for _, t := range compiled {
		byID[t.def.ID] = t
	}
	if len(byID) > maxTargetsPerRule {
		return ebError(op, "LimitExceededException", "The requested resource exceeds the maximum number allowed.", eventbus.ErrLimitExceeded)
	}
	r.targets = slices.SortedFunc(maps.Values(byID), func(a, b *busTarget) int { return strings.Compare(a.def.ID, b.def.ID) })
	return nil
}

// RemoveTargets removes targets from a rule by ID; IDs the rule does not
// have are ignored.
func (b *Bus) RemoveTargets(ctx context.Context, rule string, ids ...string) error {
	const op = "removetargets"
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return invalidParam(op, "1 validation error detected: Value '[]' at 'ids' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed(op)
	}
	r, err := b.rule(op, rule)
	if err != nil {
		return err
	}
	r.targets = slices.DeleteFunc(slices.Clone(r.targets), func(t *busTarget) bool { return slices.Contains(ids, t.def.ID) })
	return nil
}

// ListTargets returns a rule's targets, by ID, as they were put.
func (b *Bus) ListTargets(ctx context.Context, rule string) ([]eventbus.Target, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, errClosed("listtargets")
	}
	r, err := b.rule("listtargets", rule)
	if err != nil {
		return nil, err
	}
	out := make([]eventbus.Target, len(r.targets))
	for i, t := range r.targets {
		out[i] = cloneTarget(t.def)
	}
	return out, nil
}
