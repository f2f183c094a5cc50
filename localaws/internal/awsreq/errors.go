package awsreq

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// Error is an AWS error as the endpoint answers it.
type Error struct {
	// Code is the model's shape name ("QueueDoesNotExist"): the JSON
	// protocols' __type.
	Code string
	// QueryCode is the Query protocol's code where the model gives one
	// ("AWS.SimpleQueueService.NonExistentQueue"): Query <Code> and SQS
	// JSON's x-amzn-query-error header. Empty means Code.
	QueryCode string
	// Status is the HTTP status; 0 means 400.
	Status int
	// Message is the human-readable text.
	Message string
	// Receiver marks a server fault (Type Receiver); otherwise Sender.
	Receiver bool
}

func (e *Error) Error() string { return e.queryCode() + ": " + e.Message }

func (e *Error) queryCode() string {
	if e.QueryCode != "" {
		return e.QueryCode
	}
	return e.Code
}

func (e *Error) status() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

func (e *Error) fault() string {
	if e.Receiver {
		return "Receiver"
	}
	return "Sender"
}

// InvalidAction is the Query protocol's answer to an unknown Action.
func InvalidAction(action string) *Error {
	return &Error{Code: "InvalidAction", Message: "The action " + action + " is not valid for this endpoint."}
}

// UnknownOperation is the JSON protocols' answer to an unknown X-Amz-Target.
func UnknownOperation() *Error {
	return &Error{Code: "UnknownOperationException", Message: ""}
}

// MissingParameter is AWS's error for an absent required parameter.
func MissingParameter(name string) *Error {
	return &Error{Code: "MissingParameter", Message: "The request must contain the parameter " + name + "."}
}

// InvalidParameterValue is AWS's generic bad-parameter error.
func InvalidParameterValue(msg string) *Error {
	return &Error{Code: "InvalidParameterValue", Message: msg}
}

// Internal is a server fault.
func Internal(msg string) *Error {
	return &Error{Code: "InternalFailure", Status: http.StatusInternalServerError, Message: msg, Receiver: true}
}

// Header names set on every response.
const HeaderRequestID = "x-amzn-RequestId"

// WriteJSONError writes e in the AWS JSON protocols' shape: a body
// {"__type": Code, "message": Message} with contentType
// ("application/x-amz-json-1.0" or "-1.1"). With queryCompatible (SQS), the
// x-amzn-query-error header carries the Query code and fault.
func WriteJSONError(w http.ResponseWriter, contentType, requestID string, e *Error, queryCompatible bool) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set(HeaderRequestID, requestID)
	if queryCompatible {
		h.Set("x-amzn-query-error", e.queryCode()+";"+e.fault())
	}
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Code, e.Message})
	w.WriteHeader(e.status())
	_, _ = w.Write(body)
}

// WriteQueryError writes e as a Query protocol ErrorResponse in namespace
// xmlns.
func WriteQueryError(w http.ResponseWriter, xmlns, requestID string, e *Error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<ErrorResponse xmlns="` + xmlns + `"><Error><Type>`)
	b.WriteString(e.fault())
	b.WriteString(`</Type><Code>`)
	EscapeXML(&b, e.queryCode())
	b.WriteString(`</Code><Message>`)
	EscapeXML(&b, e.Message)
	b.WriteString(`</Message><Detail/></Error><RequestId>`)
	b.WriteString(requestID)
	b.WriteString(`</RequestId></ErrorResponse>`)
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set(HeaderRequestID, requestID)
	w.WriteHeader(e.status())
	_, _ = w.Write(b.Bytes())
}

// WriteQueryResponse writes a Query protocol success envelope for action in
// namespace xmlns. result is the inner XML of <{action}Result>; with
// hasResult false (operations without output) the envelope holds only the
// response metadata.
func WriteQueryResponse(w http.ResponseWriter, xmlns, action, requestID string, result []byte, hasResult bool) {
	var b bytes.Buffer
	b.Grow(len(result) + 256)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString("<" + action + `Response xmlns="` + xmlns + `">`)
	if hasResult {
		b.WriteString("<" + action + "Result>")
		b.Write(result)
		b.WriteString("</" + action + "Result>")
	}
	b.WriteString("<ResponseMetadata><RequestId>" + requestID + "</RequestId></ResponseMetadata>")
	b.WriteString("</" + action + "Response>")
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set(HeaderRequestID, requestID)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// EscapeXML writes s to b as XML character data: &, <, >, " and ' as
// entities, and CR as &#xD; so that XML parsers do not fold "\r\n" into
// "\n" and change message bodies.
func EscapeXML(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&apos;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// IsForm reports whether a Content-Type is a form post (the Query
// protocol).
func IsForm(contentType string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "application/x-www-form-urlencoded")
}
