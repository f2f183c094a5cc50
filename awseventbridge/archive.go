package awseventbridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/eventbus/pattern"
)

func postroomIs(err, kind error) bool { return err != nil && errors.Is(err, kind) }

const day = 24 * time.Hour

// CreateArchive archives the events put on the bus from now on that match
// opts.EventPattern. EventBridge keeps whole days: Retention is rounded
// up.
func (b *Bus) CreateArchive(ctx context.Context, name string, opts eventbus.ArchiveOptions) error {
	op := fmt.Sprintf("create archive %q", name)
	if b.closed.Load() {
		return errClosed(op)
	}
	if !validName.MatchString(name) {
		return invalid(op, "ValidationException", "archive name %q must be 1 to 64 characters from [.-_A-Za-z0-9]", name)
	}
	in := &eventbridge.CreateArchiveInput{ArchiveName: &name, EventSourceArn: &b.arn}
	if opts.EventPattern != "" {
		if _, err := pattern.Compile([]byte(opts.EventPattern)); err != nil {
			return &postroom.Error{Pkg: pkgName, Op: op, Code: "InvalidEventPatternException", Message: err.Error(), Kind: eventbus.ErrInvalidPattern, Err: err}
		}
		in.EventPattern = &opts.EventPattern
	}
	if opts.Description != "" {
		in.Description = &opts.Description
	}
	if opts.Retention > 0 {
		in.RetentionDays = aws.Int32(int32((opts.Retention + day - 1) / day))
	}
	_, err := b.api.CreateArchive(ctx, in)
	return wrapErr(op, err)
}

// DescribeArchive reports an archive.
func (b *Bus) DescribeArchive(ctx context.Context, name string) (eventbus.Archive, error) {
	out, err := b.api.DescribeArchive(ctx, &eventbridge.DescribeArchiveInput{ArchiveName: &name})
	if err != nil {
		return eventbus.Archive{}, wrapErr(fmt.Sprintf("describe archive %q", name), err)
	}
	a := eventbus.Archive{Name: aws.ToString(out.ArchiveName), ARN: aws.ToString(out.ArchiveArn), Description: aws.ToString(out.Description),
		EventPattern: aws.ToString(out.EventPattern), EventCount: int(out.EventCount), SizeBytes: out.SizeBytes, CreationTime: aws.ToTime(out.CreationTime)}
	if out.RetentionDays != nil {
		a.Retention = time.Duration(*out.RetentionDays) * day
	}
	return a, nil
}

// DeleteArchive deletes an archive and its events.
func (b *Bus) DeleteArchive(ctx context.Context, name string) error {
	_, err := b.api.DeleteArchive(ctx, &eventbridge.DeleteArchiveInput{ArchiveName: &name})
	return wrapErr(fmt.Sprintf("delete archive %q", name), err)
}

// StartReplay starts replaying an archive's events of [Start, End) to the
// bus, to every rule or to opts.Rules. EventBridge replays
// asynchronously: DescribeReplay reports its progress.
func (b *Bus) StartReplay(ctx context.Context, opts eventbus.ReplayOptions) (eventbus.Replay, error) {
	op := fmt.Sprintf("start replay %q", opts.Name)
	if b.closed.Load() {
		return eventbus.Replay{}, errClosed(op)
	}
	a, err := b.DescribeArchive(ctx, opts.Archive)
	if err != nil {
		return eventbus.Replay{}, err
	}
	dest := &types.ReplayDestination{Arn: &b.arn}
	for _, r := range opts.Rules {
		rule, err := b.DescribeRule(ctx, r)
		if err != nil {
			return eventbus.Replay{}, err
		}
		dest.FilterArns = append(dest.FilterArns, rule.ARN)
	}
	in := &eventbridge.StartReplayInput{ReplayName: &opts.Name, EventSourceArn: &a.ARN, Destination: dest,
		EventStartTime: aws.Time(opts.Start), EventEndTime: aws.Time(opts.End)}
	if opts.Description != "" {
		in.Description = &opts.Description
	}
	out, err := b.api.StartReplay(ctx, in)
	if err != nil {
		return eventbus.Replay{}, wrapErr(op, err)
	}
	return eventbus.Replay{Name: opts.Name, ARN: aws.ToString(out.ReplayArn), Archive: opts.Archive, State: eventbus.ReplayState(out.State),
		Start: opts.Start, End: opts.End, ReplayStartTime: aws.ToTime(out.ReplayStartTime)}, nil
}

// DescribeReplay reports a replay.
func (b *Bus) DescribeReplay(ctx context.Context, name string) (eventbus.Replay, error) {
	out, err := b.api.DescribeReplay(ctx, &eventbridge.DescribeReplayInput{ReplayName: &name})
	if err != nil {
		return eventbus.Replay{}, wrapErr(fmt.Sprintf("describe replay %q", name), err)
	}
	arch := aws.ToString(out.EventSourceArn)
	if i := lastSlash(arch); i >= 0 {
		arch = arch[i+1:]
	}
	return eventbus.Replay{Name: aws.ToString(out.ReplayName), ARN: aws.ToString(out.ReplayArn), Archive: arch, State: eventbus.ReplayState(out.State),
		Start: aws.ToTime(out.EventStartTime), End: aws.ToTime(out.EventEndTime), ReplayStartTime: aws.ToTime(out.ReplayStartTime),
		ReplayEndTime: aws.ToTime(out.ReplayEndTime), EventLastReplayedTime: aws.ToTime(out.EventLastReplayedTime)}, nil
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}
