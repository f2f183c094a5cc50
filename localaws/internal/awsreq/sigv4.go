package awsreq

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Verifier checks SigV4 signatures against one access key and secret.
type Verifier struct {
	AccessKey string
	SecretKey string
}

// Errors Verify returns, shaped as AWS answers them.
var (
	ErrMissingAuthentication = &Error{Code: "MissingAuthenticationToken", Status: http.StatusForbidden,
		Message: "Request is missing Authentication Token"}
	ErrInvalidClientTokenID = &Error{Code: "InvalidClientTokenId", Status: http.StatusForbidden,
		Message: "The security token included in the request is invalid."}
	ErrSignatureDoesNotMatch = &Error{Code: "SignatureDoesNotMatch", Status: http.StatusForbidden,
		Message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	ErrIncompleteSignature = &Error{Code: "IncompleteSignature", Status: http.StatusBadRequest,
		Message: "The request signature does not conform to AWS standards."}
)

const unsignedPayload = "UNSIGNED-PAYLOAD"

// Verify checks r's SigV4 signature, in the Authorization header or in the
// query string (X-Amz-Signature and friends). body is r's body, already
// read. It returns nil or one of the errors above. The request time is not
// checked against the clock: a local endpoint accepts replays.
func (v *Verifier) Verify(r *http.Request, body []byte) error {
	var (
		a        authorization
		amzDate  string
		query    = r.URL.Query()
		presign  bool
		payloads []string
	)
	switch {
	case r.Header.Get("Authorization") != "":
		var ok bool
		a, ok = parseAuthorization(r.Header.Get("Authorization"))
		if !ok || a.signature == "" || len(a.signedHeaders) == 0 {
			return ErrIncompleteSignature
		}
		amzDate = r.Header.Get("X-Amz-Date")
		if amzDate == "" {
			amzDate = r.Header.Get("Date")
		}
	case query.Get("X-Amz-Signature") != "":
		presign = true
		if query.Get("X-Amz-Algorithm") != algorithm {
			return ErrIncompleteSignature
		}
		c, ok := parseCredential(query.Get("X-Amz-Credential"))
		if !ok {
			return ErrIncompleteSignature
		}
		a = authorization{cred: c, signedHeaders: strings.Split(query.Get("X-Amz-SignedHeaders"), ";"),
			signature: query.Get("X-Amz-Signature")}
		amzDate = query.Get("X-Amz-Date")
		query.Del("X-Amz-Signature")
	default:
		return ErrMissingAuthentication
	}
	if a.cred.AccessKey != v.AccessKey {
		return ErrInvalidClientTokenID
	}
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		payloads = []string{h}
	} else {
		sum := sha256.Sum256(body)
		payloads = []string{hex.EncodeToString(sum[:])}
		if presign {
			payloads = append(payloads, unsignedPayload)
		}
	}
	scope := a.cred.Date + "/" + a.cred.Region + "/" + a.cred.Service + "/aws4_request"
	key := signingKey(v.SecretKey, a.cred)
	for _, p := range payloads {
		creq := canonicalRequest(r, query, a.signedHeaders, p)
		sum := sha256.Sum256([]byte(creq))
		sts := algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
		sig := hex.EncodeToString(hmacSHA256(key, sts))
		if subtle.ConstantTimeCompare([]byte(sig), []byte(a.signature)) == 1 {
			return nil
		}
	}
	return ErrSignatureDoesNotMatch
}

// Sign returns the Authorization header value for r (whose X-Amz-Date header
// is set) signed with v's key and secret for region and service. It signs
// the host, x-amz-date and content-type headers (those present); tests and
// tools use it to make signed requests without an SDK.
func (v *Verifier) Sign(r *http.Request, body []byte, region, service string) string {
	amzDate := r.Header.Get("X-Amz-Date")
	cred := Credential{AccessKey: v.AccessKey, Date: amzDate[:min(8, len(amzDate))], Region: region, Service: service}
	signed := []string{"host", "x-amz-date"}
	if r.Header.Get("Content-Type") != "" {
		signed = append([]string{"content-type"}, signed...)
	}
	sum := sha256.Sum256(body)
	creq := canonicalRequest(r, r.URL.Query(), signed, hex.EncodeToString(sum[:]))
	csum := sha256.Sum256([]byte(creq))
	scope := cred.Date + "/" + region + "/" + service + "/aws4_request"
	sts := algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(csum[:])
	sig := hex.EncodeToString(hmacSHA256(signingKey(v.SecretKey, cred), sts))
	return algorithm + " Credential=" + v.AccessKey + "/" + scope + ", SignedHeaders=" + strings.Join(signed, ";") + ", Signature=" + sig
}

func signingKey(secret string, c Credential) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), c.Date)
	k = hmacSHA256(k, c.Region)
	k = hmacSHA256(k, c.Service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func canonicalRequest(r *http.Request, query url.Values, signed []string, payload string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(escape(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(query))
	b.WriteByte('\n')
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payload)
	return b.String()
}

// headerValue is the canonical value of header h: values joined by ",",
// trimmed, inner runs of spaces collapsed.
func headerValue(r *http.Request, h string) string {
	var vals []string
	switch h {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		if len(r.Header.Values("Content-Length")) == 0 && r.ContentLength >= 0 {
			vals = []string{itoa(r.ContentLength)}
			break
		}
		vals = r.Header.Values(h)
	default:
		vals = r.Header.Values(h)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

func canonicalQuery(q url.Values) string {
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, kv{escape(k, true), escape(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// escape percent-encodes every byte but RFC 3986's unreserved characters
// (and "/" unless slash is set), with upper-case hex, as SigV4 does.
func escape(s string, slash bool) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !slash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}
