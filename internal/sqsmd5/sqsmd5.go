// Package sqsmd5 computes the digests SQS returns and its clients check:
// MD5OfMessageBody and MD5OfMessageAttributes (also used for
// MD5OfMessageSystemAttributes and a Lambda SQS record's md5OfBody).
package sqsmd5

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"sort"

	"github.com/postroom/postroom/queue"
)

// Body is the lower-case hex MD5 of b (MD5OfMessageBody, MD5OfBody).
func Body(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// Attributes computes MD5OfMessageAttributes (and
// MD5OfMessageSystemAttributes) as SQS does: for each attribute in name
// order, the 4-byte big-endian length and bytes of the name, of the data
// type, a transport byte (1 string/number, 2 binary), then the length and
// bytes of the value. It is "" for no attributes.
func Attributes(attrs queue.Attributes) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	h := md5.New()
	var n [4]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, name := range names {
		a := attrs[name]
		put([]byte(name))
		put([]byte(a.Type))
		if a.BaseType() == queue.TypeBinary {
			h.Write([]byte{2})
			put(a.Binary)
		} else {
			h.Write([]byte{1})
			put([]byte(a.Value))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
