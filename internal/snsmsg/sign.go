package snsmsg

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// StringToSign returns the text SNS signs for e: "Name\nvalue\n" for each
// signed field in order (Subject only when present).
func StringToSign(e *Envelope) string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k); b.WriteByte('\n'); b.WriteString(v); b.WriteByte('\n') }
	add("Message", e.Message)
	add("MessageId", e.MessageID)
	if e.Type == TypeNotification {
		if e.Subject != "" {
			add("Subject", e.Subject)
		}
	} else {
		add("SubscribeURL", e.SubscribeURL)
	}
	add("Timestamp", e.Timestamp)
	if e.Type != TypeNotification {
		add("Token", e.Token)
	}
	add("TopicArn", e.TopicARN)
	add("Type", e.Type)
	return b.String()
}

// hashOf returns the hash of a SignatureVersion and the digest of text.
func hashOf(version string, text []byte) (crypto.Hash, []byte, bool) {
	switch version {
	case "1":
		d := sha1.Sum(text)
		return crypto.SHA1, d[:], true
	case "2":
		d := sha256.Sum256(text)
		return crypto.SHA256, d[:], true
	}
	return 0, nil, false
}

// Sign sets e.Signature: the string to sign, hashed as e.SignatureVersion
// says ("1" SHA1, "2" SHA256) and signed with key in PKCS #1 v1.5, as SNS
// signs.
func Sign(key *rsa.PrivateKey, e *Envelope) error {
	h, digest, ok := hashOf(e.SignatureVersion, []byte(StringToSign(e)))
	if !ok {
		return errors.New("unknown SignatureVersion " + e.SignatureVersion)
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, digest)
	if err != nil {
		return err
	}
	e.Signature = base64.StdEncoding.EncodeToString(sig)
	return nil
}
