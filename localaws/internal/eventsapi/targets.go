package eventsapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/memory"
)

// target is a Target as the JSON protocol writes it.
type target struct {
	Id               string
	Arn              string
	RoleArn          string            `json:",omitempty"`
	Input            string            `json:",omitempty"`
	InputPath        string            `json:",omitempty"`
	InputTransformer *inputTransformer `json:",omitempty"`
	SqsParameters    *struct {
		MessageGroupId string `json:",omitempty"`
	} `json:",omitempty"`
	RetryPolicy *struct {
		MaximumRetryAttempts     *int `json:",omitempty"`
		MaximumEventAgeInSeconds *int `json:",omitempty"`
	} `json:",omitempty"`
	DeadLetterConfig *struct {
		Arn string `json:",omitempty"`
	} `json:",omitempty"`
}

type inputTransformer struct {
	InputPathsMap map[string]string `json:",omitempty"`
	InputTemplate string
}

type failedEntry struct {
	TargetId     string
	ErrorCode    string
	ErrorMessage string
}

// toTarget converts a target. Queues and topics are named by ARN and, as on
// EventBridge, found in the world at each delivery; a dead-letter queue
// must exist when the target is put.
func (s *server) toTarget(t target) (eventbus.Target, error) {
	if t.Arn == "" {
		return eventbus.Target{}, validation("1 validation error detected: Value null at 'targets.member.arn' failed to satisfy constraint: Member must not be null")
	}
	out := eventbus.Target{ID: t.Id, ARN: t.Arn, Input: t.Input, InputPath: t.InputPath}
	if t.InputTransformer != nil {
		out.InputTransformer = &eventbus.InputTransformer{InputPathsMap: t.InputTransformer.InputPathsMap, InputTemplate: t.InputTransformer.InputTemplate}
	}
	if t.SqsParameters != nil {
		out.MessageGroupID = t.SqsParameters.MessageGroupId
	}
	if rp := t.RetryPolicy; rp != nil {
		out.RetryPolicy.MaximumRetryAttempts = rp.MaximumRetryAttempts
		if rp.MaximumEventAgeInSeconds != nil {
			out.RetryPolicy.MaximumEventAge = time.Duration(*rp.MaximumEventAgeInSeconds) * time.Second
		}
	}
	if dl := t.DeadLetterConfig; dl != nil && dl.Arn != "" {
		q, err := s.world.QueueByARN(dl.Arn)
		if err != nil {
			return out, validation("Parameter(s) DeadLetterConfig is not valid for target %s: the queue %s does not exist.", t.Id, dl.Arn)
		}
		out.DeadLetter = q
	}
	return out, nil
}

// fromTarget writes a target of the bus as PutTargets took it.
func fromTarget(t eventbus.Target) target {
	out := target{Id: t.ID, Arn: t.ARN, Input: t.Input, InputPath: t.InputPath}
	if a, ok := t.Queue.(interface{ ARN() string }); ok && t.Queue != nil {
		out.Arn = a.ARN()
	}
	if a, ok := t.Topic.(interface{ ARN() string }); ok && t.Topic != nil {
		out.Arn = a.ARN()
	}
	if it := t.InputTransformer; it != nil {
		out.InputTransformer = &inputTransformer{InputPathsMap: it.InputPathsMap, InputTemplate: it.InputTemplate}
	}
	if t.MessageGroupID != "" {
		out.SqsParameters = &struct {
			MessageGroupId string `json:",omitempty"`
		}{t.MessageGroupID}
	}
	if rp := t.RetryPolicy; rp.MaximumRetryAttempts != nil || rp.MaximumEventAge != 0 {
		out.RetryPolicy = &struct {
			MaximumRetryAttempts     *int `json:",omitempty"`
			MaximumEventAgeInSeconds *int `json:",omitempty"`
		}{MaximumRetryAttempts: rp.MaximumRetryAttempts}
		if rp.MaximumEventAge != 0 {
			secs := int(rp.MaximumEventAge / time.Second)
			out.RetryPolicy.MaximumEventAgeInSeconds = &secs
		}
	}
	if a, ok := t.DeadLetter.(interface{ ARN() string }); ok && t.DeadLetter != nil {
		out.DeadLetterConfig = &struct {
			Arn string `json:",omitempty"`
		}{a.ARN()}
	}
	return out
}

