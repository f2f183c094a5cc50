package localaws

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// AWSConfig returns an aws-sdk-go-v2 configuration for clients of the
// endpoint at url: region us-east-1, BaseEndpoint url, and static
// credentials (the server's access key and secret when it checks
// signatures, "test"/"test" otherwise).
func (s *Server) AWSConfig(url string) aws.Config {
	key, secret := "test", "test"
	if s.verifier != nil {
		key, secret = s.verifier.AccessKey, s.verifier.SecretKey
	}
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, Source: "localaws"}, nil
		}),
	}
}

// NewTestServer starts a Server with opts on a local httptest server,
// closes both when the test ends, and returns the server with a client
// configuration pointed at it. An empty opts.BaseURL becomes the test
// server's URL.
func NewTestServer(t testing.TB, opts Options) (*Server, aws.Config) {
	t.Helper()
	var s *Server
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.ServeHTTP(w, r) }))
	if opts.BaseURL == "" {
		opts.BaseURL = "http://" + hs.Listener.Addr().String()
	}
	s = New(opts)
	hs.Start()
	t.Cleanup(func() {
		_ = s.Close()
		hs.Close()
	})
	return s, s.AWSConfig(hs.URL)
}
