package awssns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/postroom/postroom"
)

// snsCertHost matches the hosts SNS serves its signing certificates from.
var snsCertHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// maxCachedCerts bounds the certificate cache.
const maxCachedCerts = 64

// A Verifier checks the signatures of SNS envelopes (SignatureVersion 1,
// SHA1withRSA, and 2, SHA256withRSA) with the certificate the envelope
// names, fetched over HTTPS from SNS's own hosts and cached. The zero
// value is ready to use.
type Verifier struct {
	// HTTPClient fetches certificates; nil means http.DefaultClient.
	HTTPClient *http.Client
	// AllowedHost reports whether a certificate may be fetched from host;
	// nil allows only sns.<region>.amazonaws.com (and .com.cn).
	AllowedHost func(host string) bool
	// Now returns the time certificates must be valid at; nil means
	// time.Now.
	Now func() time.Time

	mu    sync.Mutex // guards certs
	certs map[string]*x509.Certificate
}

// Verify checks e's signature. Every failure matches postroom.ErrInvalid.
func (v *Verifier) Verify(ctx context.Context, e *Envelope) error {
	var h crypto.Hash
	switch e.SignatureVersion {
	case "1":
		h = crypto.SHA1
	case "2":
		h = crypto.SHA256
	default:
		return verifyErr("unknown SignatureVersion %q", e.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	if err != nil || len(sig) == 0 {
		return verifyErr("the Signature is not base64")
	}
	cert, err := v.cert(ctx, e.SigningCertURL)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return verifyErr("the signing certificate has no RSA key")
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return verifyErr("the signing certificate is not valid at %s", now.UTC().Format(time.RFC3339))
	}
	text := []byte(StringToSign(e))
	var digest []byte
	if h == crypto.SHA1 {
		d := sha1.Sum(text)
		digest = d[:]
	} else {
		d := sha256.Sum256(text)
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
		return &postroom.Error{Pkg: pkgName, Op: "verify", Message: "the signature does not match", Kind: postroom.ErrInvalid, Err: err}
	}
	return nil
}

// StringToSign returns the text SNS signs for e: "Name\nvalue\n" for each
// signed field in order (Subject only when present).
func StringToSign(e *Envelope) string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k); b.WriteByte('\n'); b.WriteString(v); b.WriteByte('\n') }
	add("Message", e.Message)
	add("MessageId", e.MessageID)
	if e.Type == "Notification" {
		if e.Subject != "" {
			add("Subject", e.Subject)
		}
	} else {
		add("SubscribeURL", e.SubscribeURL)
	}
	add("Timestamp", e.Timestamp)
	if e.Type != "Notification" {
		add("Token", e.Token)
	}
	add("TopicArn", e.TopicARN)
	add("Type", e.Type)
	return b.String()
}

func (v *Verifier) cert(ctx context.Context, raw string) (*x509.Certificate, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || !strings.HasSuffix(u.Path, ".pem") {
		return nil, verifyErr("SigningCertURL %q is not an https URL of a .pem file", raw)
	}
	allowed := v.AllowedHost
	if allowed == nil {
		allowed = snsCertHost.MatchString
	}
	if !allowed(u.Hostname()) {
		return nil, verifyErr("SigningCertURL host %q is not an SNS host", u.Hostname())
	}
	v.mu.Lock()
	c := v.certs[raw]
	v.mu.Unlock()
	if c != nil {
		return c, nil
	}
	client := v.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, verifyErr("SigningCertURL %q: %v", raw, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &postroom.Error{Pkg: pkgName, Op: "verify", Message: "fetching the signing certificate", Kind: postroom.ErrUnavailable, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &postroom.Error{Pkg: pkgName, Op: "verify", Message: fmt.Sprintf("fetching the signing certificate: HTTP %d", resp.StatusCode), Kind: postroom.ErrUnavailable}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, &postroom.Error{Pkg: pkgName, Op: "verify", Message: "reading the signing certificate", Kind: postroom.ErrUnavailable, Err: err}
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, verifyErr("the signing certificate is not a PEM certificate")
	}
	c, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, verifyErr("the signing certificate does not parse: %v", err)
	}
	v.mu.Lock()
	if v.certs == nil || len(v.certs) >= maxCachedCerts {
		v.certs = make(map[string]*x509.Certificate)
	}
	v.certs[raw] = c
	v.mu.Unlock()
	return c, nil
}

func verifyErr(format string, args ...any) error {
	return &postroom.Error{Pkg: pkgName, Op: "verify", Message: fmt.Sprintf(format, args...), Kind: postroom.ErrInvalid}
}
