// Package eventsapi serves Amazon EventBridge's AWS JSON 1.1 protocol
// (X-Amz-Target: AWSEvents.<Action>) from the buses of a memory world.
//
// Requests name buses by name or ARN; rules, targets, archives and replays
// live in the memory buses. Targets given by the ARN of a queue or topic of
// the world deliver into it. Errors are EventBridge's JSON errors: a
// "__type" with the model's shape name and a "message", with HTTP 400 for
// client faults.
package eventsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/postroom/postroom"

	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/localaws/internal/svcerr"
	"github.com/postroom/postroom/memory"
)

// MaxBody is the largest request body accepted: ten 1 MB entries of
// PutEvents plus the JSON around them.
const MaxBody = 11 << 20

// apiError is an EventBridge error: its shape name, message and status.
type apiError struct {
	Type    string
	Message string
	Status  int
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func validation(format string, args ...any) *apiError {
	return &apiError{Type: "ValidationException", Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{Type: "ResourceNotFoundException", Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// fromErr turns an error of the memory bus into EventBridge's error.
func fromErr(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	code, msg, kind := svcerr.Of(err)
	if code == "" {
		switch {
		case errors.Is(err, eventbus.ErrInvalidPattern):
			code = "InvalidEventPatternException"
		case errors.Is(err, eventbus.ErrLimitExceeded):
			code = "LimitExceededException"
		case errors.Is(kind, postroom.ErrNotFound), errors.Is(kind, postroom.ErrClosed):
			code = "ResourceNotFoundException"
		case errors.Is(kind, postroom.ErrExists):
			code = "ResourceAlreadyExistsException"
		case errors.Is(kind, postroom.ErrInvalid), errors.Is(kind, postroom.ErrTooLarge), errors.Is(kind, postroom.ErrTooManyEntries):
			code = "ValidationException"
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return &apiError{Type: "InternalException", Message: "the request was cancelled", Status: http.StatusInternalServerError}
		default:
			return &apiError{Type: "InternalException", Message: msg, Status: http.StatusInternalServerError}
		}
	}
	return &apiError{Type: code, Message: msg, Status: http.StatusBadRequest}
}

// server answers one request.
type server struct {
	world   *memory.World
	region  string
	account string
}

type handler func(s *server, ctx context.Context, body []byte) (any, error)

var actions map[string]handler

func init() {
	actions = map[string]handler{
		"PutEvents":             (*server).putEvents,
		"PutRule":               (*server).putRule,
		"DeleteRule":            (*server).deleteRule,
		"DescribeRule":          (*server).describeRule,
		"ListRules":             (*server).listRules,
		"EnableRule":            (*server).enableRule,
		"DisableRule":           (*server).disableRule,
		"PutTargets":            (*server).putTargets,
		"RemoveTargets":         (*server).removeTargets,
		"ListTargetsByRule":     (*server).listTargetsByRule,
		"ListRuleNamesByTarget": (*server).listRuleNamesByTarget,
		"TestEventPattern":      (*server).testEventPattern,
		"CreateEventBus":        (*server).createEventBus,
		"DeleteEventBus":        (*server).deleteEventBus,
		"DescribeEventBus":      (*server).describeEventBus,
		"ListEventBuses":        (*server).listEventBuses,
		"CreateArchive":         (*server).createArchive,
		"DescribeArchive":       (*server).describeArchive,
		"DeleteArchive":         (*server).deleteArchive,
		"ListArchives":          (*server).listArchives,
		"StartReplay":           (*server).startReplay,
		"DescribeReplay":        (*server).describeReplay,
		"ListReplays":           (*server).listReplays,
		"CancelReplay":          (*server).cancelReplay,
	}
}

// Actions lists the actions served, for documentation and tests.
func Actions() []string {
	out := make([]string, 0, len(actions))
	for a := range actions {
		out = append(out, a)
	}
	return out
}

// Serve answers one EventBridge request whose action (from X-Amz-Target,
// without the "AWSEvents." prefix) and body the router has read, against
// world, for the region and account of the request's credentials.
func Serve(ctx context.Context, w http.ResponseWriter, r *http.Request, action string, body []byte, world *memory.World, region, account string) {
	if w.Header().Get("X-Amzn-Requestid") == "" {
		w.Header().Set("X-Amzn-Requestid", newID())
	}
	out, err := Handle(ctx, action, body, world, region, account)
	if err != nil {
		writeError(w, fromErr(err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// Handle runs one action and returns the JSON response body, or an error
// that Serve writes as EventBridge's error (a *Error).
func Handle(ctx context.Context, action string, body []byte, world *memory.World, region, account string) ([]byte, error) {
	h, ok := actions[action]
	if !ok {
		return nil, &apiError{Type: "UnknownOperationException", Message: "The action " + action + " is not valid for this web service.", Status: http.StatusBadRequest}
	}
	if len(body) > MaxBody {
		return nil, validation("Request body is larger than %d bytes.", MaxBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	s := &server{world: world, region: region, account: account}
	out, err := h(s, ctx, body)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(out)
}

// Error is the error Handle returns: EventBridge's shape name, message and
// HTTP status.
type Error = apiError

// ErrorOf returns the EventBridge error for err.
func ErrorOf(err error) *Error { return fromErr(err) }

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.Status)
	b, _ := json.Marshal(map[string]string{"__type": e.Type, "message": e.Message})
	_, _ = w.Write(b)
}

// decode reads a request body strictly enough to refuse what EventBridge
// refuses: malformed JSON and members of the wrong type.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &apiError{Type: "SerializationException", Message: fmt.Sprintf("Unexpected value for %s", te.Field), Status: http.StatusBadRequest}
		}
		return &apiError{Type: "SerializationException", Message: "Start of structure or map found where not expected.", Status: http.StatusBadRequest}
	}
	return nil
}

// epoch is a timestamp as the JSON protocols write it: seconds since 1970,
// with a fraction.
type epoch float64

func toEpoch(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(float64(t.UnixMilli()) / 1000)
	return &e
}

func (e *epoch) time() time.Time {
	if e == nil {
		return time.Time{}
	}
	sec, frac := math.Modf(float64(*e))
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// busName takes a bus name or ARN; empty is "default".
func busName(s string) string {
	if s == "" {
		return "default"
	}
	if strings.HasPrefix(s, "arn:") {
		if i := strings.Index(s, ":event-bus/"); i >= 0 {
			return s[i+len(":event-bus/"):]
		}
	}
	return s
}

func (s *server) bus(nameOrARN string) (*memory.Bus, error) {
	name := busName(nameOrARN)
	b, err := s.world.Bus(name)
	if err != nil {
		return nil, notFound("Event bus %s does not exist.", name)
	}
	return b, nil
}
