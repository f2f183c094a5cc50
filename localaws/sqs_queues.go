package localaws

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postroom/postroom/localaws/internal/awsreq"
	"github.com/postroom/postroom/memory"
)

// Queue attributes: the ones package memory acts on, the ones the endpoint
// only stores, and the read-only ones.
var (
	intAttrs = map[string]bool{"DelaySeconds": true, "MaximumMessageSize": true, "MessageRetentionPeriod": true,
		"ReceiveMessageWaitTimeSeconds": true, "VisibilityTimeout": true}
	storedAttrs = map[string]bool{"Policy": true, "RedriveAllowPolicy": true, "KmsMasterKeyId": true,
		"KmsDataKeyReusePeriodSeconds": true, "SqsManagedSseEnabled": true}
	fifoAttrs     = map[string]bool{"FifoQueue": true, "ContentBasedDeduplication": true, "DeduplicationScope": true, "FifoThroughputLimit": true}
	readOnlyAttrs = []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
		"ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn"}
)

func badAttrValue(name string) *awsreq.Error {
	return sqsError("InvalidAttributeValue", "Invalid value for the parameter "+name+".")
}

func unknownAttr(name string) *awsreq.Error {
	return sqsError("InvalidAttributeName", "Unknown Attribute "+name+".")
}

// applyAttributes applies CreateQueue/SetQueueAttributes attributes to opts
// and stored, for a queue of the given kind.
func (c *sqsCall) applyAttributes(attrs map[string]string, fifo bool, opts *memory.QueueOptions, stored map[string]string) *awsreq.Error {
	for _, name := range sortedKeys(attrs) {
		v := attrs[name]
		switch {
		case intAttrs[name]:
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return badAttrValue(name)
			}
			d := time.Duration(n) * time.Second
			switch name {
			case "DelaySeconds":
				opts.Delay = d
			case "MaximumMessageSize":
				opts.MaxMessageSize = n
			case "MessageRetentionPeriod":
				opts.Retention = d
			case "ReceiveMessageWaitTimeSeconds":
				opts.ReceiveWaitTime = d
			case "VisibilityTimeout":
				opts.VisibilityTimeout = d
			}
			if n < 0 || (name != "DelaySeconds" && name != "ReceiveMessageWaitTimeSeconds" && name != "VisibilityTimeout" && n == 0) {
				return badAttrValue(name)
			}
		case fifoAttrs[name]:
			if !fifo {
				if name == "FifoQueue" && v == "false" {
					continue
				}
				return unknownAttr(name)
			}
			switch name {
			case "FifoQueue":
				if v != "true" {
					return badAttrValue(name)
				}
			case "ContentBasedDeduplication":
				b, err := strconv.ParseBool(v)
				if err != nil {
					return badAttrValue(name)
				}
				opts.ContentBasedDeduplication = b
			case "DeduplicationScope":
				if s := memory.DedupScope(v); s != memory.DedupScopeQueue && s != memory.DedupScopeMessageGroup {
					return badAttrValue(name)
				}
				opts.DeduplicationScope = memory.DedupScope(v)
			case "FifoThroughputLimit":
				if v != "perQueue" && v != "perMessageGroupId" {
					return badAttrValue(name)
				}
				stored[name] = v
			}
		case name == "RedrivePolicy":
			rp, e := c.redrivePolicy(v, fifo)
			if e != nil {
				return e
			}
			opts.RedrivePolicy = rp
		case name == "RedriveAllowPolicy":
			if e := checkRedriveAllow(v); e != nil {
				return e
			}
			stored[name] = v
		case storedAttrs[name]:
			stored[name] = v
		default:
			return unknownAttr(name)
		}
	}
	return nil
}

// redrivePolicy parses a RedrivePolicy attribute; "" removes the policy.
func (c *sqsCall) redrivePolicy(v string, fifo bool) (*memory.RedrivePolicy, *awsreq.Error) {
	if v == "" {
		return nil, nil
	}
	bad := func(reason string) *awsreq.Error {
		return invalidParam(fmt.Sprintf("Value %s for parameter RedrivePolicy is invalid. Reason: %s", v, reason))
	}
	var p struct {
		Target string          `json:"deadLetterTargetArn"`
		Max    json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return nil, bad("Redrive policy is not a valid JSON map.")
	}
	if p.Target == "" {
		return nil, bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
	}
	maxStr := strings.Trim(string(p.Max), `"`)
	max, err := strconv.Atoi(maxStr)
	if err != nil {
		return nil, bad("Redrive policy does not contain mandatory attribute: maxReceiveCount.")
	}
	dlq, qerr := c.reg.world.QueueByARN(p.Target)
	if qerr != nil {
		return nil, bad("Dead letter target does not exist.")
	}
	allow := c.reg.storedAttr(dlq.Name(), "RedriveAllowPolicy")
	if allow != "" && !redriveAllowed(allow, c.queueARN(c.queueName())) {
		return nil, bad("Queue " + p.Target + " does not allow this queue to use it as its dead-letter queue.")
	}
	if max < 1 || max > 1000 {
		return nil, bad(fmt.Sprintf("Invalid value for maxReceiveCount: %d, valid values are from 1 to 1000 both inclusive.", max))
	}
	if dlq.FIFO() != fifo {
		return nil, bad("Dead-letter target must be of the same type (standard or FIFO) as the source queue.")
	}
	return &memory.RedrivePolicy{DeadLetterQueue: dlq, MaxReceiveCount: max}, nil
}

