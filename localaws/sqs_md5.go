package localaws

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/postroom/postroom/queue"
)

// md5Hex is the lower-case hex MD5 of b (MD5OfMessageBody, MD5OfBody).
func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// md5OfAttributes computes MD5OfMessageAttributes (and
// MD5OfMessageSystemAttributes) as SQS does: for each attribute in name
// order, the 4-byte big-endian length and bytes of the name, of the data
// type, a transport byte (1 string/number, 2 binary), then the length and
// bytes of the value. It is "" for no attributes.
func md5OfAttributes(attrs queue.Attributes) string {
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
		if isBinaryType(a.Type) {
			h.Write([]byte{2})
			put(a.Binary)
		} else {
			h.Write([]byte{1})
			put([]byte(a.Value))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func isBinaryType(t string) bool {
	return t == queue.TypeBinary || strings.HasPrefix(t, queue.TypeBinary+".")
}
