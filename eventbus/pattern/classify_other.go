//go:build !amd64 || purego

package pattern

// structuralScan reports whether the structural scanner (fastscan.go) is
// available. Without a vector classifier (other architectures, or the
// purego build tag) it would be slower than the exact scanner, so it is
// not used.
const structuralScan = false

// classifyBlocks is never called when structuralScan is false.
func classifyBlocks(p *byte, n int, state *stage1State, out *blockMasks) (ok bool) {
	panic("pattern: classifyBlocks without a vector implementation")
}
