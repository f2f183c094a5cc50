package mqtt

import (
	"io"
	"net"
	"syscall"
)

// quickAcker re-arms TCP_QUICKACK after every read, so that the kernel
// acknowledges the broker's segments at once instead of up to 40 ms later.
// A broker that leaves Nagle's algorithm on (Mosquitto's default) holds
// back its next small packets (PUBACKs, PUBLISHes) until that
// acknowledgement, so a client that sends a burst of publishes and then
// waits for their PUBACKs would stall on every burst. (Measured here: one
// goroutine publishing batches of 100 to Mosquitto went from 2,300 to
// 49,000 messages a second.)
type quickAcker struct {
	net.Conn
	raw syscall.RawConn
}

func quickAckReader(c net.Conn) io.Reader {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quickAcker{Conn: c, raw: raw}
	q.arm()
	return q
}

func (c *quickAcker) arm() {
	_ = c.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}

func (c *quickAcker) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.arm()
	return n, err
}
