//go:build !purego

package pattern

// structuralScan reports whether the structural scanner (fastscan.go) is
// available on this architecture.
const structuralScan = true

// useAVX2 selects the AVX2 version of classifyBlocks; SSE2 is part of
// every amd64 CPU.
var useAVX2 = cpuAVX2CLMUL()

// classifyBlocks computes the masks of the n 64-byte blocks at p into
// out[0:n] (see blockMasks), carrying state from the blocks before. It
// reports false when the blocks hold a control byte other than '\t', '\n'
// and '\r', or a control byte inside a string.
func classifyBlocks(p *byte, n int, state *stage1State, out *blockMasks) (ok bool) {
	if useAVX2 {
		return classifyBlocksAVX2(p, n, state, out)
	}
	return classifyBlocksSSE2(p, n, state, out)
}

// The versions of classifyBlocks, in classify_amd64.s.
//
//go:noescape
func classifyBlocksSSE2(p *byte, n int, state *stage1State, out *blockMasks) (ok bool)

//go:noescape
func classifyBlocksAVX2(p *byte, n int, state *stage1State, out *blockMasks) (ok bool)

// cpuAVX2CLMUL reports whether the CPU and the OS support AVX2 and
// PCLMULQDQ.
func cpuAVX2CLMUL() bool
