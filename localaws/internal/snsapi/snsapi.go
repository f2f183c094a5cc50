// Package snsapi serves Amazon SNS's Query protocol (form-encoded
// requests, XML responses) from the topics of a memory world.
//
// Subscriptions of protocol sqs name a queue of the world by ARN and are
// delivered to through package memory, with SNS's JSON envelope or raw.
// Subscriptions to http and https endpoints get SNS's signed
// SubscriptionConfirmation, Notification and UnsubscribeConfirmation POSTs
// through package memory; email, email-json and sms subscriptions (pending
// confirmation, except sms) go to the world's outbox and nothing is sent.
// Errors are Query ErrorResponse documents with SNS's codes and HTTP
// statuses.
package snsapi

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/postroom/postroom"

	"github.com/postroom/postroom/localaws/internal/svcerr"
	"github.com/postroom/postroom/memory"
)

// Namespace is SNS's XML namespace.
const Namespace = "http://sns.amazonaws.com/doc/2010-03-31/"

// Error is an SNS error: its Query code, message and HTTP status.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Sender reports whether the client is at fault (Type Sender) rather than
// the server (Receiver).
func (e *Error) Sender() bool { return e.Status < 500 }

func invalid(format string, args ...any) *Error {
	return &Error{Code: "InvalidParameter", Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func paramValue(format string, args ...any) *Error {
	return &Error{Code: "ParameterValueInvalid", Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func notFound(msg string) *Error {
	return &Error{Code: "NotFound", Message: msg, Status: http.StatusNotFound}
}

// statusOf is the HTTP status SNS answers an error code with.
func statusOf(code string) int {
	switch code {
	case "NotFound", "ResourceNotFound":
		return http.StatusNotFound
	case "AuthorizationError", "InvalidSecurity", "SubscriptionLimitExceeded", "TopicLimitExceeded", "FilterPolicyLimitExceeded", "KMSOptInRequired":
		return http.StatusForbidden
	case "Throttled":
		return http.StatusTooManyRequests
	case "InternalError":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// ErrorOf returns the SNS error for err.
func ErrorOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	code, msg, kind := svcerr.Of(err)
	if code == "" {
		switch {
		case errors.Is(kind, postroom.ErrNotFound), errors.Is(kind, postroom.ErrClosed):
			code, msg = "NotFound", "Topic does not exist"
		case errors.Is(kind, postroom.ErrInvalid), errors.Is(kind, postroom.ErrTooLarge):
			code = "InvalidParameter"
		case errors.Is(kind, postroom.ErrTooManyEntries):
			code = "TooManyEntriesInBatchRequest"
		default:
			code = "InternalError"
		}
	}
	return &Error{Code: code, Message: msg, Status: statusOf(code)}
}

type handler func(s *server, ctx context.Context, form url.Values) (*response, error)

var actions map[string]handler

func init() {
	actions = map[string]handler{
		"CreateTopic":               (*server).createTopic,
		"DeleteTopic":               (*server).deleteTopic,
		"ListTopics":                (*server).listTopics,
		"GetTopicAttributes":        (*server).getTopicAttributes,
		"SetTopicAttributes":        (*server).setTopicAttributes,
		"Subscribe":                 (*server).subscribe,
		"ConfirmSubscription":       (*server).confirmSubscription,
		"Unsubscribe":               (*server).unsubscribe,
		"ListSubscriptions":         (*server).listSubscriptions,
		"ListSubscriptionsByTopic":  (*server).listSubscriptionsByTopic,
		"GetSubscriptionAttributes": (*server).getSubscriptionAttributes,
		"SetSubscriptionAttributes": (*server).setSubscriptionAttributes,
		"Publish":                   (*server).publish,
		"PublishBatch":              (*server).publishBatch,
		"TagResource":               (*server).tagResource,
		"UntagResource":             (*server).untagResource,
		"ListTagsForResource":       (*server).listTagsForResource,
	}
}

// Actions lists the actions served.
func Actions() []string {
	out := make([]string, 0, len(actions))
	for a := range actions {
		out = append(out, a)
	}
	return out
}

type server struct {
	world   *memory.World
	region  string
	account string
}

// Serve answers one SNS request whose form the router has parsed (Action,
// Version and the parameters), against world, for the region and account
// of the request's credentials.
func Serve(ctx context.Context, w http.ResponseWriter, r *http.Request, form url.Values, world *memory.World, region, account string) {
	id := requestID(w)
	out, err := Handle(ctx, form, world, region, account, id)
	w.Header().Set("Content-Type", "text/xml")
	if err != nil {
		e := ErrorOf(err)
		w.WriteHeader(e.Status)
		_, _ = io.WriteString(w, ErrorXML(e, id))
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// requestID takes the id the router set on the response, or makes one.
func requestID(w http.ResponseWriter) string {
	if id := w.Header().Get("X-Amzn-Requestid"); id != "" {
		return id
	}
	id := newID()
	w.Header().Set("X-Amzn-Requestid", id)
	return id
}

// Handle runs one action and returns its response document, or an error
// that Serve writes as an ErrorResponse (see ErrorOf).
func Handle(ctx context.Context, form url.Values, world *memory.World, region, account, requestID string) ([]byte, error) {
	action := form.Get("Action")
	h, ok := actions[action]
	if !ok {
		if action == "" {
			return nil, &Error{Code: "MissingAction", Message: "Missing Action", Status: http.StatusBadRequest}
		}
		return nil, &Error{Code: "InvalidAction", Message: "The action " + action + " is not valid for this endpoint.", Status: http.StatusBadRequest}
	}
	s := &server{world: world, region: region, account: account}
	r, err := h(s, ctx, form)
	if err != nil {
		return nil, err
	}
	return r.xml(action, requestID), nil
}

// ErrorXML writes an ErrorResponse document.
func ErrorXML(e *Error, requestID string) string {
	typ := "Sender"
	if !e.Sender() {
		typ = "Receiver"
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<ErrorResponse xmlns="` + Namespace + `"><Error><Type>` + typ + `</Type><Code>`)
	escape(&b, e.Code)
	b.WriteString(`</Code><Message>`)
	escape(&b, e.Message)
	b.WriteString(`</Message><Detail/></Error><RequestId>`)
	escape(&b, requestID)
	b.WriteString(`</RequestId></ErrorResponse>`)
	return b.String()
}

func escape(b *strings.Builder, s string) { _ = xml.EscapeText(b, []byte(s)) }

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
