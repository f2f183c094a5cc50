//go:build !linux

package mqtt

import (
	"io"
	"net"
)

// quickAckReader is c itself where TCP_QUICKACK does not exist.
func quickAckReader(c net.Conn) io.Reader { return c }
