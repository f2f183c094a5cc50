package awsreq

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScope(t *testing.T) {
	for _, tc := range []struct {
		name, header, query string
		want                Credential
		ok                  bool
	}{
		{name: "header", header: "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261126/eu-west-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
			want: Credential{"AKIDLOCAL", "20261126", "eu-west-1", "sqs"}, ok: true},
		{name: "empty region", header: "AWS4-HMAC-SHA256 Credential=test/20261126//sqs/aws4_request, SignedHeaders=host, Signature=abc",
			want: Credential{"test", "20261126", "", "sqs"}, ok: true},
		{name: "query", query: "X-Amz-Credential=AK%2F20261126%2Fap-south-1%2Fsns%2Faws4_request",
			want: Credential{"AK", "20261126", "ap-south-1", "sns"}, ok: true},
		{name: "none"},
		{name: "other scheme", header: "Basic abc"},
		{name: "short scope", header: "AWS4-HMAC-SHA256 Credential=a/b/c, Signature=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/?"+tc.query, nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			got, ok := Scope(r)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
	r := httptest.NewRequest("POST", "/", nil)
	assert.Equal(t, DefaultRegion, Region(r))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261126//sqs/aws4_request, SignedHeaders=host, Signature=abc")
	assert.Equal(t, DefaultRegion, Region(r), "an empty region falls back")
}

func sdkSigned(t *testing.T, key, secret, body string, presign bool) *http.Request {
	t.Helper()
	r := httptest.NewRequest("POST", "http://127.0.0.1:4566/000000000000/q%20x?b=2&a=1", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.0")
	r.Header.Set("X-Amz-Target", "AmazonSQS.ListQueues")
	sum := sha256.Sum256([]byte(body))
	s := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	now := time.Date(2026, 11, 26, 4, 24, 16, 0, time.UTC)
	if presign {
		u, hdr, err := s.PresignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "sqs", "eu-west-1", now)
		require.NoError(t, err)
		pr := httptest.NewRequest("POST", u, strings.NewReader(body))
		for k, v := range hdr {
			pr.Header[k] = v
		}
		return pr
	}
	require.NoError(t, s.SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "sqs", "eu-west-1", now))
	return r
}

func TestVerify(t *testing.T) {
	v := &Verifier{AccessKey: "AKIDLOCAL", SecretKey: "secret"}
	for _, presign := range []bool{false, true} {
		name := map[bool]string{false: "header", true: "query"}[presign]
		t.Run(name, func(t *testing.T) {
			r := sdkSigned(t, "AKIDLOCAL", "secret", `{"a":1}`, presign)
			assert.NoError(t, v.Verify(r, []byte(`{"a":1}`)))
			c, ok := Scope(r)
			require.True(t, ok)
			assert.Equal(t, "eu-west-1", c.Region)

			assert.Equal(t, ErrSignatureDoesNotMatch, v.Verify(r, []byte(`{"a":2}`)), "tampered body")
			r = sdkSigned(t, "AKIDLOCAL", "wrong", `{}`, presign)
			assert.Equal(t, ErrSignatureDoesNotMatch, v.Verify(r, []byte(`{}`)), "wrong secret")
			r = sdkSigned(t, "OTHER", "secret", `{}`, presign)
			assert.Equal(t, ErrInvalidClientTokenID, v.Verify(r, []byte(`{}`)), "unknown key")
		})
	}
	r := httptest.NewRequest("POST", "/", nil)
	assert.Equal(t, ErrMissingAuthentication, v.Verify(r, nil))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261126/us-east-1/sqs/aws4_request")
	assert.Equal(t, ErrIncompleteSignature, v.Verify(r, nil))

	// Sign makes what Verify accepts.
	r = httptest.NewRequest("POST", "http://localhost:4566/", strings.NewReader("Action=ListQueues"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Amz-Date", "20261126T042416Z")
	r.Header.Set("Authorization", v.Sign(r, []byte("Action=ListQueues"), "us-east-1", "sqs"))
	assert.NoError(t, v.Verify(r, []byte("Action=ListQueues")))
}

func TestRequestID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := RequestID(), RequestID()
	assert.Regexp(t, re, a)
	assert.NotEqual(t, a, b)
}

func TestReadBody(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader("12345"))
	b, err := ReadBody(r, 5)
	require.NoError(t, err)
	assert.Equal(t, "12345", string(b))
	r = httptest.NewRequest("POST", "/", strings.NewReader("123456"))
	_, err = ReadBody(r, 5)
	assert.True(t, errors.Is(err, ErrBodyTooLarge))
	r = httptest.NewRequest("POST", "/", strings.NewReader("123456"))
	r.ContentLength = -1
	_, err = ReadBody(r, 5)
	assert.True(t, errors.Is(err, ErrBodyTooLarge), "without a Content-Length")
}

func TestWriteErrors(t *testing.T) {
	e := &Error{Code: "QueueDoesNotExist", QueryCode: "AWS.SimpleQueueService.NonExistentQueue", Message: "The specified queue does not exist."}
	w := httptest.NewRecorder()
	WriteJSONError(w, "application/x-amz-json-1.0", "rid", e, true)
	assert.Equal(t, 400, w.Code)
	assert.Equal(t, "AWS.SimpleQueueService.NonExistentQueue;Sender", w.Header().Get("x-amzn-query-error"))
	assert.Equal(t, "rid", w.Header().Get("x-amzn-RequestId"))
	assert.JSONEq(t, `{"__type":"QueueDoesNotExist","message":"The specified queue does not exist."}`, w.Body.String())

	w = httptest.NewRecorder()
	WriteQueryError(w, "http://queue.amazonaws.com/doc/2012-11-05/", "rid", &Error{Code: "ReceiptHandleIsInvalid", Status: 404, Message: `handle "x" <bad>`})
	assert.Equal(t, 404, w.Code)
	assert.Contains(t, w.Body.String(), `<Error><Type>Sender</Type><Code>ReceiptHandleIsInvalid</Code><Message>handle &quot;x&quot; &lt;bad&gt;</Message><Detail/></Error><RequestId>rid</RequestId>`)

	w = httptest.NewRecorder()
	WriteQueryResponse(w, "ns", "PurgeQueue", "rid", nil, false)
	assert.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<PurgeQueueResponse xmlns="ns"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></PurgeQueueResponse>`, w.Body.String())
}

func TestEscapeXML(t *testing.T) {
	var b bytes.Buffer
	EscapeXML(&b, "a\r\nb<&>\"'")
	assert.Equal(t, "a&#xD;\nb&lt;&amp;&gt;&quot;&apos;", b.String())
	assert.True(t, IsForm("application/x-www-form-urlencoded; charset=utf-8"))
	assert.False(t, IsForm("application/x-amz-json-1.0"))
}
