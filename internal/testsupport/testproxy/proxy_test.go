package testproxy

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// echo starts a server that writes back every line it reads, stopped when
// the test ends, and returns its address.
func echo(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards conns
		conns []net.Conn
	)
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(c, c) })
		}
	})
	return ln.Addr().String()
}

// roundTrip writes a line on c and reads it back.
func roundTrip(c net.Conn, line string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return got, err
}

func TestCutAndRestore(t *testing.T) {
	p := New(t, echo(t))
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	got, err := roundTrip(c, "hello")
	require.NoError(t, err)
	assert.Equal(t, "hello\n", got)

	p.Cut()
	_, err = roundTrip(c, "cut")
	require.Error(t, err, "the connection was cut")
	c2, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c2.Close()
	_, err = roundTrip(c2, "refused")
	require.Error(t, err, "a new connection is closed at once")

	p.Restore()
	c3, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c3.Close()
	got, err = roundTrip(c3, "back")
	require.NoError(t, err)
	assert.Equal(t, "back\n", got)
}

func TestTLS(t *testing.T) {
	cert, pool := SelfSigned(t)
	p := NewTLS(t, echo(t), &tls.Config{Certificates: []tls.Certificate{cert}})

	_, err := tls.Dial("tcp", p.Addr(), &tls.Config{})
	var uerr x509.UnknownAuthorityError
	require.ErrorAs(t, err, &uerr, "the system roots refuse the certificate")

	c, err := tls.Dial("tcp", p.Addr(), &tls.Config{RootCAs: pool})
	require.NoError(t, err)
	defer c.Close()
	got, err := roundTrip(c, "over tls")
	require.NoError(t, err)
	assert.Equal(t, "over tls\n", got)
}

func TestCutAfter(t *testing.T) {
	p := New(t, echo(t))
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	got, err := roundTrip(c, "before")
	require.NoError(t, err)
	assert.Equal(t, "before\n", got, "bytes before arming do not count")

	cut := p.CutAfter(10)
	got, err = roundTrip(c, "12345")
	require.NoError(t, err, "6 of 10 bytes")
	assert.Equal(t, "12345\n", got)
	select {
	case <-cut:
		t.Fatal("cut before the 10th byte")
	default:
	}

	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = io.WriteString(c, "abcdefgh\n")
	require.NoError(t, err)
	// The connection ends (with at most the 4 bytes forwarded before the
	// cut echoed back, as the cut races with the echo).
	rest, _ := io.ReadAll(c)
	assert.True(t, strings.HasPrefix("abcd", string(rest)), "got %q after the cut", rest)
	select {
	case <-cut:
	case <-time.After(5 * time.Second):
		t.Fatal("the cut was not signalled")
	}

	c2, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c2.Close()
	_, err = roundTrip(c2, "refused")
	require.Error(t, err, "cut until Restore")
	p.Restore()
	c3, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c3.Close()
	got, err = roundTrip(c3, "back")
	require.NoError(t, err)
	assert.Equal(t, "back\n", got, "and no cut is armed any more")
}
