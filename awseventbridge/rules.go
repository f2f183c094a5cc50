package awseventbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/eventbus/pattern"
)

// validName matches rule, target, archive and replay names.
var validName = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)

// predefined are the InputTemplate variables EventBridge defines.
var predefined = map[string]bool{
	"aws.events.rule-name": true, "aws.events.rule-arn": true, "aws.events.event.ingestion-time": true,
	"aws.events.event": true, "aws.events.event.json": true,
}

// placeholder matches an InputTemplate placeholder.
var placeholder = regexp.MustCompile(`<([A-Za-z0-9_.\-]+)>`)

// An ARNer is a queue, topic or other destination that knows its ARN
// (*awssqs.Queue, *awssns.Topic): a Target's Queue, Topic and DeadLetter
// must be one.
type ARNer interface{ ARN() string }

// PutRule creates or updates a rule on the bus. Its pattern is compiled
// with the local pattern engine first, so an invalid one fails with
// eventbus.ErrInvalidPattern and EventBridge's message before any call.
func (b *Bus) PutRule(ctx context.Context, r eventbus.Rule) error {
	op := "put rule " + fmt.Sprintf("%q", r.Name)
	if b.closed.Load() {
		return errClosed(op)
	}
	if !validName.MatchString(r.Name) {
		return invalid(op, "ValidationException", "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", r.Name)
	}
	if _, err := pattern.Compile([]byte(r.EventPattern)); err != nil {
		return &postroom.Error{Pkg: pkgName, Op: op, Code: "InvalidEventPatternException", Message: err.Error(), Kind: eventbus.ErrInvalidPattern, Err: err}
	}
	state := r.State
	if state == "" {
		state = eventbus.Enabled
	}
	in := &eventbridge.PutRuleInput{Name: &r.Name, EventBusName: &b.name, EventPattern: &r.EventPattern, State: types.RuleState(state)}
	if r.Description != "" {
		in.Description = &r.Description
	}
	_, err := b.api.PutRule(ctx, in)
	return wrapErr(op, err)
}

// DescribeRule returns a rule of the bus.
func (b *Bus) DescribeRule(ctx context.Context, name string) (eventbus.Rule, error) {
	out, err := b.api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: &name, EventBusName: &b.name})
	if err != nil {
		return eventbus.Rule{}, wrapErr(fmt.Sprintf("describe rule %q", name), err)
	}
	return eventbus.Rule{Name: aws.ToString(out.Name), ARN: aws.ToString(out.Arn), Description: aws.ToString(out.Description),
		EventPattern: aws.ToString(out.EventPattern), State: eventbus.RuleState(out.State)}, nil
}

// ListRules lists the bus's rules whose names start with prefix, by name.
func (b *Bus) ListRules(ctx context.Context, prefix string) ([]eventbus.Rule, error) {
	in := &eventbridge.ListRulesInput{EventBusName: &b.name}
	if prefix != "" {
		in.NamePrefix = &prefix
	}
	var rules []eventbus.Rule
	for {
		out, err := b.api.ListRules(ctx, in)
		if err != nil {
			return nil, wrapErr("list rules", err)
		}
		for _, r := range out.Rules {
			rules = append(rules, eventbus.Rule{Name: aws.ToString(r.Name), ARN: aws.ToString(r.Arn), Description: aws.ToString(r.Description),
				EventPattern: aws.ToString(r.EventPattern), State: eventbus.RuleState(r.State)})
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.SortFunc(rules, func(a, b eventbus.Rule) int { return strings.Compare(a.Name, b.Name) })
	return rules, nil
}

// DeleteRule deletes a rule. A rule with targets is refused, as
// EventBridge refuses it; deleting a rule that does not exist succeeds.
func (b *Bus) DeleteRule(ctx context.Context, name string) error {
	op := fmt.Sprintf("delete rule %q", name)
	ids, err := b.targetIDs(ctx, name)
	switch {
	case postroomIs(err, postroom.ErrNotFound):
		return nil
	case err != nil:
		return err
	case len(ids) > 0:
		return invalid(op, "ValidationException", "Rule can't be deleted since it has targets.")
	}
	_, err = b.api.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: &name, EventBusName: &b.name})
	if err = wrapErr(op, err); postroomIs(err, postroom.ErrNotFound) {
		return nil
	}
	return err
}

// targetIDs returns the ids of a rule's targets.
func (b *Bus) targetIDs(ctx context.Context, rule string) ([]string, error) {
	ts, err := b.listTargets(ctx, rule)
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = aws.ToString(t.Id)
	}
	return ids, err
}

