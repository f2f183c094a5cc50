// Package awsreq holds what every protocol of the local AWS endpoint needs
// from a request: the SigV4 credential scope (access key, region, service),
// SigV4 signature verification in the header and query-string forms,
// request ids, bounded body reads, and AWS's error shapes for the JSON and
// Query protocols.
package awsreq

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
)

// DefaultRegion is the region of a request that carries no credential
// scope (an unsigned request) or an empty region in it.
const DefaultRegion = "us-east-1"

// MaxBodySize bounds a request body: SQS and EventBridge take 1 MiB
// payloads, which JSON escaping or form encoding can triple; the rest is
// headroom for attributes and batch framing.
const MaxBodySize = 8 << 20

// Credential is the SigV4 credential scope of a request:
// "<AccessKey>/<Date>/<Region>/<Service>/aws4_request".
type Credential struct {
	AccessKey string
	Date      string // yyyymmdd
	Region    string
	Service   string // "sqs", "sns", "events"
}

// Scope returns the credential scope of r, from the Authorization header or
// the X-Amz-Credential query parameter, and whether r carries one. It does
// not check the signature.
func Scope(r *http.Request) (Credential, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if a, ok := parseAuthorization(h); ok {
			return a.cred, true
		}
		return Credential{}, false
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		return parseCredential(c)
	}
	return Credential{}, false
}

// Region returns the region of r's credential scope, or DefaultRegion.
func Region(r *http.Request) string {
	if c, ok := Scope(r); ok && c.Region != "" {
		return c.Region
	}
	return DefaultRegion
}

// parseCredential parses "<key>/<date>/<region>/<service>/aws4_request". The
// region may be empty (the Go SDK sends that when no region is set).
func parseCredential(s string) (Credential, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return Credential{}, false
	}
	return Credential{AccessKey: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}, true
}

// authorization is a parsed "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…" header.
type authorization struct {
	cred          Credential
	signedHeaders []string
	signature     string
}

const algorithm = "AWS4-HMAC-SHA256"

func parseAuthorization(h string) (authorization, bool) {
	rest, ok := strings.CutPrefix(h, algorithm)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != ',') {
		return authorization{}, false
	}
	var a authorization
	var haveCred bool
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			a.cred, haveCred = parseCredential(v)
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	return a, haveCred
}

// RequestID returns a new random request id in the UUID form AWS uses.
func RequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}

// ErrBodyTooLarge is returned by ReadBody for a body over its limit.
var ErrBodyTooLarge = errors.New("awsreq: request body too large")

// ReadBody reads r's body, at most limit bytes (MaxBodySize when limit is
// 0). A longer body gives ErrBodyTooLarge.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = MaxBodySize
	}
	if r.ContentLength > limit {
		return nil, ErrBodyTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}
