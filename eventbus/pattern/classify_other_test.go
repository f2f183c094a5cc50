//go:build !amd64 || purego

package pattern

// classifyImpl is one implementation of classifyBlocks, for the tests.
type classifyImpl struct {
	name string
	use  func() (restore func())
}

// classifyImpls returns no implementation: there is none on this
// architecture.
func classifyImpls() []classifyImpl { return nil }
