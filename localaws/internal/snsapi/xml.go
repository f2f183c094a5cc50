package snsapi

import (
	"maps"
	"slices"
	"strings"
)

// response is the <{Action}Result> of a success, written element by
// element; a nil *response is an action without output.
type response struct {
	b strings.Builder
}

func result() *response { return &response{} }

// el writes <name>text</name>.
func (r *response) el(name, text string) *response {
	r.b.WriteString("<" + name + ">")
	escape(&r.b, text)
	r.b.WriteString("</" + name + ">")
	return r
}

func (r *response) open(name string) *response  { r.b.WriteString("<" + name + ">"); return r }
func (r *response) close(name string) *response { r.b.WriteString("</" + name + ">"); return r }

// entries writes a map as SNS does: <name><entry><key/><value/></entry>…</name>,
// by key.
func (r *response) entries(name string, m map[string]string) *response {
	r.open(name)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		r.open("entry").el("key", k).el("value", m[k]).close("entry")
	}
	return r.close(name)
}

// xml writes the whole response document.
func (r *response) xml(action, requestID string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString("<" + action + `Response xmlns="` + Namespace + `">`)
	if r != nil {
		b.WriteString("<" + action + "Result>")
		b.WriteString(r.b.String())
		b.WriteString("</" + action + "Result>")
	}
	b.WriteString("<ResponseMetadata><RequestId>")
	escape(&b, requestID)
	b.WriteString("</RequestId></ResponseMetadata></" + action + "Response>")
	return []byte(b.String())
}
