//go:build !purego

package pattern

import (
	"testing"
	"unsafe"
)

// TestClassifyLayout checks the offsets classify_amd64.s uses.
func TestClassifyLayout(t *testing.T) {
	var m blockMasks
	var st stage1State
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"quote", unsafe.Offsetof(m.quote), 0},
		{"sig", unsafe.Offsetof(m.sig), 8},
		{"dot", unsafe.Offsetof(m.dot), 16},
		{"high", unsafe.Offsetof(m.high), 24},
		{"esc", unsafe.Offsetof(m.esc), 32},
		{"blockMasks size", unsafe.Sizeof(m), 40},
		{"inString", unsafe.Offsetof(st.inString), 0},
		{"escaped", unsafe.Offsetof(st.escaped), 8},
		{"escapes", unsafe.Offsetof(st.escapes), 16},
	} {
		if c.got != c.want {
			t.Errorf("%s at %d, classify_amd64.s expects %d", c.name, c.got, c.want)
		}
	}
}

// classifyImpl is one implementation of classifyBlocks, for the tests.
type classifyImpl struct {
	name string
	use  func() (restore func())
}

// classifyImpls returns the implementations of classifyBlocks this CPU can
// run.
func classifyImpls() []classifyImpl {
	set := func(avx2 bool) func() func() {
		return func() func() {
			old := useAVX2
			useAVX2 = avx2
			return func() { useAVX2 = old }
		}
	}
	impls := []classifyImpl{{"sse2", set(false)}}
	if cpuAVX2CLMUL() {
		impls = append(impls, classifyImpl{"avx2", set(true)})
	}
	return impls
}
