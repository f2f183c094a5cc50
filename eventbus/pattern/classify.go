package pattern

import "math/bits"

// This file holds stage 1 of the structural scanner (fastscan.go): it
// classifies the bytes of an event, 64 at a time, into bit masks from
// which stage 2 finds every string and token without looking at the bytes
// in between. On amd64 it runs with AVX2, or SSE2 on CPUs without it
// (classify_amd64.s); elsewhere the structural scanner is not used.
//
// For each block, with bit i standing for byte i:
//
//	esc     = the backslashes that escape the next byte: the even ones of
//	          each run of backslashes, counted across blocks
//	quote   = the '"' bytes, less the escaped ones
//	in      = prefix XOR of quote, continued from the previous block: the
//	          bytes from an opening quote up to, not including, its
//	          closing quote
//	sig     = ^(white | (in ^ quote)), where white marks the bytes <=
//	          0x20: every byte outside strings that is not whitespace, and
//	          every opening quote
//	dot, high = the dots and the bytes >= 0x80, so that keys and values
//	          need no look at their bytes to know they have none
//
// Malformed events (a control byte other than whitespace, or one inside a
// string, or an unterminated string) are left to the exact scanner, which
// reports the error.

// blockMasks describes one 64-byte block of an event: bit i of each mask
// stands for byte i of the block.
type blockMasks struct {
	quote uint64 // '"' that open or close a string
	sig   uint64 // significant positions: tokens and opening quotes
	dot   uint64 // '.', which splits keys into paths
	high  uint64 // bytes >= 0x80, which strings may need decoding for
	esc   uint64 // backslashes that escape the next byte
}

// stage1State is what classifyBlocks carries from one call to the next.
type stage1State struct {
	inString uint64 // all ones when the next block starts inside a string
	escaped  uint64 // 1 when the next block's first byte is escaped
	escapes  uint64 // OR of the esc masks so far
}

// classify fills out, which must have room for (len(data)+63)/64 blocks.
// ok reports whether the structural scanner may read data (see above),
// and escapes whether data has any escape sequence. A final partial block
// is classified as if padded with spaces.
func classify(data []byte, out []blockMasks) (ok, escapes bool) {
	var st stage1State
	n := len(data) / 64
	ok = true
	if n > 0 {
		ok = classifyBlocks(&data[0], n, &st, &out[0])
	}
	if rest := data[n*64:]; len(rest) > 0 && ok {
		var tail [64]byte
		copy(tail[copy(tail[:], rest):], spaces64[:])
		ok = classifyBlocks(&tail[0], 1, &st, &out[n])
	}
	return ok && st.inString == 0, st.escapes != 0
}

// validEscapes reports whether every escape sequence in data, as marked
// by the esc masks, is one JSON allows: \", \\, \/, \b, \f, \n, \r, \t,
// or \u and four hex digits.
func validEscapes(data []byte, masks []blockMasks) bool {
	for b := range masks {
		for m := masks[b].esc; m != 0; m &= m - 1 {
			i := b<<6 | bits.TrailingZeros64(m)
			if i+1 >= len(data) {
				return false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+5 >= len(data) || unhex(data[i+2])|unhex(data[i+3])|unhex(data[i+4])|unhex(data[i+5]) < 0 {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

// spaces64 pads the last block of an event.
var spaces64 = [64]byte{
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
}
