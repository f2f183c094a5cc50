package localaws

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/postroom/postroom/internal/sqsmd5"
	"github.com/postroom/postroom/localaws/internal/awsreq"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

// toAttributes converts message attributes from the wire.
func toAttributes(in map[string]sqsAttrValue) (queue.Attributes, *awsreq.Error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(queue.Attributes, len(in))
	for name, v := range in {
		if v.DataType == "" {
			return nil, invalidParam(fmt.Sprintf("The message attribute '%s' must contain non-empty message attribute type.", name))
		}
		a := queue.Attribute{Type: v.DataType}
		if isBinaryType(v.DataType) {
			a.Binary = v.BinaryValue
			if a.Binary == nil {
				a.Binary = []byte{}
			}
		} else if v.StringValue != nil {
			a.Value = *v.StringValue
		}
		out[name] = a
	}
	return out, nil
}

// sendInput makes the message of a SendMessage call or batch entry, with
// its system attributes: AWSTraceHeader from MessageSystemAttributes, else
// from the X-Amzn-Trace-Id header (trace).
func sendInput(e *sqsEntry, trace string) (*memory.SQSMessage, queue.Attributes, *awsreq.Error) {
	if e.MessageBody == nil {
		return nil, nil, missing("MessageBody")
	}
	attrs, err := toAttributes(e.MessageAttributes)
	if err != nil {
		return nil, nil, err
	}
	sys, err := toAttributes(e.MessageSystemAttributes)
	if err != nil {
		return nil, nil, err
	}
	for name, a := range sys {
		if name != "AWSTraceHeader" || a.Type != queue.TypeString {
			return nil, nil, invalidParam(fmt.Sprintf("Message system attribute name '%s' is invalid.", name))
		}
	}
	if trace != "" {
		if _, ok := sys["AWSTraceHeader"]; !ok {
			sys = queue.Attributes{"AWSTraceHeader": queue.String(trace)}
		}
	}
	m := &memory.SQSMessage{Message: queue.Message{
		Body:            []byte(*e.MessageBody),
		Attributes:      attrs,
		GroupID:         e.MessageGroupID,
		DeduplicationID: e.MessageDeduplicationID,
	}}
	if a, ok := sys["AWSTraceHeader"]; ok {
		m.TraceHeader = a.Value
	}
	d, given, perr := intParam(e.DelaySeconds, "DelaySeconds")
	if perr != nil {
		return nil, nil, perr
	}
	if given {
		m.Delay = time.Duration(d) * time.Second // 0: the queue's delay, as the Go SDK sends it
		if d < 0 || d > 900 {
			return nil, nil, invalidParam(fmt.Sprintf("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", d))
		}
	}
	return m, sys, nil
}

func sentOutput(m *memory.SQSMessage, sys queue.Attributes) *sendOutput {
	return &sendOutput{
		MessageID:              m.ID,
		MD5OfMessageBody:       sqsmd5.Body(m.Body),
		MD5OfMessageAttributes: sqsmd5.Attributes(m.Attributes),
		MD5OfSystemAttributes:  sqsmd5.Attributes(sys),
		SequenceNumber:         m.SequenceNumber,
	}
}

// traceHeader is the X-Amzn-Trace-Id header, which SQS keeps as the
// AWSTraceHeader system attribute.
func (c *sqsCall) traceHeader() string { return c.r.Header.Get("X-Amzn-Trace-Id") }

func (c *sqsCall) sendMessage() (sqsOutput, *awsreq.Error) {
	q, _, e := c.queue()
	if e != nil {
		return nil, e
	}
	m, sys, e := sendInput(&c.in.sqsEntry, c.traceHeader())
	if e != nil {
		return nil, e
	}
	if err := q.SendSQS(c.ctx, m); err != nil {
		return nil, fromBackend(entryErr(err, 0))
	}
	return sentOutput(m, sys), nil
}

var batchIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// checkEntries applies the batch rules: 1 to 10 entries with distinct,
// well-formed ids.
func (c *sqsCall) checkEntries(kind string) *awsreq.Error {
	n := len(c.in.Entries)
	switch {
	case n == 0:
		return sqsError("AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one "+kind+" in the request.")
	case n > 10:
		return sqsError("AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
			fmt.Sprintf("Maximum number of entries per request are %d. You have sent %d.", 10, n))
	}
	seen := make(map[string]bool, n)
	for _, e := range c.in.Entries {
		if !batchIDPattern.MatchString(e.ID) {
			return sqsError("AWS.SimpleQueueService.InvalidBatchEntryId",
				"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[e.ID] {
			return sqsError("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id "+e.ID+" repeated.")
		}
		seen[e.ID] = true
	}
	return nil
}

func failure(id string, e *awsreq.Error) batchFailure {
	code := e.QueryCode
	if code == "" {
		code = e.Code
	}
	return batchFailure{ID: id, SenderFault: !e.Receiver, Code: code, Message: e.Message}
}

func (c *sqsCall) sendMessageBatch() (sqsOutput, *awsreq.Error) {
	q, _, e := c.queue()
	if e != nil {
		return nil, e
	}
	if e := c.checkEntries("SendMessageBatchRequestEntry"); e != nil {
		return nil, e
	}
	out := &sendBatchOutput{Successful: []*sendOutput{}, Failed: []batchFailure{}}
	var (
		msgs []*memory.SQSMessage
		sys  []queue.Attributes
		ids  []string
	)
	for i := range c.in.Entries {
		en := &c.in.Entries[i]
		m, s, e := sendInput(en, c.traceHeader())
		if e != nil {
			out.Failed = append(out.Failed, failure(en.ID, e))
			continue
		}
		msgs, sys, ids = append(msgs, m), append(sys, s), append(ids, en.ID)
	}
	if len(msgs) == 0 {
		return out, nil
	}
	err := q.SendSQS(c.ctx, msgs...)
	if err != nil && !isBatchErr(err) {
		return nil, fromBackend(err)
	}
	for i, m := range msgs {
		if ee := entryErr(err, i); ee != nil {
			out.Failed = append(out.Failed, failure(ids[i], fromBackend(ee)))
			continue
		}
		so := sentOutput(m, sys[i])
		so.ID = ids[i]
		out.Successful = append(out.Successful, so)
	}
	return out, nil
}

// Message system attributes ReceiveMessage can return.
var systemAttrNames = []string{"SenderId", "SentTimestamp", "ApproximateReceiveCount",
	"ApproximateFirstReceiveTimestamp", "SequenceNumber", "MessageDeduplicationId", "MessageGroupId",
	"AWSTraceHeader", "DeadLetterQueueSourceArn"}

func (c *sqsCall) receiveMessage() (sqsOutput, *awsreq.Error) {
	q, _, e := c.queue()
	if e != nil {
		if c.s.ctx.Err() != nil {
			return &receiveOutput{}, nil // the server closed its queues: answer empty
		}
		return nil, e
	}
	var opts queue.ReceiveOptions
	n, given, e := intParam(c.in.MaxNumberOfMessages, "MaxNumberOfMessages")
	if e != nil {
		return nil, e
	}
	if given && (n < 1 || n > 10) {
		return nil, invalidParam(fmt.Sprintf("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", n))
	}
	opts.MaxMessages = int(n)
	wait, given, e := intParam(c.in.WaitTimeSeconds, "WaitTimeSeconds")
	if e != nil {
		return nil, e
	}
	if given && (wait < 0 || wait > 20) {
		return nil, invalidParam(fmt.Sprintf("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", wait))
	}
	if given {
		opts.WaitTime = time.Duration(wait) * time.Second
		if wait == 0 {
			opts.WaitTime = time.Nanosecond // an explicit short poll (0 means the queue default)
		}
	}
	vt, given, e := intParam(c.in.VisibilityTimeout, "VisibilityTimeout")
	if e != nil {
		return nil, e
	}
	if given && (vt < 0 || vt > 43200) {
		return nil, invalidParam(fmt.Sprintf("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", vt))
	}
	if given {
		opts.VisibilityTimeout = time.Duration(vt) * time.Second
		if vt == 0 {
			opts.VisibilityTimeout = time.Nanosecond // visible again at once
		}
	}
	ds, err := q.ReceiveSQS(c.ctx, memory.SQSReceiveOptions{ReceiveOptions: opts, AttemptID: c.in.ReceiveRequestAttempt})
	if err != nil {
		if c.s.ctx.Err() != nil {
			return &receiveOutput{}, nil // the server is closing: answer empty
		}
		return nil, fromBackend(err)
	}
	sysNames := append(append([]string{}, c.in.AttributeNames...), c.in.SystemAttributeNames...)
	out := &receiveOutput{}
	for _, d := range ds {
		m := &outMessage{
			MessageID:     d.ID,
			ReceiptHandle: d.Receipt,
			MD5OfBody:     sqsmd5.Body(d.Body),
			Body:          string(d.Body),
		}
		m.Attributes = c.systemAttributes(d, sysNames)
		sel := selectAttributes(d.Attributes, c.in.MessageAttributeNames)
		if len(sel) > 0 {
			m.MD5OfMessageAttributes = sqsmd5.Attributes(sel)
			m.MessageAttributes = make(map[string]outAttrValue, len(sel))
			for name, a := range sel {
				v := outAttrValue{DataType: a.Type}
				if isBinaryType(a.Type) {
					v.BinaryValue = a.Binary
				} else {
					s := a.Value
					v.StringValue = &s
				}
				m.MessageAttributes[name] = v
			}
		}
		out.Messages = append(out.Messages, m)
	}
	return out, nil
}

// systemAttributes returns the requested system attributes of d.
func (c *sqsCall) systemAttributes(d *memory.SQSDelivery, names []string) map[string]string {
	if len(names) == 0 {
		return nil
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "All" {
			for _, a := range systemAttrNames {
				want[a] = true
			}
		}
		want[n] = true
	}
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	all := map[string]string{
		"SenderId":                         c.s.account,
		"SentTimestamp":                    ms(d.SentAt),
		"ApproximateReceiveCount":          strconv.Itoa(d.ReceiveCount),
		"ApproximateFirstReceiveTimestamp": ms(d.FirstReceivedAt),
	}
	if d.SequenceNumber != "" {
		all["SequenceNumber"] = d.SequenceNumber
	}
	if d.DeduplicationID != "" {
		all["MessageDeduplicationId"] = d.DeduplicationID
	}
	if d.GroupID != "" {
		all["MessageGroupId"] = d.GroupID
	}
	if d.TraceHeader != "" {
		all["AWSTraceHeader"] = d.TraceHeader
	}
	if src := deadLetterSource(&d.Delivery); src != "" {
		all["DeadLetterQueueSourceArn"] = src
	}
	out := make(map[string]string)
	for k, v := range all {
		if want[k] {
			out[k] = v
		}
	}
	return out
}

// selectAttributes returns the attributes MessageAttributeNames selects:
// All or .* for every one, "prefix.*" by prefix, others by name.
func selectAttributes(attrs queue.Attributes, names []string) queue.Attributes {
	if len(attrs) == 0 || len(names) == 0 {
		return nil
	}
	out := make(queue.Attributes)
	for _, n := range names {
		switch {
		case n == "All" || n == ".*":
			return attrs
		case strings.HasSuffix(n, ".*"):
			prefix := strings.TrimSuffix(n, "*")
			for k, a := range attrs {
				if strings.HasPrefix(k, prefix) {
					out[k] = a
				}
			}
		default:
			if a, ok := attrs[n]; ok {
				out[n] = a
			}
		}
	}
	return out
}

func receipt(h string) *queue.Delivery { return &queue.Delivery{Receipt: h} }

func (c *sqsCall) deleteMessage() (sqsOutput, *awsreq.Error) {
	q, _, e := c.queue()
	if e != nil {
		return nil, e
	}
	if c.in.ReceiptHandle == nil {
		return nil, missing("ReceiptHandle")
	}
	if err := q.Ack(c.ctx, receipt(*c.in.ReceiptHandle)); err != nil {
		return nil, fromBackend(entryErr(err, 0))
	}
	return nil, nil
}

func (c *sqsCall) deleteMessageBatch() (sqsOutput, *awsreq.Error) {
	q, _, e := c.queue()
	if e != nil {
		return nil, e
	}
	if e := c.checkEntries("DeleteMessageBatchRequestEntry"); e != nil {
		return nil, e
	}
	ds := make([]*queue.Delivery, len(c.in.Entries))
	for i, en := range c.in.Entries {
		h := ""
		if en.EntryReceiptHandle != nil {
			h = *en.EntryReceiptHandle
		}
		ds[i] = receipt(h)
	}
	err := q.Ack(c.ctx, ds...)
	if err != nil && !isBatchErr(err) {
		return nil, fromBackend(err)
	}
	errs := make([]*awsreq.Error, len(ds))
	for i := range ds {
		if ee := entryErr(err, i); ee != nil {
			errs[i] = fromBackend(ee)
		}
	}
	return c.idBatch("DeleteMessageBatchResultEntry", errs), nil
}

// idBatch reports a batch of receipt operations; errs is index-aligned
// with the entries.
func (c *sqsCall) idBatch(entry string, errs []*awsreq.Error) sqsOutput {
	out := &idBatchOutput{entry: entry, Successful: []batchID{}, Failed: []batchFailure{}}
	for i, en := range c.in.Entries {
		if errs[i] != nil {
			out.Failed = append(out.Failed, failure(en.ID, errs[i]))
			continue
		}
		out.Successful = append(out.Successful, batchID{en.ID})
	}
	return out
}

func (c *sqsCall) changeMessageVisibility() (sqsOutput, *awsreq.Error) {
	q, _, e := c.queue()
	if e != nil {
		return nil, e
	}
	if c.in.ReceiptHandle == nil {
		return nil, missing("ReceiptHandle")
	}
	vt, given, e := intParam(c.in.VisibilityTimeout, "VisibilityTimeout")
	if e != nil {
		return nil, e
	}
	if !given {
		return nil, missing("VisibilityTimeout")
	}
	if err := q.Extend(c.ctx, time.Duration(vt)*time.Second, receipt(*c.in.ReceiptHandle)); err != nil {
		return nil, fromBackend(entryErr(err, 0))
	}
	return nil, nil
}

func (c *sqsCall) changeMessageVisibilityBatch() (sqsOutput, *awsreq.Error) {
	q, _, e := c.queue()
	if e != nil {
		return nil, e
	}
	if e := c.checkEntries("ChangeMessageVisibilityBatchRequestEntry"); e != nil {
		return nil, e
	}
	// Entries may carry different timeouts: change them one by one.
	errs := make([]*awsreq.Error, len(c.in.Entries))
	for i, en := range c.in.Entries {
		h := ""
		if en.EntryReceiptHandle != nil {
			h = *en.EntryReceiptHandle
		}
		vt, given, pe := intParam(en.EntryVisibilityTimeout, "VisibilityTimeout")
		switch {
		case pe != nil:
			errs[i] = pe
		case !given:
			errs[i] = missing("VisibilityTimeout")
		default:
			if err := q.Extend(c.ctx, time.Duration(vt)*time.Second, receipt(h)); err != nil {
				errs[i] = fromBackend(entryErr(err, 0))
			}
		}
	}
	return c.idBatch("ChangeMessageVisibilityBatchResultEntry", errs), nil
}
