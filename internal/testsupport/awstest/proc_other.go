//go:build !unix

package awstest

import "os/exec"

func ownGroup(cmd *exec.Cmd) {}

func stopGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
