package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/pubsub"
)

var publishVerb = &verb{
	name: "publish",
	args: "TOPIC-URL [BODY]",
	summary: `Publishes one message to a topic, like aws sns publish, and prints
{"MessageId"}. The body is BODY, or standard input when BODY is absent or
"-".`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
		mf := addMessageFlags(fs, "topics")
		subject := fs.String("subject", "", "the SNS subject (a String attribute \"Subject\" on brokers)")
		return func(ctx context.Context, e *env, args []string) error {
			body, at, err := mf.read(e, args)
			if err != nil {
				return err
			}
			if err := checkScheme("publish", args[0], "topic", pubsub.Schemes(), ""); err != nil {
				return err
			}
			t, err := pubsub.Open(ctx, args[0])
			if err != nil {
				return failed(err)
			}
			defer t.Close()
			m := &pubsub.Message{Body: body, Subject: *subject, Attributes: at, GroupID: *mf.group, DeduplicationID: *mf.dedup}
			if err := t.Publish(ctx, m); err != nil {
				return failed(firstError(err))
			}
			return writeJSON(e.stdout, struct{ MessageId string }{m.ID})
		}
	},
}

var putEventsVerb = &verb{
	name: "put-events",
	args: "BUS-URL",
	summary: `Puts events on an event bus, like aws events put-events, and prints
{"FailedEntryCount", "Entries": [{"EventId"} or {"ErrorCode",
"ErrorMessage"}]}. One event from --source, --detail-type and --detail, or
1 to 10 from --entries in the AWS CLI's shape (EventBusName is ignored: the
URL names the bus). When some entries fail it prints the result and exits
with 1.`,
	flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
		source := fs.String("source", "", "the event's source, e.g. com.example.orders")
		detailType := fs.String("detail-type", "", "the event's detail-type, e.g. \"Order Placed\"")
		detail := fs.String("detail", "", "the event's detail: a JSON object, file://path or - for standard input (default {})")
		resources := fs.String("resources", "", "comma-separated resource ARNs")
		entries := fs.String("entries", "", `entries as aws events put-events takes them: JSON
[{"Source": …, "DetailType": …, "Detail": "{…}", "Resources": […], "Time": …}]
or file://path`)
		return func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args, 1, 1); err != nil {
				return err
			}
			var events []*eventbus.Event
			switch {
			case *entries != "" && (*source != "" || *detailType != "" || *detail != "" || *resources != ""):
				return usageErrorf("put-events: --entries goes alone, without --source, --detail-type, --detail or --resources")
			case *entries != "":
				b, err := readArg(e, "entries", *entries)
				if err != nil {
					return err
				}
				if events, err = parseEntries(b); err != nil {
					return usageErrorf("put-events: --entries: %v", err)
				}
			default:
				d := []byte("{}")
				if *detail != "" {
					var err error
					if d, err = readArg(e, "detail", *detail); err != nil {
						return err
					}
				}
				ev := &eventbus.Event{Source: *source, DetailType: *detailType, Detail: d}
				if *resources != "" {
					ev.Resources = strings.Split(*resources, ",")
				}
				events = []*eventbus.Event{ev}
			}
			if err := checkScheme("put-events", args[0], "event bus", eventbus.Schemes(), ""); err != nil {
				return err
			}
			bus, err := eventbus.Open(ctx, args[0])
			if err != nil {
				return failed(err)
			}
			defer bus.Close()
			perr := bus.Put(ctx, events...)
			var be *postroom.BatchError
			if perr != nil && !errors.As(perr, &be) {
				return failed(perr)
			}
			out := struct {
				FailedEntryCount int
				Entries          []putEntry
			}{Entries: make([]putEntry, len(events))}
			for i, ev := range events {
				if be != nil && i < len(be.Errs) && be.Errs[i] != nil {
					out.FailedEntryCount++
					out.Entries[i] = entryError(be.Errs[i])
					continue
				}
				out.Entries[i] = putEntry{EventId: ev.ID}
			}
			if err := writeJSON(e.stdout, out); err != nil {
				return failed(err)
			}
			if out.FailedEntryCount > 0 {
				return &exitError{code: exitFailed, err: fmt.Errorf("put-events: %d of %d entries failed: %w", out.FailedEntryCount, len(events), firstError(perr))}
			}
			return nil
		}
	},
}

// putEntry is an entry of PutEvents' result.
type putEntry struct {
	EventId      string `json:",omitempty"`
	ErrorCode    string `json:",omitempty"`
	ErrorMessage string `json:",omitempty"`
}

// entryError describes a failed entry as PutEvents does: the service's
// error code where the driver kept it, else the kind of failure.
func entryError(err error) (e putEntry) {
	var pe *postroom.Error
	switch {
	case errors.As(err, &pe) && pe.Code != "":
		e.ErrorCode, e.ErrorMessage = pe.Code, pe.Message
	case errors.Is(err, postroom.ErrInvalid):
		e.ErrorCode, e.ErrorMessage = "ValidationException", err.Error()
	default:
		e.ErrorCode, e.ErrorMessage = "InternalFailure", err.Error()
	}
	if e.ErrorMessage == "" {
		e.ErrorMessage = err.Error()
	}
	return e
}

// parseEntries reads put-events --entries.
func parseEntries(b []byte) ([]*eventbus.Event, error) {
	var in []struct {
		Source       string
		DetailType   string
		Detail       string
		Resources    []string
		Time         json.RawMessage
		EventBusName string
		TraceHeader  string
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf(`want [{"Source": …, "DetailType": …, "Detail": "{…}"}]: %v`, err)
	}
	if len(in) == 0 {
		return nil, errors.New("no entries")
	}
	events := make([]*eventbus.Event, len(in))
	for i, en := range in {
		ev := &eventbus.Event{Source: en.Source, DetailType: en.DetailType, Detail: json.RawMessage(en.Detail), Resources: en.Resources, TraceHeader: en.TraceHeader}
		if len(en.Time) > 0 && string(en.Time) != "null" {
			t, err := parseTime(en.Time)
			if err != nil {
				return nil, fmt.Errorf("entry %d: Time: %v", i+1, err)
			}
			ev.Time = t
		}
		events[i] = ev
	}
	return events, nil
}

// parseTime reads a timestamp as the AWS CLI does: ISO 8601 text or
// seconds since the epoch.
func parseTime(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var n float64
		if err := json.Unmarshal(raw, &n); err != nil {
			return time.Time{}, errors.New("want ISO 8601 text or seconds since the epoch")
		}
		return time.UnixMilli(int64(n * 1000)).UTC(), nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.UnixMilli(int64(n * 1000)).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not ISO 8601 text or seconds since the epoch", s)
}
