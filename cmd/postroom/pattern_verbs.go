package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/postroom/postroom/eventbus/pattern"
	"github.com/postroom/postroom/queue"
)

var testEventPatternVerb = &verb{
	name: "test-event-pattern",
	summary: `Tests an EventBridge event pattern against an event offline, with the
library's pattern engine, and prints what aws events test-event-pattern
prints: {"Result": true} or {"Result": false}. An invalid pattern fails
with EventBridge's own message; the event must have the fields
EventBridge requires (id, account, source, time, region, detail-type).`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
		pat := fs.String("event-pattern", "", "the event pattern: `JSON`, file://path or - for standard input")
		event := fs.String("event", "", "the event: `JSON`, file://path or - for standard input")
		return func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args, 0, 0); err != nil {
				return err
			}
			if *pat == "" || *event == "" {
				return usageErrorf("test-event-pattern: --event-pattern and --event are required")
			}
			if *pat == "-" && *event == "-" {
				return usageErrorf("test-event-pattern: only one of --event-pattern and --event can be read from standard input")
			}
			p, err := readArg(e, "event-pattern", *pat)
			if err != nil {
				return err
			}
			ev, err := readArg(e, "event", *event)
			if err != nil {
				return err
			}
			ok, err := testEventPattern(p, ev)
			if err != nil {
				return err
			}
			return writeJSON(e.stdout, map[string]bool{"Result": ok})
		}
	},
}

// testEventPattern answers what EventBridge's TestEventPattern answers.
func testEventPattern(patternJSON, event []byte) (bool, error) {
	p, err := pattern.Compile(patternJSON)
	if err != nil {
		return false, &exitError{code: exitFailed, err: fmt.Errorf("test-event-pattern: InvalidEventPatternException: %w", err)}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(event, &m); err != nil {
		return false, &exitError{code: exitFailed, err: fmt.Errorf("test-event-pattern: ValidationException: Parameter Event is not valid.")}
	}
	for _, f := range []string{"id", "account", "source", "time", "region", "detail-type"} {
		if _, ok := m[f]; !ok {
			return false, &exitError{code: exitFailed, err: fmt.Errorf("test-event-pattern: ValidationException: Parameter Event is not valid. Reason: Provided Event is missing required field %q.", f)}
		}
	}
	ok, err := p.Match(event)
	if err != nil {
		return false, &exitError{code: exitFailed, err: fmt.Errorf("test-event-pattern: ValidationException: Parameter Event is not valid.")}
	}
	return ok, nil
}

var testFilterPolicyVerb = &verb{
	name: "test-filter-policy",
	summary: `Tests an SNS subscription filter policy offline, with the library's
engine, and prints {"Result": true} or {"Result": false} (the AWS CLI has
no such command). With --scope MessageAttributes (the default) the policy
is matched against the attributes of --attr and --message-attributes; with
--scope MessageBody against --message, a JSON object. An invalid policy
fails with SNS's own message.`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
		policy := fs.String("filter-policy", "", "the filter policy: `JSON`, file://path or - for standard input")
		scope := fs.String("scope", "MessageAttributes", "what the policy applies to: MessageAttributes or MessageBody")
		message := fs.String("message", "", "the message body (MessageBody scope): `JSON`, file://path or -")
		var attrs attrFlag
		fs.Var(&attrs, "attr", "a message attribute, `name=value` (String) or name:Type=value\n(Number, Binary in base64, String.Array as JSON; repeatable)")
		jsonAttrs := fs.String("message-attributes", "", "attributes as the AWS CLI takes them: `JSON` or file://path")
		return func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args, 0, 0); err != nil {
				return err
			}
			if *policy == "" {
				return usageErrorf("test-filter-policy: --filter-policy is required")
			}
			var sc pattern.Scope
			switch *scope {
			case "MessageAttributes":
				sc = pattern.ScopeMessageAttributes
				if *message != "" {
					return usageErrorf("test-filter-policy: --message goes with --scope MessageBody; give attributes with --attr or --message-attributes")
				}
			case "MessageBody":
				sc = pattern.ScopeMessageBody
				if *message == "" || len(attrs.attrs) > 0 || *jsonAttrs != "" {
					return usageErrorf("test-filter-policy: --scope MessageBody takes the body in --message, and no attributes")
				}
			default:
				return usageErrorf("test-filter-policy: --scope is MessageAttributes or MessageBody, not %q", *scope)
			}
			p, err := readArg(e, "filter-policy", *policy)
			if err != nil {
				return err
			}
			var body []byte
			var at queue.Attributes
			if sc == pattern.ScopeMessageBody {
				if body, err = readArg(e, "message", *message); err != nil {
					return err
				}
			} else if at, err = mergeAttributes(e, *jsonAttrs, attrs.attrs); err != nil {
				return err
			}
			ok, err := testFilterPolicy(p, sc, body, at)
			if err != nil {
				return err
			}
			return writeJSON(e.stdout, map[string]bool{"Result": ok})
		}
	},
}

// testFilterPolicy matches an SNS filter policy as SNS does: against the
// attributes, or against a body, by scope.
func testFilterPolicy(policy []byte, scope pattern.Scope, body []byte, attrs queue.Attributes) (bool, error) {
	p, err := pattern.CompileFilterPolicy(policy, scope)
	if err != nil {
		return false, &exitError{code: exitFailed, err: fmt.Errorf("test-filter-policy: InvalidParameter: %w", err)}
	}
	if scope == pattern.ScopeMessageBody {
		ok, err := p.Match(body)
		if err != nil {
			// SNS does not match a body that is not a JSON object.
			return false, nil
		}
		return ok, nil
	}
	pa := make(map[string]pattern.Attribute, len(attrs))
	for k, a := range attrs {
		pa[k] = pattern.Attribute{Type: a.Type, Value: a.Value}
	}
	return p.MatchAttributes(pa), nil
}
