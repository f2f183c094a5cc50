package localaws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/localaws/internal/awsreq"
	"github.com/postroom/postroom/memory"
)

const (
	sqsXMLNS       = "http://queue.amazonaws.com/doc/2012-11-05/"
	sqsJSONType    = "application/x-amz-json-1.0"
	sqsQueryVer    = "2012-11-05"
	sqsTargetPrefx = "AmazonSQS."
)

// sqsCall is one SQS request being served.
type sqsCall struct {
	s      *Server
	ctx    context.Context
	r      *http.Request
	reg    *region
	base   string // scheme://host the client reached, for queue URLs
	action string
	in     *sqsInput
}

type sqsHandler func(c *sqsCall) (sqsOutput, *awsreq.Error)

var sqsActions map[string]sqsHandler

func init() {
	sqsActions = map[string]sqsHandler{
		"CreateQueue":                  (*sqsCall).createQueue,
		"GetQueueUrl":                  (*sqsCall).getQueueURL,
		"ListQueues":                   (*sqsCall).listQueues,
		"DeleteQueue":                  (*sqsCall).deleteQueue,
		"GetQueueAttributes":           (*sqsCall).getQueueAttributes,
		"SetQueueAttributes":           (*sqsCall).setQueueAttributes,
		"PurgeQueue":                   (*sqsCall).purgeQueue,
		"TagQueue":                     (*sqsCall).tagQueue,
		"UntagQueue":                   (*sqsCall).untagQueue,
		"ListQueueTags":                (*sqsCall).listQueueTags,
		"ListDeadLetterSourceQueues":   (*sqsCall).listDeadLetterSourceQueues,
		"SendMessage":                  (*sqsCall).sendMessage,
		"SendMessageBatch":             (*sqsCall).sendMessageBatch,
		"ReceiveMessage":               (*sqsCall).receiveMessage,
		"DeleteMessage":                (*sqsCall).deleteMessage,
		"DeleteMessageBatch":           (*sqsCall).deleteMessageBatch,
		"ChangeMessageVisibility":      (*sqsCall).changeMessageVisibility,
		"ChangeMessageVisibilityBatch": (*sqsCall).changeMessageVisibilityBatch,
		"StartMessageMoveTask":         (*sqsCall).startMessageMoveTask,
		"ListMessageMoveTasks":         (*sqsCall).listMessageMoveTasks,
		"CancelMessageMoveTask":        (*sqsCall).cancelMessageMoveTask,
		"AddPermission":                (*sqsCall).unsupported,
		"RemovePermission":             (*sqsCall).unsupported,
	}
}

// serveSQSJSON serves an AWS JSON 1.0 request (X-Amz-Target
// AmazonSQS.<action>).
func (s *Server) serveSQSJSON(w http.ResponseWriter, r *http.Request, rc *reqCtx, action string, body []byte) {
	rc.protocol, rc.action = "sqs-json", action
	fail := func(e *awsreq.Error) {
		rc.err = e
		awsreq.WriteJSONError(w, sqsJSONType, rc.id, e, true)
	}
	h := sqsActions[action]
	if h == nil {
		fail(awsreq.UnknownOperation())
		return
	}
	in, e := decodeJSONInput(body)
	if e != nil {
		fail(e)
		return
	}
	out, e := s.runSQS(r, rc, action, in, h)
	if e != nil {
		fail(e)
		return
	}
	w.Header().Set("Content-Type", sqsJSONType)
	w.Header().Set(awsreq.HeaderRequestID, rc.id)
	if out == nil {
		_, _ = w.Write([]byte("{}"))
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		fail(awsreq.Internal(err.Error()))
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b))) // not chunked
	_, _ = w.Write(b)
}

// serveSQSQuery serves a Query protocol request (Action=<action> form).
func (s *Server) serveSQSQuery(w http.ResponseWriter, r *http.Request, rc *reqCtx, form url.Values) {
	action := form.Get("Action")
	rc.protocol, rc.action = "sqs-query", action
	fail := func(e *awsreq.Error) {
		rc.err = e
		awsreq.WriteQueryError(w, sqsXMLNS, rc.id, e)
	}
	h := sqsActions[action]
	if h == nil {
		if action == "" {
			fail(awsreq.MissingParameter("Action"))
		} else {
			fail(awsreq.InvalidAction(action))
		}
		return
	}
	in, e := decodeQueryInput(form)
	if e != nil {
		fail(e)
		return
	}
	if in.QueueURL == "" && strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 1 {
		in.QueueURL = r.URL.Path // older Query clients post to the queue URL
	}
	out, e := s.runSQS(r, rc, action, in, h)
	if e != nil {
		fail(e)
		return
	}
	var b bytes.Buffer
	if out != nil {
		out.writeXML(&b)
	}
	awsreq.WriteQueryResponse(w, sqsXMLNS, action, rc.id, b.Bytes(), out != nil)
}

func (s *Server) runSQS(r *http.Request, rc *reqCtx, action string, in *sqsInput, h sqsHandler) (sqsOutput, *awsreq.Error) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel) // Close ends long polls
	defer stop()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	c := &sqsCall{s: s, ctx: ctx, r: r, reg: s.region(rc.region), base: scheme + "://" + r.Host, action: action, in: in}
	return h(c)
}

