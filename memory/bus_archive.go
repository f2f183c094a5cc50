package memory

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/eventbus/pattern"
)

// EventBridge's limits on archives and replays.
const (
	maxArchiveName = 48
	maxReplayName  = 64
	day            = 24 * time.Hour
)

// An archive records the events a bus puts that match its pattern.
type archive struct {
	info eventbus.Archive
	pat  *pattern.Pattern // nil archives every event

	mu     sync.Mutex // guards events and info.EventCount, info.SizeBytes
	events []archived // in ingestion order
}

// An archived event.
type archived struct {
	env      []byte    // as the bus wrote it, without a replay-name
	time     time.Time // the event's time
	ingested time.Time
	size     int // PutEvents entry size
}

// CreateArchive starts archiving the events put on the bus from now on that
// match opts.EventPattern (every event when it is empty); replayed events
// are never archived. The name is 1 to 48 characters from
// [.\-_A-Za-z0-9]; an existing one fails with
// ResourceAlreadyExistsException, matching postroom.ErrExists. Retention is
// rounded up to whole days, as EventBridge keeps RetentionDays; zero keeps
// events forever.
func (b *Bus) CreateArchive(ctx context.Context, name string, opts eventbus.ArchiveOptions) error {
	const op = "createarchive"
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validName(name, maxArchiveName, false) {
		return nameError(op, "archiveName", name, maxArchiveName)
	}
	if opts.Retention < 0 {
		return invalidParam(op, "1 validation error detected: Value '%d' at 'retentionDays' failed to satisfy constraint: Member must have value greater than or equal to 0", int64(opts.Retention/day))
	}
	a := &archive{info: eventbus.Archive{
		Name:         name,
		ARN:          "arn:aws:events:" + b.world.region + ":" + b.world.account + ":archive/" + name,
		Description:  opts.Description,
		EventPattern: opts.EventPattern,
		Retention:    (opts.Retention + day - 1) / day * day,
		CreationTime: time.Now(),
	}}
	if opts.EventPattern != "" {
		p, err := compilePattern(op, opts.EventPattern)
		if err != nil {
			return err
		}
		a.pat = p
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed(op)
	}
	if _, ok := b.archives[name]; ok {
		return ebError(op, "ResourceAlreadyExistsException", "Archive "+name+" already exists.", postroom.ErrExists)
	}
	b.archives[name] = a
	return nil
}

// DescribeArchive reports an archive: its pattern, retention, and the
// number and size of the events it holds.
func (b *Bus) DescribeArchive(ctx context.Context, name string) (eventbus.Archive, error) {
	if err := ctx.Err(); err != nil {
		return eventbus.Archive{}, err
	}
	a, err := b.archive("describearchive", name)
	if err != nil {
		return eventbus.Archive{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expire(time.Now())
	return a.info, nil
}

// DeleteArchive deletes an archive and its events.
func (b *Bus) DeleteArchive(ctx context.Context, name string) error {
	const op = "deletearchive"
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed(op)
	}
	if _, ok := b.archives[name]; !ok {
		return errNoArchive(op, name)
	}
	delete(b.archives, name)
	return nil
}

// archive returns the archive called name.
func (b *Bus) archive(op, name string) (*archive, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, errClosed(op)
	}
	a := b.archives[name]
	if a == nil {
		return nil, errNoArchive(op, name)
	}
	return a, nil
}

func errNoArchive(op, name string) error {
	return ebError(op, "ResourceNotFoundException", "Archive "+name+" does not exist.", postroom.ErrNotFound)
}

