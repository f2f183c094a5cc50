package snsmsg

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/postroom/postroom"
)

func TestCheckURL(t *testing.T) {
	snsOnly := &Verifier{Pkg: "p"}
	local := &Verifier{Pkg: "p", AllowedHost: func(h string) bool { return h == "127.0.0.1" || h == "localhost" || h == "::1" || h == "example.com" }}
	for _, c := range []struct {
		v    *Verifier
		raw  string
		want string // "" for accepted, else the error's text after "p: verify: invalid argument: "
	}{
		{snsOnly, "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem", ""},
		{snsOnly, "https://sns.cn-north-1.amazonaws.com.cn/x.pem", ""},
		{snsOnly, "http://sns.eu-west-1.amazonaws.com/x.pem", `SigningCertURL "http://sns.eu-west-1.amazonaws.com/x.pem" is not an https URL`},
		{snsOnly, "https://sns.eu-west-1.amazonaws.com.evil.example/x.pem", `SigningCertURL host "sns.eu-west-1.amazonaws.com.evil.example" is not an SNS host`},
		{snsOnly, "http://127.0.0.1:4566/x.pem", `SigningCertURL host "127.0.0.1" is not an SNS host`},
		{snsOnly, "https://user@sns.eu-west-1.amazonaws.com/x.pem", `SigningCertURL "https://user@sns.eu-west-1.amazonaws.com/x.pem" is not an https URL`},
		// An allowed loopback host may be plain http (a local endpoint);
		// any other allowed host still needs https.
		{local, "http://127.0.0.1:4566/x.pem", ""},
		{local, "http://localhost:4566/x.pem", ""},
		{local, "http://[::1]:4566/x.pem", ""},
		{local, "https://127.0.0.1:4566/x.pem", ""},
		{local, "http://example.com/x.pem", `SigningCertURL "http://example.com/x.pem" is not an https URL`},
		{local, "https://example.com/x.pem", ""},
		{local, "http://127.0.0.2/x.pem", `SigningCertURL host "127.0.0.2" is not an SNS host`},
		{local, "ftp://127.0.0.1/x.pem", `SigningCertURL "ftp://127.0.0.1/x.pem" is not an https URL`},
	} {
		_, err := c.v.CheckURL("SigningCertURL", c.raw)
		if c.want == "" {
			assert.NoError(t, err, c.raw)
			continue
		}
		assert.ErrorIs(t, err, postroom.ErrInvalid, c.raw)
		if err != nil {
			assert.Contains(t, err.Error(), c.want, c.raw)
		}
	}
}