type redriveAllowPolicy struct {
	Permission string   `json:"redrivePermission"`
	Sources    []string `json:"sourceQueueArns"`
}

func checkRedriveAllow(v string) *awsreq.Error {
	bad := func(reason string) *awsreq.Error {
		return invalidParam(fmt.Sprintf("Value %s for parameter RedriveAllowPolicy is invalid. Reason: %s", v, reason))
	}
	var p redriveAllowPolicy
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return bad("Invalid value for redrivePermission.")
	}
	switch p.Permission {
	case "allowAll", "denyAll":
		if len(p.Sources) > 0 {
			return bad("Only specify sourceQueueArns with redrivePermission set to byQueue.")
		}
	case "byQueue":
		if len(p.Sources) == 0 || len(p.Sources) > 10 {
			return bad("Specify 1 to 10 sourceQueueArns with redrivePermission set to byQueue.")
		}
	default:
		return bad("Invalid value for redrivePermission.")
	}
	return nil
}

func redriveAllowed(policy, sourceARN string) bool {
	var p redriveAllowPolicy
	if json.Unmarshal([]byte(policy), &p) != nil {
		return true
	}
	switch p.Permission {
	case "denyAll":
		return false
	case "byQueue":
		return slices.Contains(p.Sources, sourceARN)
	}
	return true
}

// queueName is the name of the queue the request is about: QueueName, or
// the last segment of QueueUrl.
func (c *sqsCall) queueName() string {
	if c.in.QueueName != "" {
		return c.in.QueueName
	}
	u := strings.TrimRight(c.in.QueueURL, "/")
	return u[strings.LastIndexByte(u, '/')+1:]
}

func (r *region) storedAttr(queue, name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.meta[queue]; m != nil {
		return m.attrs[name]
	}
	return ""
}

func (c *sqsCall) createQueue() (sqsOutput, *awsreq.Error) {
	name := c.in.QueueName
	if name == "" {
		return nil, missing("QueueName")
	}
	fifo := c.in.Attributes["FifoQueue"] == "true"
	if strings.HasSuffix(name, ".fifo") != fifo {
		if fifo {
			return nil, invalidParam("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
		}
		return nil, invalidParam("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if q, err := c.reg.world.Queue(name); err == nil {
		// Idempotent with the same attributes.
		current := c.attributes(q, c.reg)
		for _, k := range sortedKeys(c.in.Attributes) {
			if !sameAttr(k, c.in.Attributes[k], current[k]) {
				return nil, sqsError("QueueAlreadyExists", "A queue already exists with the same name and a different value for attribute "+k)
			}
		}
		return &queueURLOutput{c.queueURL(name)}, nil
	}
	opts := memory.QueueOptions{FIFO: fifo}
	stored := map[string]string{}
	if e := c.applyAttributes(c.in.Attributes, fifo, &opts, stored); e != nil {
		return nil, e
	}
	if _, err := c.reg.world.NewQueue(name, opts); err != nil {
		return nil, fromBackend(err)
	}
	m := c.reg.metaOf(name)
	c.reg.mu.Lock()
	for k, v := range stored {
		m.attrs[k] = v
	}
	for k, v := range c.in.Tags {
		m.tags[k] = v
	}
	c.reg.mu.Unlock()
	return &queueURLOutput{c.queueURL(name)}, nil
}

// sameAttr compares a requested attribute with the queue's value.
func sameAttr(name, want, have string) bool {
	if want == have {
		return true
	}
	switch name {
	case "RedrivePolicy", "RedriveAllowPolicy", "Policy":
		var a, b any
		return json.Unmarshal([]byte(want), &a) == nil && json.Unmarshal([]byte(have), &b) == nil &&
			fmt.Sprint(normalizeJSON(a)) == fmt.Sprint(normalizeJSON(b))
	case "FifoQueue":
		return want == "false" && have == ""
	}
	return false
}

// normalizeJSON turns numbers written as strings into numbers, so that
// {"maxReceiveCount":"5"} equals {"maxReceiveCount":5}.
func normalizeJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalizeJSON(x)
		}
	case []any:
		for i, x := range t {
			t[i] = normalizeJSON(x)
		}
	case string:
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return f
		}
	}
	return v
}