// record archives the event env, put at now with the event time at and
// the entry size size, if the archive's pattern matches it.
func (a *archive) record(env []byte, at, now time.Time, size int) {
	if a.pat != nil {
		if ok, err := a.pat.Match(env); err != nil || !ok {
			return
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expire(now)
	a.events = append(a.events, archived{env: env, time: at, ingested: now, size: size})
	a.info.EventCount++
	a.info.SizeBytes += int64(size)
}

// expire drops the events older than the retention period. Callers hold
// a.mu.
func (a *archive) expire(now time.Time) {
	if a.info.Retention == 0 {
		return
	}
	n := 0
	for n < len(a.events) && now.Sub(a.events[n].ingested) >= a.info.Retention {
		n++
	}
	if n == 0 {
		return
	}
	for _, e := range a.events[:n] {
		a.info.SizeBytes -= int64(e.size)
	}
	a.events = slices.Delete(a.events, 0, n)
	a.info.EventCount = len(a.events)
}

// StartReplay puts the events of an archive whose time lies in
// [opts.Start, opts.End) on the bus again, in time order, with a
// "replay-name" field after "region": to every enabled rule whose pattern
// matches them, or only to those of opts.Rules. Replayed events are not
// archived again.
//
// The replay runs synchronously: StartReplay returns when every event was
// routed (function targets are called in the background, as for Put), with
// the replay COMPLETED, or CANCELLED and ctx's error when ctx ends first.
// EventBridge runs replays in the background, in one-minute slices in no
// particular order. The replay name is 1 to 64 characters from
// [.\-_A-Za-z0-9] and unique on the bus (ResourceAlreadyExistsException).
func (b *Bus) StartReplay(ctx context.Context, opts eventbus.ReplayOptions) (eventbus.Replay, error) {
	const op = "startreplay"
	if err := ctx.Err(); err != nil {
		return eventbus.Replay{}, err
	}
	if !validName(opts.Name, maxReplayName, false) {
		return eventbus.Replay{}, nameError(op, "replayName", opts.Name, maxReplayName)
	}
	if !opts.Start.Before(opts.End) {
		return eventbus.Replay{}, invalidParam(op, "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.")
	}
	a, err := b.archive(op, opts.Archive)
	if err != nil {
		return eventbus.Replay{}, err
	}

	now := time.Now()
	rep := eventbus.Replay{
		Name:            opts.Name,
		ARN:             "arn:aws:events:" + b.world.region + ":" + b.world.account + ":replay/" + opts.Name,
		Archive:         opts.Archive,
		State:           eventbus.ReplayRunning,
		Start:           opts.Start,
		End:             opts.End,
		ReplayStartTime: now,
	}
	var only map[string]bool
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return eventbus.Replay{}, errClosed(op)
	}
	if _, dup := b.replays[opts.Name]; dup {
		b.mu.Unlock()
		return eventbus.Replay{}, ebError(op, "ResourceAlreadyExistsException", "Replay "+opts.Name+" already exists.", postroom.ErrExists)
	}
	if len(opts.Rules) > 0 {
		only = make(map[string]bool, len(opts.Rules))
		for _, name := range opts.Rules {
			if _, err := b.rule(op, name); err != nil {
				b.mu.Unlock()
				return eventbus.Replay{}, err
			}
			only[name] = true
		}
	}
	b.replays[opts.Name] = rep
	b.mu.Unlock()

	a.mu.Lock()
	a.expire(now)
	var window []archived
	for _, e := range a.events {
		if !e.time.Before(opts.Start) && e.time.Before(opts.End) {
			window = append(window, e)
		}
	}
	a.mu.Unlock()
	slices.SortStableFunc(window, func(x, y archived) int { return x.time.Compare(y.time) })

	var names []string
	for _, e := range window {
		if err = ctx.Err(); err != nil {
			break
		}
		env := withReplayName(e.env, opts.Name)
		var jobs []job
		b.mu.RLock()
		if b.closed {
			b.mu.RUnlock()
			err = errClosed(op)
			break
		}
		jobs, names = b.route(nil, names, env, time.Now(), only)
		b.start(jobs)
		b.mu.RUnlock()
		b.deliverAll(jobs)
		rep.EventLastReplayedTime = e.time
	}
	rep.ReplayEndTime = time.Now()
	rep.State = eventbus.ReplayCompleted
	if err != nil {
		rep.State = eventbus.ReplayCancelled
	}
	b.mu.Lock()
	b.replays[opts.Name] = rep
	b.mu.Unlock()
	return rep, err
}

// DescribeReplay reports a replay.
func (b *Bus) DescribeReplay(ctx context.Context, name string) (eventbus.Replay, error) {
	if err := ctx.Err(); err != nil {
		return eventbus.Replay{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return eventbus.Replay{}, errClosed("describereplay")
	}
	rep, ok := b.replays[name]
	if !ok {
		return eventbus.Replay{}, ebError("describereplay", "ResourceNotFoundException", "Replay "+name+" does not exist.", postroom.ErrNotFound)
	}
	return rep, nil
}

// withReplayName returns the envelope env with a replay-name field after
// region, where EventBridge writes it.
func withReplayName(env []byte, name string) []byte {
	// A string of the envelope cannot hold `,"resources":` unescaped, so
	// the first one is the field's.
	i := bytes.Index(env, []byte(`,"resources":`))
	out := make([]byte, 0, len(env)+len(name)+18)
	out = append(out, env[:i]...)
	out = append(out, `,"replay-name":`...)
	out = appendJSONString(out, name)
	return append(out, env[i:]...)
}
