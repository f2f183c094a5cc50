package snsmsg

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/errkit"
)

// CertHost matches the hosts SNS serves its signing certificates (and
// subscription URLs) from: sns.<region>.amazonaws.com, and .com.cn.
var CertHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// maxCachedCerts bounds the certificate cache.
const maxCachedCerts = 64

// A Verifier checks the signatures of envelopes (SignatureVersion 1,
// SHA1withRSA, and 2, SHA256withRSA) with the certificate the envelope
// names, fetched over HTTPS from an allowed host and cached. Its errors
// name Pkg and match postroom.ErrInvalid, or postroom.ErrUnavailable when
// the certificate cannot be fetched.
type Verifier struct {
	// Pkg names the package errors start with.
	Pkg errkit.Pkg
	// HTTPClient fetches certificates; nil means http.DefaultClient.
	HTTPClient *http.Client
	// AllowedHost reports whether a certificate may be fetched from host;
	// nil allows only the hosts CertHost matches.
	AllowedHost func(host string) bool
	// Now returns the time certificates must be valid at; nil means
	// time.Now.
	Now func() time.Time

	mu    sync.Mutex // guards certs
	certs map[string]*x509.Certificate
}

// Verify checks e's signature.
func (v *Verifier) Verify(ctx context.Context, e *Envelope) error {
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	if err != nil || len(sig) == 0 {
		return v.fail("the Signature is not base64")
	}
	h, digest, ok := hashOf(e.SignatureVersion, []byte(StringToSign(e)))
	if !ok {
		return v.fail("unknown SignatureVersion %q", e.SignatureVersion)
	}
	cert, err := v.cert(ctx, e.SigningCertURL)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return v.fail("the signing certificate has no RSA key")
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return v.fail("the signing certificate is not valid at %s", now.UTC().Format(time.RFC3339))
	}
	if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
		return &postroom.Error{Pkg: string(v.Pkg), Op: "verify", Message: "the signature does not match", Kind: postroom.ErrInvalid, Err: err}
	}
	return nil
}

// CheckURL checks that raw is an https URL without user information on
// an allowed host, what SNS's SigningCertURL and SubscribeURL are. A
// loopback host (localhost, 127.0.0.0/8, ::1) that AllowedHost allows may
// also be named by an http URL: a local endpoint on this machine, such as
// `postroom serve`, which serves plain HTTP. SNS's own hosts always need
// https.
func (v *Verifier) CheckURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Host == "" ||
		(u.Scheme != "https" && (u.Scheme != "http" || !loopback(u.Hostname()))) {
		return nil, v.fail("%s %q is not an https URL", what, raw)
	}
	allowed := v.AllowedHost
	if allowed == nil {
		allowed = CertHost.MatchString
	}
	if !allowed(u.Hostname()) {
		return nil, v.fail("%s host %q is not an SNS host", what, u.Hostname())
	}
	return u, nil
}

// loopback reports whether host names this machine: localhost or a
// loopback IP address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func (v *Verifier) client() *http.Client {
	if v.HTTPClient != nil {
		return v.HTTPClient
	}
	return http.DefaultClient
}

func (v *Verifier) cert(ctx context.Context, raw string) (*x509.Certificate, error) {
	u, err := v.CheckURL("SigningCertURL", raw)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(u.Path, ".pem") {
		return nil, v.fail("SigningCertURL %q is not an https URL of a .pem file", raw)
	}
	v.mu.Lock()
	c := v.certs[raw]
	v.mu.Unlock()
	if c != nil {
		return c, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, v.fail("SigningCertURL %q: %v", raw, err)
	}
	resp, err := v.client().Do(req)
	if err != nil {
		return nil, &postroom.Error{Pkg: string(v.Pkg), Op: "verify", Message: "fetching the signing certificate", Kind: postroom.ErrUnavailable, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &postroom.Error{Pkg: string(v.Pkg), Op: "verify", Message: fmt.Sprintf("fetching the signing certificate: HTTP %d", resp.StatusCode), Kind: postroom.ErrUnavailable}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, &postroom.Error{Pkg: string(v.Pkg), Op: "verify", Message: "reading the signing certificate", Kind: postroom.ErrUnavailable, Err: err}
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, v.fail("the signing certificate is not a PEM certificate")
	}
	c, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, v.fail("the signing certificate does not parse: %v", err)
	}
	v.mu.Lock()
	if v.certs == nil || len(v.certs) >= maxCachedCerts {
		v.certs = make(map[string]*x509.Certificate)
	}
	v.certs[raw] = c
	v.mu.Unlock()
	return c, nil
}

func (v *Verifier) fail(format string, args ...any) error {
	return &postroom.Error{Pkg: string(v.Pkg), Op: "verify", Message: fmt.Sprintf(format, args...), Kind: postroom.ErrInvalid}
}
