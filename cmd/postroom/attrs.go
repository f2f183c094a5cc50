package main

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/postroom/postroom/queue"
)

// attrFlag collects repeated --attr flags into message attributes:
//
//	--attr name=value               a String attribute
//	--attr name:Number=42           a typed one: String, Number, Binary
//	                                (base64), String.Array (a JSON array),
//	                                each with an optional ".label"
type attrFlag struct{ attrs queue.Attributes }

func (a *attrFlag) String() string {
	if a == nil || len(a.attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(a.attrs))
	for n := range a.attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func (a *attrFlag) Set(v string) error {
	spec, value, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want name=value or name:Type=value, got %q", v)
	}
	name, typ, typed := strings.Cut(spec, ":")
	if name == "" {
		return fmt.Errorf("no attribute name in %q", v)
	}
	if !typed {
		typ = queue.TypeString
	}
	at, err := attribute(typ, value)
	if err != nil {
		return fmt.Errorf("attribute %q: %v", name, err)
	}
	if a.attrs == nil {
		a.attrs = queue.Attributes{}
	}
	a.attrs[name] = at
	return nil
}

// attribute builds an attribute of type typ from its command-line value.
func attribute(typ, value string) (queue.Attribute, error) {
	at := queue.Attribute{Type: typ}
	switch at.BaseType() {
	case queue.TypeString, queue.TypeNumber:
		at.Value = value
	case queue.TypeStringArray:
		var vs []string
		if err := json.Unmarshal([]byte(value), &vs); err != nil {
			return at, fmt.Errorf("a String.Array value is a JSON array of strings: %v", err)
		}
		at.Value = value
	case queue.TypeBinary:
		b, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return at, fmt.Errorf("a Binary value is base64: %v", err)
		}
		at.Binary = b
	default:
		return at, fmt.Errorf("unknown type %q (want String, Number, Binary or String.Array)", typ)
	}
	return at, nil
}

// awsAttribute is a message attribute as the AWS CLI and the SQS and SNS
// JSON APIs write it.
type awsAttribute struct {
	DataType    string
	StringValue string `json:",omitempty"`
	BinaryValue []byte `json:",omitempty"`
}

// parseAWSAttributes reads --message-attributes JSON in the AWS CLI's
// shape: {"name": {"DataType": "String", "StringValue": "v"}, …}, with
// BinaryValue in base64.
func parseAWSAttributes(b []byte) (queue.Attributes, error) {
	var in map[string]awsAttribute
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf(`want {"name": {"DataType": "String", "StringValue": "value"}}: %v`, err)
	}
	out := make(queue.Attributes, len(in))
	for name, a := range in {
		if a.DataType == "" {
			return nil, fmt.Errorf("attribute %q has no DataType", name)
		}
		at := queue.Attribute{Type: a.DataType, Value: a.StringValue}
		if at.BaseType() == queue.TypeBinary {
			at.Value, at.Binary = "", a.BinaryValue
		}
		out[name] = at
	}
	return out, nil
}

// awsAttributes writes attributes in the AWS CLI's shape.
func awsAttributes(attrs queue.Attributes) map[string]awsAttribute {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]awsAttribute, len(attrs))
	for name, a := range attrs {
		if a.BaseType() == queue.TypeBinary {
			out[name] = awsAttribute{DataType: a.Type, BinaryValue: a.Binary}
		} else {
			out[name] = awsAttribute{DataType: a.Type, StringValue: a.Value}
		}
	}
	return out
}

// mergeAttributes adds the --attr flags to the --message-attributes JSON;
// a flag wins over the JSON for the same name.
func mergeAttributes(e *env, jsonArg string, flags queue.Attributes) (queue.Attributes, error) {
	var attrs queue.Attributes
	if jsonArg != "" {
		b, err := readArg(e, "message-attributes", jsonArg)
		if err != nil {
			return nil, err
		}
		if attrs, err = parseAWSAttributes(b); err != nil {
			return nil, usageErrorf("--message-attributes: %v", err)
		}
	}
	if len(flags) > 0 && attrs == nil {
		attrs = queue.Attributes{}
	}
	for k, v := range flags {
		attrs[k] = v
	}
	return attrs, nil
}

// messageFlags are the flags of a message to send or publish: its
// attributes, and its group and deduplication ids on FIFO queues and
// topics.
type messageFlags struct {
	attrs        attrFlag
	jsonAttrs    *string
	group, dedup *string
}

// addMessageFlags defines the message flags on fs; kind names what is
// FIFO ("queues", "topics") in the help.
func addMessageFlags(fs *flag.FlagSet, kind string) *messageFlags {
	m := &messageFlags{}
	fs.Var(&m.attrs, "attr", "a message attribute, `name=value` (String) or name:Type=value\n(Number, Binary in base64, String.Array as JSON; repeatable)")
	m.jsonAttrs = fs.String("message-attributes", "", "attributes as the AWS CLI takes them: `JSON` or file://path")
	m.group = fs.String("group", "", "message group id (FIFO "+kind+")")
	m.dedup = fs.String("dedup-id", "", "deduplication id (FIFO "+kind+")")
	return m
}

// read checks args (the URL and an optional BODY) and returns the body
// and the attributes of the message.
func (m *messageFlags) read(e *env, args []string) ([]byte, queue.Attributes, error) {
	if err := wantArgs(args, 1, 2); err != nil {
		return nil, nil, err
	}
	body, err := bodyArg(e, args[1:])
	if err != nil {
		return nil, nil, err
	}
	at, err := mergeAttributes(e, *m.jsonAttrs, m.attrs.attrs)
	if err != nil {
		return nil, nil, err
	}
	return body, at, nil
}
