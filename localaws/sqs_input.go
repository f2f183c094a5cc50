package localaws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/postroom/postroom/localaws/internal/awsreq"
)

// sqsInput holds the members of every SQS action's input, named as in the
// JSON protocol. Both protocols decode into it: JSON directly, Query forms
// through queryToJSON.
type sqsInput struct {
	QueueName              string            `json:"QueueName"`
	QueueURL               string            `json:"QueueUrl"`
	QueueNamePrefix        string            `json:"QueueNamePrefix"`
	QueueOwnerAWSAccountID string            `json:"QueueOwnerAWSAccountId"`
	NextToken              string            `json:"NextToken"`
	MaxResults             *flexInt          `json:"MaxResults"`
	Attributes             map[string]string `json:"Attributes"`
	Tags                   map[string]string `json:"tags"` // CreateQueue
	TagsUpper              map[string]string `json:"Tags"` // TagQueue
	TagKeys                []string          `json:"TagKeys"`
	AttributeNames         []string          `json:"AttributeNames"`
	SystemAttributeNames   []string          `json:"MessageSystemAttributeNames"`
	MessageAttributeNames  []string          `json:"MessageAttributeNames"`
	MaxNumberOfMessages    *flexInt          `json:"MaxNumberOfMessages"`
	VisibilityTimeout      *flexInt          `json:"VisibilityTimeout"`
	WaitTimeSeconds        *flexInt          `json:"WaitTimeSeconds"`
	ReceiveRequestAttempt  string            `json:"ReceiveRequestAttemptId"`
	ReceiptHandle          *string           `json:"ReceiptHandle"`
	Entries                []sqsEntry        `json:"Entries"`
	SourceArn              string            `json:"SourceArn"`
	DestinationArn         string            `json:"DestinationArn"`
	MaxPerSecond           *flexInt          `json:"MaxNumberOfMessagesPerSecond"`
	TaskHandle             string            `json:"TaskHandle"`
	sqsEntry                                 // SendMessage's members
}

// sqsEntry is a message to send (SendMessage, or a batch entry), a receipt
// to delete or a visibility change.
type sqsEntry struct {
	ID                      string                  `json:"Id"`
	MessageBody             *string                 `json:"MessageBody"`
	DelaySeconds            *flexInt                `json:"DelaySeconds"`
	MessageAttributes       map[string]sqsAttrValue `json:"MessageAttributes"`
	MessageSystemAttributes map[string]sqsAttrValue `json:"MessageSystemAttributes"`
	MessageDeduplicationID  string                  `json:"MessageDeduplicationId"`
	MessageGroupID          string                  `json:"MessageGroupId"`
	EntryReceiptHandle      *string                 `json:"ReceiptHandle"`
	EntryVisibilityTimeout  *flexInt                `json:"VisibilityTimeout"`
}

// sqsAttrValue is a MessageAttributeValue.
type sqsAttrValue struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

// flexInt is an integer member: a JSON number, or a decimal string (what
// the Query protocol sends).
type flexInt struct {
	v   int64
	raw string
	ok  bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	f.raw = s
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	f.v, f.ok = n, err == nil
	return nil
}

// intParam returns the value of an integer member named name, whether it
// was given, and an InvalidParameterValue error for a value that is not an
// integer.
func intParam(f *flexInt, name string) (int64, bool, *awsreq.Error) {
	if f == nil {
		return 0, false, nil
	}
	if !f.ok {
		return 0, false, invalidParam(fmt.Sprintf("Value %s for parameter %s is invalid. Reason: must be an integer.", f.raw, name))
	}
	return f.v, true, nil
}

// decodeJSONInput decodes an AWS JSON 1.0 body. An empty body is an empty
// input.
func decodeJSONInput(body []byte) (*sqsInput, *awsreq.Error) {
	in := new(sqsInput)
	if len(bytes.TrimSpace(body)) == 0 {
		return in, nil
	}
	if err := json.Unmarshal(body, in); err != nil {
		return nil, &awsreq.Error{Code: "SerializationException", Message: "Malformed request body: " + err.Error()}
	}
	return in, nil
}