func (c *sqsCall) getQueueURL() (sqsOutput, *awsreq.Error) {
	if c.in.QueueName == "" {
		return nil, missing("QueueName")
	}
	if o := c.in.QueueOwnerAWSAccountID; o != "" && o != c.s.account {
		return nil, errNoSuchQueue
	}
	if _, err := c.reg.world.Queue(c.in.QueueName); err != nil {
		return nil, errNoSuchQueue
	}
	return &queueURLOutput{c.queueURL(c.in.QueueName)}, nil
}

// page returns the page of names after NextToken, at most MaxResults
// (1 to 1,000) when given, and the token of the next page.
func (c *sqsCall) page(names []string) ([]string, string, *awsreq.Error) {
	max, given, e := intParam(c.in.MaxResults, "MaxResults")
	if e != nil {
		return nil, "", e
	}
	if given && (max < 1 || max > 1000) {
		return nil, "", invalidParam(fmt.Sprintf("Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", max))
	}
	if c.in.NextToken != "" {
		after, err := base64.RawURLEncoding.DecodeString(c.in.NextToken)
		if err != nil {
			return nil, "", invalidParam("Invalid NextToken value.")
		}
		i, _ := slices.BinarySearch(names, string(after))
		for i < len(names) && names[i] <= string(after) {
			i++
		}
		names = names[i:]
	}
	if !given || len(names) <= int(max) {
		return names, "", nil
	}
	names = names[:max]
	return names, base64.RawURLEncoding.EncodeToString([]byte(names[len(names)-1])), nil
}

func (c *sqsCall) listQueues() (sqsOutput, *awsreq.Error) {
	var names []string
	for _, q := range c.reg.world.Queues(c.in.QueueNamePrefix) {
		names = append(names, q.Name())
	}
	names, next, e := c.page(names)
	if e != nil {
		return nil, e
	}
	out := &listQueuesOutput{NextToken: next}
	for _, n := range names {
		out.QueueURLs = append(out.QueueURLs, c.queueURL(n))
	}
	return out, nil
}

func (c *sqsCall) listDeadLetterSourceQueues() (sqsOutput, *awsreq.Error) {
	dlq, reg, e := c.queue()
	if e != nil {
		return nil, e
	}
	var names []string
	for _, q := range reg.world.Queues("") {
		if rp := q.Options().RedrivePolicy; rp != nil && rp.DeadLetterQueue == dlq {
			names = append(names, q.Name())
		}
	}
	names, next, e := c.page(names)
	if e != nil {
		return nil, e
	}
	out := &deadLetterSourcesOutput{QueueURLs: []string{}, NextToken: next}
	for _, n := range names {
		out.QueueURLs = append(out.QueueURLs, c.queueURL(n))
	}
	return out, nil
}

func (c *sqsCall) deleteQueue() (sqsOutput, *awsreq.Error) {
	q, reg, e := c.queue()
	if e != nil {
		return nil, e
	}
	if err := reg.world.DeleteQueue(q.Name()); err != nil {
		return nil, fromBackend(err)
	}
	reg.mu.Lock()
	delete(reg.meta, q.Name())
	reg.mu.Unlock()
	return nil, nil
}

func (c *sqsCall) purgeQueue() (sqsOutput, *awsreq.Error) {
	q, _, e := c.queue()
	if e != nil {
		return nil, e
	}
	if err := q.Purge(c.ctx); err != nil {
		return nil, fromBackend(err)
	}
	return nil, nil
}

