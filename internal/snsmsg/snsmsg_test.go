package snsmsg

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

type certTransport []byte

func (c certTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	_, _ = rec.Write(c)
	return rec.Result(), nil
}

func TestSignAndVerifyEveryType(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	v := &Verifier{Pkg: "test", HTTPClient: &http.Client{Transport: certTransport(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}}

	for _, typ := range []string{TypeNotification, TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation} {
		for _, version := range []string{"1", "2"} {
			e := &Envelope{Type: typ, MessageID: "m", TopicARN: "arn:aws:sns:us-east-1:1:t", Message: "hi <&>", Timestamp: "2026-01-02T03:04:05.000Z",
				SignatureVersion: version, SigningCertURL: "https://sns.us-east-1.amazonaws.com/c.pem"}
			if typ != TypeNotification {
				e.Token, e.SubscribeURL = "tok", "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok"
			}
			require.NoError(t, Sign(key, e))
			require.NoError(t, v.Verify(context.Background(), e), typ+" v"+version)
			if typ != TypeNotification {
				changed := *e
				changed.Token = "other"
				assert.ErrorIs(t, v.Verify(context.Background(), &changed), postroom.ErrInvalid, "the token is signed")
			}
			body := Marshal(e)
			assert.True(t, strings.Contains(string(body), "hi <&>"), "no HTML escaping, as SNS writes")
			back, ok := Parse(body)
			require.True(t, ok)
			assert.Equal(t, e, back)
		}
	}
	assert.Error(t, Sign(key, &Envelope{SignatureVersion: "3"}))
}

func TestAttributesRoundTrip(t *testing.T) {
	in := queue.Attributes{"s": queue.String("v"), "n": queue.Number("1.5"), "b": queue.Binary([]byte{0, 255}), "a": queue.StringArray("x")}
	e := &Envelope{MessageAttributes: FromAttributes(in)}
	assert.Equal(t, "AP8=", e.MessageAttributes["b"].Value)
	out, err := Attributes("test", e)
	require.NoError(t, err)
	assert.Equal(t, in, out)

	e.MessageAttributes["b"] = Attribute{Type: "Binary", Value: "%%"}
	_, err = Attributes("test", e)
	require.ErrorIs(t, err, postroom.ErrInvalid)
	assert.True(t, strings.HasPrefix(err.Error(), "test: "), err.Error())
}
