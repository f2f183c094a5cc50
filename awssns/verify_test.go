package awssns

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

// certServer serves a self-signed certificate at /cert.pem over TLS and
// counts the fetches.
func certServer(t *testing.T) (*rsa.PrivateKey, *httptest.Server, *atomic.Int64) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	var hits atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write(pemBytes)
	}))
	t.Cleanup(srv.Close)
	return key, srv, &hits
}

func sign(t *testing.T, key *rsa.PrivateKey, e *Envelope) {
	t.Helper()
	text := []byte(StringToSign(e))
	var sig []byte
	var err error
	if e.SignatureVersion == "1" {
		d := sha1.Sum(text)
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, d[:])
	} else {
		d := sha256.Sum256(text)
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	}
	require.NoError(t, err)
	e.Signature = base64.StdEncoding.EncodeToString(sig)
}

func notification(certURL, version string) *Envelope {
	return &Envelope{Type: "Notification", MessageID: "m-1", TopicARN: "arn:aws:sns:us-east-1:123456789012:orders",
		Subject: "hello", Message: `{"order":1}`, Timestamp: "2026-01-02T03:04:05.678Z",
		SignatureVersion: version, SigningCertURL: certURL}
}

func TestVerifySignatureVersions(t *testing.T) {
	key, srv, hits := certServer(t)
	v := &Verifier{HTTPClient: srv.Client(), AllowedHost: func(h string) bool { return h == "127.0.0.1" }}
	for _, version := range []string{"1", "2"} {
		t.Run("v"+version, func(t *testing.T) {
			e := notification(srv.URL+"/cert.pem", version)
			sign(t, key, e)
			require.NoError(t, v.Verify(context.Background(), e))

			tampered := *e
			tampered.Message = `{"order":2}`
			assert.ErrorIs(t, v.Verify(context.Background(), &tampered), postroom.ErrInvalid)

			noSubject := *e
			noSubject.Subject = ""
			assert.ErrorIs(t, v.Verify(context.Background(), &noSubject), postroom.ErrInvalid, "the subject is signed")
		})
	}
	assert.Equal(t, int64(1), hits.Load(), "the certificate is fetched once and cached")
}

func TestVerifyRestrictsCertificateHost(t *testing.T) {
	key, srv, hits := certServer(t)
	v := &Verifier{HTTPClient: srv.Client()} // default: SNS hosts only
	e := notification(srv.URL+"/cert.pem", "2")
	sign(t, key, e)
	err := v.Verify(context.Background(), e)
	require.ErrorIs(t, err, postroom.ErrInvalid)
	assert.Contains(t, err.Error(), "not an SNS host")
	assert.Zero(t, hits.Load(), "nothing fetched from a host that is not SNS's")

	for _, u := range []string{"http://sns.us-east-1.amazonaws.com/c.pem", "https://sns.us-east-1.amazonaws.com.evil.com/c.pem",
		"https://sns.us-east-1.amazonaws.com/c.txt", "https://user@sns.us-east-1.amazonaws.com/c.pem"} {
		e.SigningCertURL = u
		assert.ErrorIs(t, v.Verify(context.Background(), e), postroom.ErrInvalid, u)
	}
	for host, ok := range map[string]bool{"sns.us-east-1.amazonaws.com": true, "sns.cn-north-1.amazonaws.com.cn": true,
		"sns.amazonaws.com": false, "sqs.us-east-1.amazonaws.com": false, "evil.sns.us-east-1.amazonaws.com": false} {
		assert.Equal(t, ok, snsCertHost.MatchString(host), host)
	}
}