func (b *Bus) listTargets(ctx context.Context, rule string) ([]types.Target, error) {
	in := &eventbridge.ListTargetsByRuleInput{Rule: &rule, EventBusName: &b.name}
	var ts []types.Target
	for {
		out, err := b.api.ListTargetsByRule(ctx, in)
		if err != nil {
			return nil, wrapErr(fmt.Sprintf("list targets of %q", rule), err)
		}
		ts = append(ts, out.Targets...)
		if out.NextToken == nil {
			return ts, nil
		}
		in.NextToken = out.NextToken
	}
}

// PutTargets adds or replaces targets of a rule, by ID. Each target names
// its destination by ARN, or by a Queue or Topic that is an [ARNer]; Func
// targets are not supported. At most 5 targets per rule: a call that
// would go over fails with eventbus.ErrLimitExceeded and changes nothing.
func (b *Bus) PutTargets(ctx context.Context, rule string, targets ...eventbus.Target) error {
	op := fmt.Sprintf("put targets of %q", rule)
	if b.closed.Load() {
		return errClosed(op)
	}
	in := &eventbridge.PutTargetsInput{Rule: &rule, EventBusName: &b.name, Targets: make([]types.Target, len(targets))}
	for i, t := range targets {
		bt, err := toTarget(op, i, t)
		if err != nil {
			return err
		}
		in.Targets[i] = bt
	}
	ids, err := b.targetIDs(ctx, rule)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if !slices.Contains(ids, t.ID) {
			ids = append(ids, t.ID)
		}
	}
	if len(ids) > MaxTargets {
		return &postroom.Error{Pkg: pkgName, Op: op, Code: "LimitExceededException",
			Message: fmt.Sprintf("The requested resource exceeds the maximum number allowed (%d targets per rule).", MaxTargets), Kind: eventbus.ErrLimitExceeded}
	}
	out, err := b.api.PutTargets(ctx, in)
	if err != nil {
		return wrapErr(op, err)
	}
	if out.FailedEntryCount == 0 {
		return nil
	}
	errs := make([]error, len(targets))
	for _, f := range out.FailedEntries {
		i := slices.IndexFunc(targets, func(t eventbus.Target) bool { return t.ID == aws.ToString(f.TargetId) })
		if i >= 0 {
			errs[i] = entryErr(op, aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage))
		}
	}
	return newBatchError(errs)
}

func toTarget(op string, n int, t eventbus.Target) (types.Target, error) {
	var bt types.Target
	if !validName.MatchString(t.ID) {
		return bt, invalid(op, "ValidationException", "1 validation error detected: Value '%s' at 'targets.%d.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", t.ID, n+1)
	}
	arn := t.ARN
	for _, d := range []any{t.Queue, t.Topic} {
		if a, ok := d.(ARNer); ok && arn == "" {
			arn = a.ARN()
		}
	}
	switch {
	case t.Func != nil:
		return bt, &postroom.Error{Pkg: pkgName, Op: op, Kind: postroom.ErrUnsupported, Message: "function targets: EventBridge invokes Lambda functions by ARN"}
	case arn == "":
		return bt, invalid(op, "ValidationException", "target %s has no ARN (set Target.ARN, or a Queue or Topic of the AWS drivers)", t.ID)
	}
	set := 0
	for _, ok := range []bool{t.Input != "", t.InputPath != "", t.InputTransformer != nil} {
		if ok {
			set++
		}
	}
	if set > 1 {
		return bt, invalid(op, "ValidationException", "Only one of Input, InputPath, or InputTransformer must be provided for target %s.", t.ID)
	}
	bt = types.Target{Id: aws.String(t.ID), Arn: aws.String(arn)}
	if t.Input != "" {
		if !json.Valid([]byte(t.Input)) {
			return bt, invalid(op, "ValidationException", "Input for target %s must be valid JSON.", t.ID)
		}
		bt.Input = aws.String(t.Input)
	}
	if t.InputPath != "" {
		bt.InputPath = aws.String(t.InputPath)
	}
	if it := t.InputTransformer; it != nil {
		for _, m := range placeholder.FindAllStringSubmatch(it.InputTemplate, -1) {
			if _, ok := it.InputPathsMap[m[1]]; !ok && !predefined[m[1]] {
				return bt, invalid(op, "ValidationException", "InputTemplate for target %s contains invalid placeholder %s.", t.ID, m[1])
			}
		}
		bt.InputTransformer = &types.InputTransformer{InputTemplate: aws.String(it.InputTemplate), InputPathsMap: it.InputPathsMap}
	}
	if t.MessageGroupID != "" {
		bt.SqsParameters = &types.SqsParameters{MessageGroupId: aws.String(t.MessageGroupID)}
	}
	if rp := t.RetryPolicy; rp.MaximumRetryAttempts != nil || rp.MaximumEventAge != 0 {
		bt.RetryPolicy = &types.RetryPolicy{}
		if rp.MaximumRetryAttempts != nil {
			bt.RetryPolicy.MaximumRetryAttempts = aws.Int32(int32(*rp.MaximumRetryAttempts))
		}
		if rp.MaximumEventAge != 0 {
			bt.RetryPolicy.MaximumEventAgeInSeconds = aws.Int32(int32(rp.MaximumEventAge / time.Second))
		}
	}
	if t.DeadLetter != nil {
		a, ok := t.DeadLetter.(ARNer)
		if !ok {
			return bt, invalid(op, "ValidationException", "the dead-letter queue of target %s has no ARN (use an *awssqs.Queue)", t.ID)
		}
		bt.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(a.ARN())}
	}
	return bt, nil
}

