package awssns

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/postroom/postroom/internal/snsmsg"
)

// snsCertHost matches the hosts SNS serves its signing certificates from.
var snsCertHost = snsmsg.CertHost

// A Verifier checks the signatures of SNS envelopes (SignatureVersion 1,
// SHA1withRSA, and 2, SHA256withRSA) with the certificate the envelope
// names, fetched over HTTPS from SNS's own hosts and cached. The zero
// value is ready to use; set the fields before the first Verify.
type Verifier struct {
	// HTTPClient fetches certificates; nil means http.DefaultClient.
	HTTPClient *http.Client
	// AllowedHost reports whether a certificate may be fetched from host;
	// nil allows only sns.<region>.amazonaws.com (and .com.cn). An allowed
	// loopback host (localhost, 127.0.0.0/8, ::1) may be reached over plain
	// http, as a local endpoint is; every other host needs https.
	AllowedHost func(host string) bool
	// Now returns the time certificates must be valid at; nil means
	// time.Now.
	Now func() time.Time

	once sync.Once
	core snsmsg.Verifier // the options above, copied at the first Verify, and the certificate cache
}

// Verify checks e's signature. Every failure matches postroom.ErrInvalid.
func (v *Verifier) Verify(ctx context.Context, e *Envelope) error {
	v.once.Do(func() {
		v.core.Pkg, v.core.HTTPClient, v.core.AllowedHost, v.core.Now = pkgName, v.HTTPClient, v.AllowedHost, v.Now
	})
	return v.core.Verify(ctx, e.inner())
}

// StringToSign returns the text SNS signs for e: "Name\nvalue\n" for each
// signed field in order (Subject only when present).
func StringToSign(e *Envelope) string { return snsmsg.StringToSign(e.inner()) }
