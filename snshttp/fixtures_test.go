package snshttp_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/internal/snsmsg"
)

var update = flag.Bool("update", false, "make testdata's certificate chain and signed messages again")

// The fixtures are shaped as SNS sends them to an HTTP/S endpoint (see the
// SNS developer guide, "HTTP/HTTPS notification JSON format" and the
// confirmation formats), signed with testdata/signing-key.pem, whose
// certificate testdata/signing-cert.pem is issued by the test root
// testdata/root-ca.pem. They are written by go test -run TestFixtures
// -update.
const (
	fixtureTopic   = "arn:aws:sns:us-west-2:123456789012:MyTopic"
	fixtureCertURL = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
)

// fixtureTime is when the fixtures were sent; tests run the receiver at
// this time.
var fixtureTime = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func fixtureEnvelopes() map[string]*snsmsg.Envelope {
	ts := fixtureTime.Format(snsmsg.TimeFormat)
	return map[string]*snsmsg.Envelope{
		"notification-v1.json": {Type: "Notification", MessageID: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", TopicARN: fixtureTopic,
			Subject: "My First Message", Message: "Hello world!", Timestamp: ts, SignatureVersion: "1", SigningCertURL: fixtureCertURL,
			UnsubscribeURL: "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + fixtureTopic + ":c9135db0-26c4-47ec-8998-413945fb5a96",
			MessageAttributes: map[string]snsmsg.Attribute{
				"store":    {Type: "String", Value: "example_corp"},
				"price":    {Type: "Number", Value: "210.75"},
				"sizes":    {Type: "String.Array", Value: `["S","M"]`},
				"checksum": {Type: "Binary", Value: "AAEC/w=="},
			}},
		"notification-v2.json": {Type: "Notification", MessageID: "da41e39f-ea4d-435a-b922-c6aae3915ebe", TopicARN: fixtureTopic,
			Message: `{"order":42,"items":["book"]}`, Timestamp: ts, SignatureVersion: "2", SigningCertURL: fixtureCertURL,
			UnsubscribeURL: "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + fixtureTopic + ":c9135db0-26c4-47ec-8998-413945fb5a96"},
		"subscription-confirmation.json": {Type: "SubscriptionConfirmation", MessageID: "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
			Token:    "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
			TopicARN: fixtureTopic, Message: "You have chosen to subscribe to the topic " + fixtureTopic + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
			SubscribeURL: "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + fixtureTopic + "&Token=2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
			Timestamp:    ts, SignatureVersion: "1", SigningCertURL: fixtureCertURL},
		"unsubscribe-confirmation.json": {Type: "UnsubscribeConfirmation", MessageID: "47138184-6831-46b8-8f7c-afc488602d7d",
			Token:    "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
			TopicARN: fixtureTopic, Message: "You have chosen to deactivate subscription " + fixtureTopic + ":2bcfbf39-05c3-41de-beaa-fcfcc21c8f55.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.",
			SubscribeURL: "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + fixtureTopic + "&Token=2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
			Timestamp:    ts, SignatureVersion: "1", SigningCertURL: fixtureCertURL},
	}
}

// TestFixtures checks that the fixtures are what their templates above
// make, and with -update makes the certificate chain and signs them
// again.
func TestFixtures(t *testing.T) {
	if *update {
		writeChain(t)
	}
	key := loadKey(t)
	for name, env := range fixtureEnvelopes() {
		path := filepath.Join("testdata", name)
		if *update {
			require.NoError(t, snsmsg.Sign(key, env))
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false) // SNS writes & and < as they are
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(env))
			require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		got, ok := snsmsg.Parse(b)
		require.True(t, ok, name)
		env.Signature = got.Signature
		require.Equal(t, env, got, name)
	}
}

func writeChain(t *testing.T) {
	t.Helper()
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	root := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "postroom test root CA"},
		NotBefore: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2056, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, &rootKey.PublicKey, rootKey)
	require.NoError(t, err)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2055, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature}
	rootCert, err := x509.ParseCertificate(rootDER)
	require.NoError(t, err)
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, rootCert, &key.PublicKey, rootKey)
	require.NoError(t, err)
	write := func(name, typ string, der []byte) {
		require.NoError(t, os.WriteFile(filepath.Join("testdata", name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644))
	}
	write("root-ca.pem", "CERTIFICATE", rootDER)
	write("signing-cert.pem", "CERTIFICATE", leafDER)
	write("signing-key.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
}

func loadKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "signing-key.pem"))
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	require.NoError(t, err)
	return key
}