type ruleTargets struct {
	Rule         string
	EventBusName string
	Targets      []target
	Ids          []string
	Force        bool
	NextToken    string
	Limit        int
}

func (s *server) putTargets(ctx context.Context, body []byte) (any, error) {
	var in ruleTargets
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	b, err := s.bus(in.EventBusName)
	if err != nil {
		return nil, err
	}
	if len(in.Targets) > 100 {
		return nil, validation("1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	ts := make([]eventbus.Target, len(in.Targets))
	for i, t := range in.Targets {
		if ts[i], err = s.toTarget(t); err != nil {
			return nil, err
		}
	}
	if _, err := b.DescribeRule(ctx, in.Rule); err != nil {
		return nil, notFound("Rule %s does not exist on EventBus %s.", in.Rule, b.Name())
	}
	if err := b.PutTargets(ctx, in.Rule, ts...); err != nil {
		return nil, err
	}
	return map[string]any{"FailedEntryCount": 0, "FailedEntries": []failedEntry{}}, nil
}

func (s *server) removeTargets(ctx context.Context, body []byte) (any, error) {
	var in ruleTargets
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	b, err := s.bus(in.EventBusName)
	if err != nil {
		return nil, err
	}
	if _, err := b.DescribeRule(ctx, in.Rule); err != nil {
		return nil, notFound("Rule %s does not exist on EventBus %s.", in.Rule, b.Name())
	}
	if err := b.RemoveTargets(ctx, in.Rule, in.Ids...); err != nil {
		return nil, err
	}
	return map[string]any{"FailedEntryCount": 0, "FailedEntries": []failedEntry{}}, nil
}

func (s *server) listTargetsByRule(ctx context.Context, body []byte) (any, error) {
	var in ruleTargets
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	b, err := s.bus(in.EventBusName)
	if err != nil {
		return nil, err
	}
	ts, err := b.ListTargets(ctx, in.Rule)
	if err != nil {
		return nil, err
	}
	from, to, next, err := page(len(ts), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		Targets   []target
		NextToken string `json:",omitempty"`
	}{Targets: []target{}, NextToken: next}
	for _, t := range ts[from:to] {
		out.Targets = append(out.Targets, fromTarget(t))
	}
	return out, nil
}

func (s *server) listRuleNamesByTarget(ctx context.Context, body []byte) (any, error) {
	var in struct {
		TargetArn    string
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
	rules, err := b.ListRules(ctx, "")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, r := range rules {
		ts, err := b.ListTargets(ctx, r.Name)
		if err != nil {
			continue // deleted meanwhile
		}
		if slices.ContainsFunc(ts, func(t eventbus.Target) bool { return fromTarget(t).Arn == in.TargetArn }) {
			names = append(names, r.Name)
		}
	}
	from, to, next, err := page(len(names), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		RuleNames []string
		NextToken string `json:",omitempty"`
	}{RuleNames: append([]string{}, names[from:to]...), NextToken: next}
	return out, nil
}

// Archives and replays.

type archiveOut struct {
	ArchiveName    string
	ArchiveArn     string `json:",omitempty"`
	EventSourceArn string
	Description    string `json:",omitempty"`
	EventPattern   string `json:",omitempty"`
	State          string
	RetentionDays  int
	SizeBytes      int64
	EventCount     int
	CreationTime   *epoch
}

func archiveOf(b *memory.Bus, a eventbus.Archive) archiveOut {
	return archiveOut{ArchiveName: a.Name, ArchiveArn: a.ARN, EventSourceArn: b.ARN(), Description: a.Description,
		EventPattern: a.EventPattern, State: "ENABLED", RetentionDays: int(a.Retention / (24 * time.Hour)),
		SizeBytes: a.SizeBytes, EventCount: a.EventCount, CreationTime: toEpoch(a.CreationTime)}
}

func (s *server) createArchive(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ArchiveName    string
		EventSourceArn string
		Description    string
		EventPattern   string
		RetentionDays  int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.EventSourceArn == "" {
		return nil, validation("1 validation error detected: Value null at 'eventSourceArn' failed to satisfy constraint: Member must not be null")
	}
	b, err := s.bus(in.EventSourceArn)
	if err != nil {
		return nil, err
	}
	if _, _, ok := s.findArchive(ctx, in.ArchiveName); ok {
		return nil, &apiError{Type: "ResourceAlreadyExistsException", Message: "Archive " + in.ArchiveName + " already exists.", Status: 400}
	}
	if err := b.CreateArchive(ctx, in.ArchiveName, eventbus.ArchiveOptions{Description: in.Description,
		EventPattern: in.EventPattern, Retention: days(in.RetentionDays)}); err != nil {
		return nil, err
	}
	a, err := b.DescribeArchive(ctx, in.ArchiveName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ArchiveArn": a.ARN, "State": "ENABLED", "CreationTime": toEpoch(a.CreationTime)}, nil
}

// findArchive finds an archive by name among the world's buses: archive
// names are unique in an account and region.
func (s *server) findArchive(ctx context.Context, name string) (*memory.Bus, eventbus.Archive, bool) {
	for _, b := range s.world.Buses("") {
		if a, err := b.DescribeArchive(ctx, name); err == nil {
			return b, a, true
		}
	}
	return nil, eventbus.Archive{}, false
}

func archiveName(s string) string {
	if i := strings.Index(s, ":archive/"); i >= 0 && strings.HasPrefix(s, "arn:") {
		return s[i+len(":archive/"):]
	}
	return s
}

func (s *server) describeArchive(ctx context.Context, body []byte) (any, error) {
	var in struct{ ArchiveName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	b, a, ok := s.findArchive(ctx, in.ArchiveName)
	if !ok {
		return nil, notFound("Archive %s does not exist.", in.ArchiveName)
	}
	return archiveOf(b, a), nil
}

func (s *server) deleteArchive(ctx context.Context, body []byte) (any, error) {
	var in struct{ ArchiveName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	b, _, ok := s.findArchive(ctx, in.ArchiveName)
	if !ok {
		return nil, notFound("Archive %s does not exist.", in.ArchiveName)
	}
	return nil, b.DeleteArchive(ctx, in.ArchiveName)
}

func (s *server) listArchives(ctx context.Context, body []byte) (any, error) {
	var in struct {
		NamePrefix     string
		EventSourceArn string
		State          string
		NextToken      string
		Limit          int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var all []archiveOut
	for _, b := range s.world.Buses("") {
		if in.EventSourceArn != "" && b.ARN() != in.EventSourceArn && b.Name() != busName(in.EventSourceArn) {
			continue
		}
		for _, a := range b.Archives() {
			if strings.HasPrefix(a.Name, in.NamePrefix) {
				all = append(all, archiveOf(b, a))
			}
		}
	}
	if in.State != "" && in.State != "ENABLED" {
		all = nil
	}
	slices.SortFunc(all, func(a, b archiveOut) int { return strings.Compare(a.ArchiveName, b.ArchiveName) })
	from, to, next, err := page(len(all), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		Archives  []archiveOut
		NextToken string `json:",omitempty"`
	}{Archives: append([]archiveOut{}, all[from:to]...), NextToken: next}
	return out, nil
}

type replayOut struct {
	ReplayName            string
	ReplayArn             string `json:",omitempty"`
	EventSourceArn        string
	State                 string
	EventStartTime        *epoch
	EventEndTime          *epoch
	EventLastReplayedTime *epoch `json:",omitempty"`
	ReplayStartTime       *epoch `json:",omitempty"`
	ReplayEndTime         *epoch `json:",omitempty"`
	Destination           *struct {
		Arn string
	} `json:",omitempty"`
}

func (s *server) replayOf(b *memory.Bus, r eventbus.Replay) replayOut {
	arn := fmt.Sprintf("arn:aws:events:%s:%s:archive/%s", s.region, s.account, r.Archive)
	if _, a, ok := s.findArchive(context.Background(), r.Archive); ok {
		arn = a.ARN
	}
	return replayOut{ReplayName: r.Name, ReplayArn: r.ARN, EventSourceArn: arn, State: string(r.State),
		EventStartTime: toEpoch(r.Start), EventEndTime: toEpoch(r.End),
		EventLastReplayedTime: toEpoch(r.EventLastReplayedTime),
		ReplayStartTime:       toEpoch(r.ReplayStartTime), ReplayEndTime: toEpoch(r.ReplayEndTime),
		Destination: &struct{ Arn string }{b.ARN()}}
}

func (s *server) startReplay(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ReplayName     string
		Description    string
		EventSourceArn string
		EventStartTime *epoch
		EventEndTime   *epoch
		Destination    struct {
			Arn        string
			FilterArns []string
		}
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name := archiveName(in.EventSourceArn)
	ab, _, ok := s.findArchive(ctx, name)
	if !ok {
		return nil, notFound("Archive %s does not exist.", name)
	}
	b, err := s.bus(in.Destination.Arn)
	if err != nil {
		return nil, err
	}
	if b != ab {
		return nil, validation("Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.")
	}
	if _, ok := s.findReplay(ctx, in.ReplayName); ok {
		return nil, &apiError{Type: "ResourceAlreadyExistsException", Message: "Replay " + in.ReplayName + " already exists.", Status: 400}
	}
	var rules []string
	for _, arn := range in.Destination.FilterArns {
		rules = append(rules, arn[strings.LastIndex(arn, "/")+1:])
	}
	r, err := b.StartReplay(ctx, eventbus.ReplayOptions{Name: in.ReplayName, Description: in.Description,
		Archive: name, Start: in.EventStartTime.time(), End: in.EventEndTime.time(), Rules: rules})
	if err != nil {
		return nil, err
	}
	return map[string]any{"ReplayArn": r.ARN, "State": string(r.State), "ReplayStartTime": toEpoch(r.ReplayStartTime)}, nil
}

func (s *server) findReplay(ctx context.Context, name string) (replayOut, bool) {
	for _, b := range s.world.Buses("") {
		if r, err := b.DescribeReplay(ctx, name); err == nil {
			return s.replayOf(b, r), true
		}
	}
	return replayOut{}, false
}

func (s *server) describeReplay(ctx context.Context, body []byte) (any, error) {
	var in struct{ ReplayName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	r, ok := s.findReplay(ctx, in.ReplayName)
	if !ok {
		return nil, notFound("Replay %s does not exist.", in.ReplayName)
	}
	return r, nil
}

// cancelReplay cancels a replay that is still running; memory replays
// complete within StartReplay, so there is never one to cancel.
func (s *server) cancelReplay(ctx context.Context, body []byte) (any, error) {
	var in struct{ ReplayName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	r, ok := s.findReplay(ctx, in.ReplayName)
	if !ok {
		return nil, notFound("Replay %s does not exist.", in.ReplayName)
	}
	return nil, &apiError{Type: "IllegalStatusException", Message: "Replay " + in.ReplayName + " is not in a valid state for this operation. Current state: " + r.State + ".", Status: 400}
}

func (s *server) listReplays(ctx context.Context, body []byte) (any, error) {
	var in struct {
		NamePrefix     string
		EventSourceArn string
		State          string
		NextToken      string
		Limit          int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var all []replayOut
	for _, b := range s.world.Buses("") {
		for _, r := range b.Replays() {
			o := s.replayOf(b, r)
			if strings.HasPrefix(r.Name, in.NamePrefix) && (in.State == "" || in.State == o.State) &&
				(in.EventSourceArn == "" || in.EventSourceArn == o.EventSourceArn) {
				all = append(all, o)
			}
		}
	}
	slices.SortFunc(all, func(a, b replayOut) int { return strings.Compare(a.ReplayName, b.ReplayName) })
	from, to, next, err := page(len(all), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	return struct {
		Replays   []replayOut
		NextToken string `json:",omitempty"`
	}{Replays: append([]replayOut{}, all[from:to]...), NextToken: next}, nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
