package snsapi

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/postroom/postroom/queue"
)

// maxListIndex bounds the N of a flattened list member: SNS's lists hold
// at most a few hundred entries (50 tags, 10 batch entries, 10 message
// attributes), so a larger index is a malformed request.
const maxListIndex = 1000

// indices returns the sorted distinct N of the form keys "<prefix>.N" and
// "<prefix>.N.<anything>".
func indices(form url.Values, prefix string) ([]int, error) {
	var out []int
	p := prefix + "."
	for k := range form {
		rest, ok := strings.CutPrefix(k, p)
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			rest = rest[:i]
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || n > maxListIndex || strconv.Itoa(n) != rest {
			return nil, invalid("Invalid parameter: %s", prefix)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// entryMap reads a map flattened as SNS writes it:
// "<prefix>.entry.N.<keyName>" and "<prefix>.entry.N.<valueName>" (key and
// value for Attributes).
func entryMap(form url.Values, prefix, keyName, valueName string) (map[string]string, error) {
	ns, err := indices(form, prefix+".entry")
	if err != nil {
		return nil, err
	}
	if len(ns) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(ns))
	for _, n := range ns {
		base := prefix + ".entry." + strconv.Itoa(n) + "."
		k, ok := form[base+keyName]
		if !ok || k[0] == "" {
			return nil, invalid("Invalid parameter: %s Reason: an entry has no %s", prefix, keyName)
		}
		out[k[0]] = form.Get(base + valueName)
	}
	return out, nil
}

// memberList reads a list "<prefix>.member.N" of strings.
func memberList(form url.Values, prefix string) ([]string, error) {
	ns, err := indices(form, prefix+".member")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, form.Get(prefix+".member."+strconv.Itoa(n)))
	}
	return out, nil
}

// tagList reads "Tags.member.N.Key" and "Tags.member.N.Value".
func tagList(form url.Values, prefix string) (map[string]string, error) {
	ns, err := indices(form, prefix+".member")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ns))
	for _, n := range ns {
		base := prefix + ".member." + strconv.Itoa(n) + "."
		k := form.Get(base + "Key")
		if k == "" {
			return nil, invalid("Invalid parameter: Tags Reason: a tag has no key")
		}
		out[k] = form.Get(base + "Value")
	}
	return out, nil
}

// messageAttributes reads SNS message attributes:
// "<prefix>.entry.N.Name", "….Value.DataType", "….Value.StringValue" and
// "….Value.BinaryValue" (base64).
func messageAttributes(form url.Values, prefix string) (queue.Attributes, error) {
	ns, err := indices(form, prefix+".entry")
	if err != nil {
		return nil, err
	}
	if len(ns) == 0 {
		return nil, nil
	}
	out := make(queue.Attributes, len(ns))
	for _, n := range ns {
		base := prefix + ".entry." + strconv.Itoa(n) + "."
		name := form.Get(base + "Name")
		if name == "" {
			return nil, invalid("Invalid parameter: MessageAttributes Reason: an attribute has no name")
		}
		if _, dup := out[name]; dup {
			return nil, invalid("Invalid parameter: MessageAttributes Reason: duplicate attribute name %s", name)
		}
		typ := form.Get(base + "Value.DataType")
		if typ == "" {
			return nil, paramValue("The message attribute '%s' must contain non-empty message attribute type.", name)
		}
		a := queue.Attribute{Type: typ}
		switch a.BaseType() {
		case queue.TypeString, queue.TypeNumber, queue.TypeStringArray:
			v, ok := form[base+"Value.StringValue"]
			if !ok || v[0] == "" {
				return nil, paramValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, typ)
			}
			a.Value = v[0]
		case queue.TypeBinary:
			v := form.Get(base + "Value.BinaryValue")
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil || len(b) == 0 {
				return nil, paramValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, typ)
			}
			a.Binary = b
		default:
			return nil, paramValue("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
		out[name] = a
	}
	return out, nil
}