// attributes returns every attribute of q.
func (c *sqsCall) attributes(q *memory.Queue, reg *region) map[string]string {
	o := q.Options()
	secs := func(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }
	a := map[string]string{
		"DelaySeconds":                  secs(o.Delay),
		"MaximumMessageSize":            strconv.Itoa(o.MaxMessageSize),
		"MessageRetentionPeriod":        secs(o.Retention),
		"ReceiveMessageWaitTimeSeconds": secs(o.ReceiveWaitTime),
		"VisibilityTimeout":             secs(o.VisibilityTimeout),
		"QueueArn":                      "arn:aws:sqs:" + reg.name + ":" + c.s.account + ":" + q.Name(),
		"SqsManagedSseEnabled":          "true",
	}
	if st, err := q.Stats(c.ctx); err == nil {
		a["ApproximateNumberOfMessages"] = strconv.Itoa(st.Visible)
		a["ApproximateNumberOfMessagesNotVisible"] = strconv.Itoa(st.InFlight)
		a["ApproximateNumberOfMessagesDelayed"] = strconv.Itoa(st.Delayed)
	}
	if rp := o.RedrivePolicy; rp != nil {
		b, _ := json.Marshal(struct {
			Target string `json:"deadLetterTargetArn"`
			Max    int    `json:"maxReceiveCount"`
		}{"arn:aws:sqs:" + reg.name + ":" + c.s.account + ":" + rp.DeadLetterQueue.Name(), rp.MaxReceiveCount})
		a["RedrivePolicy"] = string(b)
	}
	if q.FIFO() {
		a["FifoQueue"] = "true"
		a["ContentBasedDeduplication"] = strconv.FormatBool(o.ContentBasedDeduplication)
		a["DeduplicationScope"] = string(o.DeduplicationScope)
		a["FifoThroughputLimit"] = "perQueue"
	}
	m := reg.metaOf(q.Name())
	reg.mu.Lock()
	a["CreatedTimestamp"] = strconv.FormatInt(m.created.Unix(), 10)
	a["LastModifiedTimestamp"] = strconv.FormatInt(m.modified.Unix(), 10)
	for k, v := range m.attrs {
		a[k] = v
	}
	reg.mu.Unlock()
	return a
}

func (c *sqsCall) getQueueAttributes() (sqsOutput, *awsreq.Error) {
	q, reg, e := c.queue()
	if e != nil {
		return nil, e
	}
	all := c.attributes(q, reg)
	out := &attributesOutput{Attributes: map[string]string{}}
	for _, name := range c.in.AttributeNames {
		if name == "All" {
			out.Attributes = all
			break
		}
		if !intAttrs[name] && !storedAttrs[name] && !fifoAttrs[name] && name != "RedrivePolicy" &&
			!slices.Contains(readOnlyAttrs, name) && name != "SqsManagedSseEnabled" {
			return nil, sqsError("InvalidAttributeName", "Unknown Attribute "+name+".")
		}
		if v, ok := all[name]; ok {
			out.Attributes[name] = v
		}
	}
	return out, nil
}

func (c *sqsCall) setQueueAttributes() (sqsOutput, *awsreq.Error) {
	q, reg, e := c.queue()
	if e != nil {
		return nil, e
	}
	if len(c.in.Attributes) == 0 {
		return nil, missing("Attribute.1.Name")
	}
	if v, ok := c.in.Attributes["FifoQueue"]; ok && q.FIFO() != (v == "true") {
		return nil, sqsError("InvalidAttributeValue", "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.")
	}
	opts := q.Options()
	stored := map[string]string{}
	if e := c.applyAttributes(c.in.Attributes, q.FIFO(), &opts, stored); e != nil {
		return nil, e
	}
	if err := q.SetOptions(opts); err != nil {
		return nil, fromBackend(err)
	}
	m := reg.metaOf(q.Name())
	reg.mu.Lock()
	for k, v := range stored {
		m.attrs[k] = v
	}
	m.modified = time.Now()
	reg.mu.Unlock()
	return nil, nil
}

func (c *sqsCall) tagQueue() (sqsOutput, *awsreq.Error) {
	q, reg, e := c.queue()
	if e != nil {
		return nil, e
	}
	tags := c.in.TagsUpper
	if tags == nil {
		tags = c.in.Tags
	}
	if len(tags) == 0 {
		return nil, missing("Tags")
	}
	m := reg.metaOf(q.Name())
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if len(m.tags)+len(tags) > 50 {
		n := len(m.tags)
		for k := range tags {
			if _, ok := m.tags[k]; !ok {
				n++
			}
		}
		if n > 50 {
			return nil, invalidParam("Too many tags added for queue " + q.Name() + ".")
		}
	}
	for k, v := range tags {
		m.tags[k] = v
	}
	return nil, nil
}

func (c *sqsCall) untagQueue() (sqsOutput, *awsreq.Error) {
	q, reg, e := c.queue()
	if e != nil {
		return nil, e
	}
	if len(c.in.TagKeys) == 0 {
		return nil, missing("TagKeys")
	}
	m := reg.metaOf(q.Name())
	reg.mu.Lock()
	defer reg.mu.Unlock()
	for _, k := range c.in.TagKeys {
		delete(m.tags, k)
	}
	return nil, nil
}

func (c *sqsCall) listQueueTags() (sqsOutput, *awsreq.Error) {
	q, reg, e := c.queue()
	if e != nil {
		return nil, e
	}
	m := reg.metaOf(q.Name())
	reg.mu.Lock()
	defer reg.mu.Unlock()
	out := &tagsOutput{Tags: make(map[string]string, len(m.tags))}
	for k, v := range m.tags {
		out.Tags[k] = v
	}
	return out, nil
}
