// Package awstest runs the AWS drivers' tests against moto_server, an
// independent implementation of the AWS APIs: the test binary starts one
// server on a free port the first time a test asks for it, and TestMain
// stops it.
package awstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/postroom/postroom/internal/testsupport/testenv"
)

// MotoAccount is the account id moto gives every resource.
const MotoAccount = "123456789012"

// Region is the region the tests use.
const Region = "us-east-1"

var moto struct {
	once     sync.Once
	cmd      *exec.Cmd
	endpoint string
	err      error
}

// Moto returns a configuration that talks to a moto_server started for
// this test binary. When moto_server is not on PATH the test is skipped
// (or fails when POSTROOM_REQUIRE_BROKERS is set).
func Moto(t testing.TB) aws.Config {
	t.Helper()
	moto.once.Do(startMoto)
	if moto.err != nil {
		if os.Getenv(testenv.RequireVar) != "" {
			t.Fatalf("moto_server: %v (%s requires it)", moto.err, testenv.RequireVar)
		}
		t.Skipf("moto_server: %v (install moto[server] 5.2 to run these tests against it)", moto.err)
	}
	return Config(moto.endpoint)
}

// Config returns a configuration with static test credentials that sends
// every service's calls to endpoint.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

func startMoto() {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		moto.err = fmt.Errorf("not found on PATH")
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		moto.err = err
		return
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		moto.err = err
		return
	}
	moto.cmd = cmd
	moto.endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, moto.endpoint+"/moto-api/", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			http.DefaultClient.CloseIdleConnections()
			return
		}
		select {
		case <-ctx.Done():
			moto.err = fmt.Errorf("did not answer on %s within a minute", moto.endpoint)
			StopMoto()
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// StopMoto stops the server Moto started, if any. Call it from TestMain
// after m.Run.
func StopMoto() {
	if moto.cmd == nil || moto.cmd.Process == nil {
		return
	}
	stopGroup(moto.cmd)
	_ = moto.cmd.Wait()
	moto.cmd = nil
}
