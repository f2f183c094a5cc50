package driverkit

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

// IDs makes the message ids of one broker connection: a random prefix,
// unique across brokers, then a count, unique within this one. Init it
// before use; New is safe for concurrent use.
type IDs struct {
	prefix string
	seq    atomic.Uint64
}

// Init draws the random prefix and returns it without the dash that ends
// it (12 hex digits), for a driver that names its client after it too.
func (ids *IDs) Init() (seed string) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	seed = hex.EncodeToString(b[:])
	ids.prefix = seed + "-"
	return seed
}

// New returns the next id: the prefix and the count, "0a1b2c3d4e5f-7".
func (ids *IDs) New() string {
	var buf [64]byte
	id := append(buf[:0], ids.prefix...)
	return string(strconv.AppendUint(id, ids.seq.Add(1), 10))
}