// decodeQueryInput decodes a Query protocol form into the JSON members.
func decodeQueryInput(form url.Values) (*sqsInput, *awsreq.Error) {
	b, err := json.Marshal(queryToJSON(form, true))
	if err != nil {
		return nil, awsreq.Internal(err.Error())
	}
	in := new(sqsInput)
	if err := json.Unmarshal(b, in); err != nil {
		return nil, &awsreq.Error{Code: "MalformedQueryString", Message: "Malformed query parameters: " + err.Error()}
	}
	return in, nil
}

// Query protocol lists and maps, flattened as "<Prefix>.<N>…", and the
// JSON members they stand for.
var (
	queryMaps = map[string]struct{ member, key, value string }{
		"Attribute":              {"Attributes", "Name", "Value"},
		"Tag":                    {"tags", "Key", "Value"},
		"MessageAttribute":       {"MessageAttributes", "Name", "Value"},
		"MessageSystemAttribute": {"MessageSystemAttributes", "Name", "Value"},
	}
	queryLists = map[string]string{
		"AttributeName":                            "AttributeNames",
		"MessageSystemAttributeName":               "MessageSystemAttributeNames",
		"MessageAttributeName":                     "MessageAttributeNames",
		"TagKey":                                   "TagKeys",
		"AWSAccountId":                             "AWSAccountIds",
		"ActionName":                               "Actions",
		"SendMessageBatchRequestEntry":             "Entries",
		"DeleteMessageBatchRequestEntry":           "Entries",
		"ChangeMessageVisibilityBatchRequestEntry": "Entries",
		"StringListValue":                          "StringListValues",
		"BinaryListValue":                          "BinaryListValues",
	}
)

// queryToJSON turns flattened Query parameters into the JSON object the
// JSON protocol would carry: scalars as strings, "X.N" lists as arrays in N
// order, "X.N.Name"/"X.N.Value" pairs as objects, nested as deep as the
// keys go. Unknown shapes of keys are kept as plain members. With top set,
// Action, Version and the SigV4 query parameters are dropped.
func queryToJSON(form url.Values, top bool) map[string]any {
	out := make(map[string]any)
	type indexed struct {
		n    int
		rest map[string][]string // key after "<Prefix>.<N>." → values
		val  string              // value of "<Prefix>.<N>"
	}
	groups := make(map[string]map[int]*indexed)
	for key, vals := range form {
		if len(vals) == 0 {
			continue
		}
		if top && (key == "Action" || key == "Version" || strings.HasPrefix(key, "X-Amz-")) {
			continue
		}
		prefix, rest, dotted := strings.Cut(key, ".")
		if !dotted {
			out[key] = vals[0]
			continue
		}
		nstr, sub, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(nstr)
		if err != nil || n < 1 {
			if _, isMap := queryMaps[prefix]; isMap || queryLists[prefix] != "" {
				continue // malformed index
			}
			// An object member ("Value.DataType"): nest it.
			m, _ := out[prefix].(map[string]any)
			if m == nil {
				m = make(map[string]any)
				out[prefix] = m
			}
			for k, v := range queryToJSON(url.Values{rest: vals}, false) {
				m[k] = v
			}
			continue
		}
		g := groups[prefix]
		if g == nil {
			g = make(map[int]*indexed)
			groups[prefix] = g
		}
		e := g[n]
		if e == nil {
			e = &indexed{n: n, rest: make(map[string][]string)}
			g[n] = e
		}
		if sub == "" {
			e.val = vals[0]
		} else {
			e.rest[sub] = vals
		}
	}
	for prefix, g := range groups {
		items := make([]*indexed, 0, len(g))
		for _, e := range g {
			items = append(items, e)
		}
		sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
		if m, ok := queryMaps[prefix]; ok {
			obj := make(map[string]any)
			for _, e := range items {
				name := first(e.rest[m.key])
				if name == "" {
					continue
				}
				if v, ok := e.rest[m.value]; ok {
					obj[name] = first(v)
					continue
				}
				sub := make(url.Values)
				for k, v := range e.rest {
					if after, ok := strings.CutPrefix(k, m.value+"."); ok {
						sub[after] = v
					}
				}
				obj[name] = queryToJSON(sub, false)
			}
			out[m.member] = obj
			continue
		}
		member := queryLists[prefix]
		if member == "" {
			member = prefix
		}
		list := make([]any, 0, len(items))
		for _, e := range items {
			if len(e.rest) == 0 {
				list = append(list, e.val)
				continue
			}
			list = append(list, queryToJSON(e.rest, false))
		}
		out[member] = list
	}
	return out
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
