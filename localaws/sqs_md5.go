package localaws

import (
	"strings"

	"github.com/postroom/postroom/queue"
)

// isBinaryType reports whether an attribute data type is Binary or a
// custom Binary type ("Binary.gif").
func isBinaryType(t string) bool {
	return t == queue.TypeBinary || strings.HasPrefix(t, queue.TypeBinary+".")
}
