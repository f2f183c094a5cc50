//go:build unix

package awstest

import (
	"os/exec"
	"syscall"
)

// ownGroup starts cmd in a process group of its own, so that stopGroup
// also stops the workers moto_server starts.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// stopGroup sends SIGTERM to cmd's process group.
func stopGroup(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
