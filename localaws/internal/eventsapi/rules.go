package eventsapi

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/eventbus/pattern"
	"github.com/postroom/postroom/memory"
)

type putEventsEntry struct {
	Source       string
	DetailType   string
	Detail       string
	EventBusName string
	Resources    []string
	Time         *epoch
	TraceHeader  string
}

type putEventsResultEntry struct {
	EventId      string `json:",omitempty"`
	ErrorCode    string `json:",omitempty"`
	ErrorMessage string `json:",omitempty"`
}

func (s *server) putEvents(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Entries []putEventsEntry
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if n := len(in.Entries); n < 1 || n > 10 {
		return nil, validation("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	out := struct {
		Entries          []putEventsResultEntry
		FailedEntryCount int
	}{Entries: make([]putEventsResultEntry, len(in.Entries))}
	for i, e := range in.Entries {
		ev := &eventbus.Event{Source: e.Source, DetailType: e.DetailType, Resources: e.Resources,
			Time: e.Time.time(), TraceHeader: e.TraceHeader}
		if e.Detail != "" {
			ev.Detail = []byte(e.Detail)
		}
		b, err := s.world.Bus(busName(e.EventBusName))
		if err != nil {
			// EventBridge accepts events for a bus that does not exist
			// and drops them.
			out.Entries[i].EventId = newID()
			continue
		}
		if err := b.Put(ctx, ev); err != nil {
			ae := fromErr(err)
			if ae.Type == "ValidationException" && ae.Message == "Total size of the entries in the request is over the limit." {
				return nil, ae
			}
			out.Entries[i] = putEventsResultEntry{ErrorCode: ae.Type, ErrorMessage: ae.Message}
			out.FailedEntryCount++
			continue
		}
		out.Entries[i].EventId = ev.ID
	}
	return out, nil
}

type ruleOut struct {
	Name               string
	Arn                string
	EventPattern       string `json:",omitempty"`
	ScheduleExpression string `json:",omitempty"`
	State              string
	Description        string `json:",omitempty"`
	EventBusName       string
	CreatedBy          string `json:",omitempty"`
}

func (s *server) ruleOut(b *memory.Bus, r eventbus.Rule) ruleOut {
	return ruleOut{Name: r.Name, Arn: r.ARN, EventPattern: r.EventPattern, State: string(r.State),
		Description: r.Description, EventBusName: b.Name()}
}

func (s *server) putRule(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Name               string
		EventPattern       string
		ScheduleExpression string
		State              string
		Description        string
		EventBusName       string
		RoleArn            string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ScheduleExpression != "" {
		return nil, validation("ScheduleExpression is supported only on the default event bus, and this endpoint does not run scheduled rules.")
	}
	if in.EventPattern == "" {
		return nil, validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	b, err := s.bus(in.EventBusName)
	if err != nil {
		return nil, err
	}
	if err := b.PutRule(ctx, eventbus.Rule{Name: in.Name, EventPattern: in.EventPattern,
		State: eventbus.RuleState(in.State), Description: in.Description}); err != nil {
		return nil, err
	}
	r, err := b.DescribeRule(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	return map[string]string{"RuleArn": r.ARN}, nil
}

type ruleRef struct {
	Name         string
	EventBusName string
	Force        bool
}

func (s *server) ruleRef(body []byte) (*memory.Bus, ruleRef, error) {
	var in ruleRef
	if err := decode(body, &in); err != nil {
		return nil, in, err
	}
	b, err := s.bus(in.EventBusName)
	return b, in, err
}

func (s *server) deleteRule(ctx context.Context, body []byte) (any, error) {
	b, in, err := s.ruleRef(body)
	if err != nil {
		return nil, err
	}
	return nil, b.DeleteRule(ctx, in.Name)
}

func (s *server) describeRule(ctx context.Context, body []byte) (any, error) {
	b, in, err := s.ruleRef(body)
	if err != nil {
		return nil, err
	}
	r, err := b.DescribeRule(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	out := s.ruleOut(b, r)
	out.CreatedBy = s.account
	return out, nil
}

func (s *server) setState(ctx context.Context, body []byte, state eventbus.RuleState) (any, error) {
	b, in, err := s.ruleRef(body)
	if err != nil {
		return nil, err
	}
	r, err := b.DescribeRule(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	r.State = state
	return nil, b.PutRule(ctx, r)
}

func (s *server) enableRule(ctx context.Context, body []byte) (any, error) {
	return s.setState(ctx, body, eventbus.Enabled)
}

func (s *server) disableRule(ctx context.Context, body []byte) (any, error) {
	return s.setState(ctx, body, eventbus.Disabled)
}

// page cuts one page of n items from a list sorted by name: the token is
// the index to start at, limit 0 means 100.
func page(n int, token string, limit int) (from, to int, next string, err error) {
	if token != "" {
		v, perr := strconv.Atoi(token)
		if perr != nil || v < 0 || v > n {
			return 0, 0, "", validation("The NextToken value is not valid.")
		}
		from = v
	}
	if limit < 0 || limit > 100 {
		return 0, 0, "", validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", limit)
	}
	if limit == 0 {
		limit = 100
	}
	to = min(n, from+limit)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}

func (s *server) listRules(ctx context.Context, body []byte) (any, error) {
	var in struct {
		NamePrefix   string
		EventBusName string
		NextToken    string
		Limit        int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	b, err := s.bus(in.EventBusName)
	if err != nil {
		return nil, err
	}
	rules, err := b.ListRules(ctx, in.NamePrefix)
	if err != nil {
		return nil, err
	}
	from, to, next, err := page(len(rules), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		Rules     []ruleOut
		NextToken string `json:",omitempty"`
	}{Rules: []ruleOut{}, NextToken: next}
	for _, r := range rules[from:to] {
		out.Rules = append(out.Rules, s.ruleOut(b, r))
	}
	return out, nil
}

// TestEventPattern matches an event against a pattern.
func (s *server) testEventPattern(ctx context.Context, body []byte) (any, error) {
	var in struct {
		EventPattern string
		Event        string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	p, err := pattern.Compile([]byte(in.EventPattern))
	if err != nil {
		return nil, &apiError{Type: "InvalidEventPatternException", Message: strings.TrimPrefix(err.Error(), "pattern: "), Status: 400}
	}
	if err := checkTestEvent(in.Event); err != nil {
		return nil, err
	}
	ok, err := p.Match([]byte(in.Event))
	if err != nil {
		return nil, validation("Parameter Event is not valid.")
	}
	return map[string]bool{"Result": ok}, nil
}

// checkTestEvent refuses an event TestEventPattern refuses: not a JSON
// object, or without the envelope's required fields.
func checkTestEvent(ev string) error {
	var m map[string]any
	if err := jsonUnmarshal(ev, &m); err != nil {
		return validation("Parameter Event is not valid.")
	}
	for _, f := range []string{"id", "account", "source", "time", "region", "detail-type"} {
		if _, ok := m[f]; !ok {
			return validation("Parameter Event is not valid. Reason: Provided Event is missing required field %q.", f)
		}
	}
	return nil
}

type busOut struct {
	Name             string
	Arn              string
	Description      string `json:",omitempty"`
	CreationTime     *epoch `json:",omitempty"`
	LastModifiedTime *epoch `json:",omitempty"`
}

func (s *server) createEventBus(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Name            string
		EventSourceName string
		Description     string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.EventSourceName != "" {
		return nil, validation("Partner event sources are not supported by this endpoint.")
	}
	if in.Name == "default" || strings.Contains(in.Name, "/") {
		return nil, validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+", in.Name)
	}
	if _, err := s.world.Bus(in.Name); err == nil {
		return nil, &apiError{Type: "ResourceAlreadyExistsException", Message: "Event bus " + in.Name + " already exists.", Status: 400}
	}
	b, err := s.world.NewBus(in.Name, memory.BusOptions{})
	if err != nil {
		return nil, err
	}
	return map[string]string{"EventBusArn": b.ARN()}, nil
}

func (s *server) deleteEventBus(ctx context.Context, body []byte) (any, error) {
	var in struct{ Name string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Name == "default" {
		return nil, validation("Cannot delete event bus default.")
	}
	if _, err := s.world.Bus(in.Name); err != nil {
		return nil, nil // idempotent, as EventBridge
	}
	return nil, s.world.DeleteBus(in.Name)
}

func (s *server) describeEventBus(ctx context.Context, body []byte) (any, error) {
	var in struct{ Name string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	b, err := s.bus(in.Name)
	if err != nil {
		return nil, err
	}
	return busOut{Name: b.Name(), Arn: b.ARN()}, nil
}

func (s *server) listEventBuses(ctx context.Context, body []byte) (any, error) {
	var in struct {
		NamePrefix string
		NextToken  string
		Limit      int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	buses := s.world.Buses(in.NamePrefix)
	slices.SortFunc(buses, func(a, b *memory.Bus) int { return strings.Compare(a.Name(), b.Name()) })
	from, to, next, err := page(len(buses), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		EventBuses []busOut
		NextToken  string `json:",omitempty"`
	}{EventBuses: []busOut{}, NextToken: next}
	for _, b := range buses[from:to] {
		out.EventBuses = append(out.EventBuses, busOut{Name: b.Name(), Arn: b.ARN()})
	}
	return out, nil
}

// days converts EventBridge's RetentionDays.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
