package snsapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"

	"github.com/postroom/postroom"

	"github.com/postroom/postroom/pubsub"
)

// message reads one message's parameters: "<prefix>Message",
// "<prefix>Subject", and the rest.
func message(form url.Values, prefix string) (*pubsub.Message, error) {
	body := form.Get(prefix + "Message")
	if body == "" {
		return nil, invalid("Invalid parameter: Empty message")
	}
	attrs, err := messageAttributes(form, prefix+"MessageAttributes")
	if err != nil {
		return nil, err
	}
	switch form.Get(prefix + "MessageStructure") {
	case "":
	case "json":
		// One message per protocol: SQS subscriptions take "sqs", or
		// "default".
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			return nil, invalid("Invalid parameter: Message Structure - JSON message body failed to parse")
		}
		def, ok := m["default"].(string)
		if !ok {
			return nil, invalid("Invalid parameter: Message Structure - No default entry in JSON message body")
		}
		body = def
		if v, ok := m["sqs"].(string); ok {
			body = v
		}
	default:
		return nil, invalid("Invalid parameter: MessageStructure")
	}
	return &pubsub.Message{Body: []byte(body), Subject: form.Get(prefix + "Subject"), Attributes: attrs,
		GroupID: form.Get(prefix + "MessageGroupId"), DeduplicationID: form.Get(prefix + "MessageDeduplicationId")}, nil
}

func (s *server) publish(ctx context.Context, form url.Values) (*response, error) {
	param := "TopicArn"
	if form.Get(param) == "" {
		if form.Get("PhoneNumber") != "" {
			return nil, invalid("Invalid parameter: PhoneNumber Reason: SMS publishing is not supported by this endpoint")
		}
		param = "TargetArn"
	}
	t, err := s.topic(form, param)
	if err != nil {
		return nil, err
	}
	m, err := message(form, "")
	if err != nil {
		return nil, err
	}
	if err := t.Publish(ctx, m); err != nil {
		var be *postroom.BatchError
		if errors.As(err, &be) && len(be.Errs) == 1 {
			return nil, be.Errs[0]
		}
		return nil, err
	}
	return result().el("MessageId", m.ID), nil
}

// validBatchID is SNS's rule for a batch entry id: 1 to 80 characters
// from [A-Za-z0-9_-].
func validBatchID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (s *server) publishBatch(ctx context.Context, form url.Values) (*response, error) {
	t, err := s.topic(form, "TopicArn")
	if err != nil {
		return nil, err
	}
	const prefix = "PublishBatchRequestEntries.member"
	ns, err := indices(form, prefix)
	if err != nil {
		return nil, err
	}
	switch {
	case len(ns) == 0:
		return nil, &Error{Code: "EmptyBatchRequest", Message: "The batch request doesn't contain any entries", Status: 400}
	case len(ns) > 10:
		return nil, &Error{Code: "TooManyEntriesInBatchRequest", Message: "The batch request contains more entries than permissible", Status: 400}
	}
	ids := make([]string, len(ns))
	seen := map[string]bool{}
	for i, n := range ns {
		id := form.Get(prefix + "." + strconv.Itoa(n) + ".Id")
		if !validBatchID(id) {
			return nil, &Error{Code: "InvalidBatchEntryId", Message: "The Id of a batch entry in a batch request doesn't abide by the specification", Status: 400}
		}
		if seen[id] {
			return nil, &Error{Code: "BatchEntryIdsNotDistinct", Message: "Two or more batch entries in the request have the same Id", Status: 400}
		}
		seen[id], ids[i] = true, id
	}
	// Entries that fail to parse fail alone, like those the topic refuses.
	errs := make([]error, len(ns))
	var msgs []*pubsub.Message
	var at []int
	for i, n := range ns {
		m, err := message(form, prefix+"."+strconv.Itoa(n)+".")
		if err != nil {
			errs[i] = err
			continue
		}
		msgs = append(msgs, m)
		at = append(at, i)
	}
	if len(msgs) > 0 {
		if err := t.Publish(ctx, msgs...); err != nil {
			var be *postroom.BatchError
			if !errors.As(err, &be) {
				return nil, err
			}
			for j, e := range be.Errs {
				errs[at[j]] = e
			}
		}
	}
	r := result().open("Successful")
	for j, m := range msgs {
		if errs[at[j]] == nil {
			r.open("member").el("Id", ids[at[j]]).el("MessageId", m.ID).close("member")
		}
	}
	r.close("Successful").open("Failed")
	for i, err := range errs {
		if err == nil {
			continue
		}
		e := ErrorOf(err)
		r.open("member").el("Id", ids[i]).el("Code", e.Code).el("Message", e.Message).
			el("SenderFault", strconv.FormatBool(e.Sender())).close("member")
	}
	return r.close("Failed"), nil
}