// RemoveTargets removes targets of a rule by ID; ids the rule does not have
// are ignored.
func (b *Bus) RemoveTargets(ctx context.Context, rule string, ids ...string) error {
	op := fmt.Sprintf("remove targets of %q", rule)
	have, err := b.targetIDs(ctx, rule)
	if err != nil {
		return err
	}
	var rm []string
	for _, id := range ids {
		if slices.Contains(have, id) {
			rm = append(rm, id)
		}
	}
	if len(rm) == 0 {
		return nil
	}
	_, err = b.api.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: &rule, EventBusName: &b.name, Ids: rm})
	return wrapErr(op, err)
}

// ListTargets lists a rule's targets, with their ARNs (DeadLetter and
// Queue/Topic values are not reconstructed).
func (b *Bus) ListTargets(ctx context.Context, rule string) ([]eventbus.Target, error) {
	ts, err := b.listTargets(ctx, rule)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		// EventBridge lists no targets for a rule that does not exist
		// either; tell the two apart.
		if _, err := b.DescribeRule(ctx, rule); err != nil {
			return nil, err
		}
	}
	out := make([]eventbus.Target, len(ts))
	for i, t := range ts {
		et := eventbus.Target{ID: aws.ToString(t.Id), ARN: aws.ToString(t.Arn), Input: aws.ToString(t.Input), InputPath: aws.ToString(t.InputPath)}
		if it := t.InputTransformer; it != nil {
			et.InputTransformer = &eventbus.InputTransformer{InputTemplate: aws.ToString(it.InputTemplate), InputPathsMap: it.InputPathsMap}
		}
		if t.SqsParameters != nil {
			et.MessageGroupID = aws.ToString(t.SqsParameters.MessageGroupId)
		}
		if rp := t.RetryPolicy; rp != nil {
			if rp.MaximumRetryAttempts != nil {
				n := int(*rp.MaximumRetryAttempts)
				et.RetryPolicy.MaximumRetryAttempts = &n
			}
			if rp.MaximumEventAgeInSeconds != nil {
				et.RetryPolicy.MaximumEventAge = time.Duration(*rp.MaximumEventAgeInSeconds) * time.Second
			}
		}
		out[i] = et
	}
	return out, nil
}

// TestEventPattern asks EventBridge whether pattern matches event (a full
// event as EventBridge writes it, with id, account, source, time, region,
// resources and detail-type).
func (b *Bus) TestEventPattern(ctx context.Context, eventPattern string, event []byte) (bool, error) {
	out, err := b.api.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: &eventPattern, Event: aws.String(string(event))})
	if err != nil {
		return false, wrapErr("test event pattern", err)
	}
	return out.Result, nil
}

// MatchOffline answers what TestEventPattern answers, with the local
// pattern engine (package eventbus/pattern) and no call.
func MatchOffline(eventPattern string, event []byte) (bool, error) {
	p, err := pattern.Compile([]byte(eventPattern))
	if err != nil {
		return false, &postroom.Error{Pkg: pkgName, Op: "test event pattern", Code: "InvalidEventPatternException", Message: err.Error(), Kind: eventbus.ErrInvalidPattern, Err: err}
	}
	ok, err := p.Match(event)
	if err != nil {
		return false, &postroom.Error{Pkg: pkgName, Op: "test event pattern", Code: "ValidationException", Message: err.Error(), Kind: postroom.ErrInvalid, Err: err}
	}
	return ok, nil
}