func (c *sqsCall) unsupported() (sqsOutput, *awsreq.Error) {
	return nil, &awsreq.Error{Code: "UnsupportedOperation", QueryCode: "AWS.SimpleQueueService.UnsupportedOperation",
		Message: c.action + " is not supported by this endpoint."}
}

// SQS's error shapes by the code package memory reports (the Query code),
// with the model's shape name and HTTP status.
var sqsShapes = map[string]struct {
	shape  string
	status int
}{
	"AWS.SimpleQueueService.NonExistentQueue":             {"QueueDoesNotExist", 400},
	"QueueAlreadyExists":                                  {"QueueNameExists", 400},
	"AWS.SimpleQueueService.QueueDeletedRecently":         {"QueueDeletedRecently", 400},
	"ReceiptHandleIsInvalid":                              {"ReceiptHandleIsInvalid", 404},
	"AWS.SimpleQueueService.MessageNotInflight":           {"MessageNotInflight", 400},
	"AWS.SimpleQueueService.EmptyBatchRequest":            {"EmptyBatchRequest", 400},
	"AWS.SimpleQueueService.TooManyEntriesInBatchRequest": {"TooManyEntriesInBatchRequest", 400},
	"AWS.SimpleQueueService.BatchEntryIdsNotDistinct":     {"BatchEntryIdsNotDistinct", 400},
	"AWS.SimpleQueueService.InvalidBatchEntryId":          {"InvalidBatchEntryId", 400},
	"AWS.SimpleQueueService.BatchRequestTooLong":          {"BatchRequestTooLong", 400},
	"AWS.SimpleQueueService.PurgeQueueInProgress":         {"PurgeQueueInProgress", 403},
	"AWS.SimpleQueueService.UnsupportedOperation":         {"UnsupportedOperation", 400},
	"InvalidAttributeName":                                {"InvalidAttributeName", 400},
	"InvalidAttributeValue":                               {"InvalidAttributeValue", 400},
	"InvalidMessageContents":                              {"InvalidMessageContents", 400},
	"InvalidIdFormat":                                     {"InvalidIdFormat", 400},
	"ResourceNotFoundException":                           {"ResourceNotFoundException", 404},
	"InvalidParameterValue":                               {"InvalidParameterValueException", 400},
	"MissingParameter":                                    {"MissingRequiredParameterException", 400},
}

// sqsError shapes an SQS error from its Query code and message.
func sqsError(queryCode, msg string) *awsreq.Error {
	if sh, ok := sqsShapes[queryCode]; ok {
		qc := queryCode
		if qc == sh.shape {
			qc = ""
		}
		return &awsreq.Error{Code: sh.shape, QueryCode: qc, Status: sh.status, Message: msg}
	}
	return &awsreq.Error{Code: queryCode, Message: msg}
}

var errNoSuchQueue = sqsError("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")

// fromBackend shapes an error of package memory.
func fromBackend(err error) *awsreq.Error {
	if code, msg, ok := codeOf(err); ok && code != "" {
		return sqsError(code, msg)
	}
	switch {
	case errors.Is(err, postroom.ErrClosed):
		return errNoSuchQueue
	case errors.Is(err, postroom.ErrNotFound):
		return errNoSuchQueue
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &awsreq.Error{Code: "RequestCanceled", Status: 499, Message: "The request was canceled."}
	}
	return awsreq.Internal(err.Error())
}

// missing is the error for an absent required parameter, shaped for SQS.
func missing(name string) *awsreq.Error {
	return sqsError("MissingParameter", "The request must contain the parameter "+name+".")
}

func invalidParam(msg string) *awsreq.Error { return sqsError("InvalidParameterValue", msg) }

// queueURL is the URL of queue name as the client reached the server.
func (c *sqsCall) queueURL(name string) string {
	return c.base + "/" + c.s.account + "/" + name
}

func (c *sqsCall) queueARN(name string) string {
	return "arn:aws:sqs:" + c.reg.name + ":" + c.s.account + ":" + name
}

// queue resolves the request's QueueUrl by its last two path segments
// (account and name), whatever its scheme, host and port. A host of the
// form sqs.<region>.… names the region.
func (c *sqsCall) queue() (*memory.Queue, *region, *awsreq.Error) {
	raw := c.in.QueueURL
	if raw == "" {
		return nil, nil, missing("QueueUrl")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, invalidAddress(raw)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 {
		return nil, nil, invalidAddress(raw)
	}
	account, name := parts[len(parts)-2], parts[len(parts)-1]
	if account != c.s.account {
		return nil, nil, errNoSuchQueue
	}
	reg := c.reg
	if host := u.Hostname(); strings.HasPrefix(host, "sqs.") {
		if r, _, ok := strings.Cut(strings.TrimPrefix(host, "sqs."), "."); ok && looksLikeRegion(r) {
			reg = c.s.region(r)
		}
	}
	q, err := reg.world.Queue(name)
	if err != nil {
		return nil, nil, errNoSuchQueue
	}
	return q, reg, nil
}

func invalidAddress(raw string) *awsreq.Error {
	return &awsreq.Error{Code: "InvalidAddress", Status: 404, Message: "The address " + raw + " is not valid for this endpoint."}
}

// looksLikeRegion reports whether s has the shape of an AWS region name
// ("eu-west-1", "us-gov-east-1").
func looksLikeRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	last := parts[len(parts)-1]
	if last == "" {
		return false
	}
	for _, ch := range last {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return true
}
