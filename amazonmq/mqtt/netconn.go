package mqtt

import (
	"bufio"
	"io"
	"net"
)

// bufferedConn buffers reads. paho reads packet headers a byte at a time
// straight from the connection; through a buffer a read system call
// brings in many packets.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// wrapConn buffers c's reads, and keeps TCP_QUICKACK on where the system
// has it (see quickAckReader).
func wrapConn(c net.Conn) net.Conn {
	return &bufferedConn{Conn: c, r: bufio.NewReaderSize(quickAckReader(c), 32<<10)}
}

var _ io.Reader = (*bufferedConn)(nil)
