package localaws

import (
	"net/http"
	"net/url"
	"strings"
)

// snsLink reports whether r is the GET of a SubscribeURL or
// UnsubscribeURL that a message to an http/https subscription carries
// (Action ConfirmSubscription or Unsubscribe, unsigned), and the region
// its topic or subscription ARN names.
func snsLink(r *http.Request) (string, bool) {
	if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" {
		return "", false
	}
	q := r.URL.Query()
	if q.Get("X-Amz-Signature") != "" {
		return "", false
	}
	var arn string
	switch q.Get("Action") {
	case "ConfirmSubscription":
		arn = q.Get("TopicArn")
	case "Unsubscribe":
		arn = q.Get("SubscriptionArn")
	default:
		return "", false
	}
	p := strings.Split(arn, ":")
	if len(p) < 6 || p[0] != "arn" || p[2] != "sns" || p[3] == "" {
		return "", false
	}
	return p[3], true
}

// serveSigningCert serves the certificate whose key signs the SNS
// messages of a region, at the path of their SigningCertURL.
func (s *Server) serveSigningCert(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	regions := make([]*region, 0, len(s.regions))
	for _, reg := range s.regions {
		regions = append(regions, reg)
	}
	s.mu.Unlock()
	for _, reg := range regions {
		pem, certURL, err := reg.world.SigningCertificate()
		if err != nil {
			continue
		}
		if u, err := url.Parse(certURL); err == nil && u.Path == r.URL.Path {
			w.Header().Set("Content-Type", "application/x-x509-ca-cert")
			_, _ = w.Write(pem)
			return
		}
	}
	http.NotFound(w, r)
}