func TestVerifyExpiredCertificate(t *testing.T) {
	key, srv, _ := certServer(t)
	v := &Verifier{HTTPClient: srv.Client(), AllowedHost: func(string) bool { return true },
		Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
	e := notification(srv.URL+"/cert.pem", "2")
	sign(t, key, e)
	assert.ErrorIs(t, v.Verify(context.Background(), e), postroom.ErrInvalid)
}

func TestUnwrap(t *testing.T) {
	e := notification("https://sns.us-east-1.amazonaws.com/c.pem", "1")
	e.MessageAttributes = map[string]EnvelopeAttribute{
		"n": {Type: "Number", Value: "12.5"}, "b": {Type: "Binary", Value: base64.StdEncoding.EncodeToString([]byte{0, 255})},
		"tags": {Type: "String.Array", Value: `["a","b"]`},
	}
	body, err := json.Marshal(e)
	require.NoError(t, err)
	d := &queue.Delivery{Message: queue.Message{ID: "sqs-id", Body: body}, Receipt: "r"}

	u, env, err := Unwrap(context.Background(), d, UnwrapOptions{})
	require.NoError(t, err)
	require.NotNil(t, env)
	assert.Equal(t, `{"order":1}`, string(u.Body))
	assert.Equal(t, "hello", env.Subject)
	assert.Equal(t, "r", u.Receipt)
	assert.Equal(t, "m-1", u.ID)
	assert.Equal(t, queue.Number("12.5"), u.Attributes["n"])
	assert.Equal(t, []byte{0, 255}, u.Attributes["b"].Binary)
	assert.Equal(t, queue.StringArray("a", "b"), u.Attributes["tags"])

	same, env, err := Unwrap(context.Background(), d, UnwrapOptions{TopicARN: "arn:aws:sns:us-east-1:123456789012:other"})
	require.NoError(t, err)
	assert.Nil(t, env, "an envelope of another topic is left alone")
	assert.Same(t, d, same)
}

func TestParseEnvelopeRejectsLookalikes(t *testing.T) {
	for name, body := range map[string]string{
		"plain text":     `hello`,
		"raw JSON":       `{"order":1}`,
		"some fields":    `{"Type":"Notification","Message":"x"}`,
		"no topic":       `{"Type":"Notification","MessageId":"1","TopicArn":"","Timestamp":"2026-01-02T03:04:05Z","Message":"x"}`,
		"not an SNS ARN": `{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sqs:us-east-1:1:q","Timestamp":"2026-01-02T03:04:05Z","Message":"x"}`,
		"bad time":       `{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:1:t","Timestamp":"yesterday","Message":"x"}`,
		"message object": `{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:1:t","Timestamp":"2026-01-02T03:04:05Z","Message":{"a":1}}`,
		"other Type":     `{"Type":"Order","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:1:t","Timestamp":"2026-01-02T03:04:05Z","Message":"x"}`,
		"array":          `[1,2]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, ok := ParseEnvelope([]byte(body))
			assert.False(t, ok)
		})
	}
	_, ok := ParseEnvelope([]byte(`{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:1:t","Timestamp":"2026-01-02T03:04:05.000Z","Message":"x"}`))
	assert.True(t, ok)
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:1:t","Timestamp":"2026-01-02T03:04:05.000Z","Message":"x","MessageAttributes":{"b":{"Type":"Binary","Value":"AP8="}}}`))
	f.Add([]byte(`{"order":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, ok := ParseEnvelope(body)
		if !ok {
			return
		}
		if e.MessageID == "" || !isTopicARN(e.TopicARN) {
			t.Fatalf("accepted an envelope without id or topic: %q", body)
		}
		_, _ = e.Attributes()
		_ = StringToSign(e)
	})
}

func TestMergePolicyKeepsStatements(t *testing.T) {
	existing := `{"Version":"2012-10-17","Id":"mine","Statement":[{"Sid":"keep","Effect":"Allow","Principal":"*","Action":"sqs:ReceiveMessage","Resource":"q"}]}`
	topic := "arn:aws:sns:us-east-1:123456789012:orders"
	merged, err := mergePolicy(existing, "arn:aws:sqs:us-east-1:123456789012:q", topic)
	require.NoError(t, err)
	again, err := mergePolicy(merged, "arn:aws:sqs:us-east-1:123456789012:q", topic)
	require.NoError(t, err)
	var doc struct {
		ID        string `json:"Id"`
		Statement []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(again), &doc))
	assert.Equal(t, "mine", doc.ID)
	require.Len(t, doc.Statement, 2, "the existing statement kept, ours not duplicated")
	assert.Equal(t, "keep", doc.Statement[0]["Sid"])
	assert.Equal(t, policySid(topic), doc.Statement[1]["Sid"])
	other, err := mergePolicy(again, "arn:aws:sqs:us-east-1:123456789012:q", topic+"2")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(other), &doc))
	assert.Len(t, doc.Statement, 3, "a second topic adds its own statement")

	_, err = mergePolicy(`not json`, "q", topic)
	assert.Error(t, err)
	single, err := mergePolicy(`{"Statement":{"Sid":"one","Effect":"Deny"}}`, "q", topic)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(single), &doc))
	assert.Len(t, doc.Statement, 2, "a lone statement object is kept")
}
