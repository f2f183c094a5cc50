package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/internal/sqsmd5"
)

// TestCLIUsage checks --help and the exit codes of usage errors with the
// built binary.
func TestCLIUsage(t *testing.T) {
	c := buildCLI(t)
	for _, v := range verbs {
		t.Run(v.name, func(t *testing.T) {
			for _, h := range []string{"--help", "-h"} {
				r := c.ok(v.name, h)
				assert.True(t, strings.HasPrefix(r.stdout, "usage: postroom "+v.name+" [flags]"), r.stdout)
			}
			c.fails(2, v.name, "--no-such-flag")
		})
	}
	r := c.ok("help")
	for _, v := range verbs {
		assert.Contains(t, r.stdout, "\n  "+v.name+" ")
	}
	assert.Equal(t, `postroom: unknown verb "nope" (see postroom help)`, c.fails(2, "nope"))
	assert.Equal(t, "postroom: no verb given (see postroom help)", c.fails(2))
	assert.Equal(t, "postroom: send: want QUEUE-URL [BODY], got 3 arguments (see postroom send --help)", c.fails(2, "send", "mem://q", "a", "b"))
	assert.Contains(t, c.fails(2, "send", "nope://q", "a"), "no queue driver for nope://")
	assert.Contains(t, c.fails(2, "send", "not a url", "a"), "is not a URL")
	assert.Contains(t, c.fails(2, "publish", "mem://t", "a", "--attr", "n:Nope=1"), `unknown type "Nope"`)
	assert.Contains(t, c.fails(2, "receive", "--wait", "soon", "mem://q"), "invalid value")
	assert.Contains(t, c.fails(2, "receive", "--max", "0", "mem://q"), "--max")
	assert.Contains(t, c.fails(2, "put-events", "mem://default", "--entries", "file:///no/such/file"), "--entries")

	// Flags after the arguments, and "--" before a body that starts
	// with a dash.
	var sent sendOut
	c.ok("send", "mem://q", "--", "-body-").json(t, &sent)
	require.NotEmpty(t, sent.MessageId)
	assert.Equal(t, sqsmd5.Body([]byte("-body-")), sent.MD5OfMessageBody)
	c.ok("send", "mem://q", "body", "--group", "g").json(t, &sent)
	assert.NotEmpty(t, sent.MessageId)
	// mem:// receipts live in one process.
	assert.Contains(t, c.fails(1, "delete", "mem://q", "r"), "receive --ack")
	assert.Contains(t, c.fails(1, "purge", "amqp://127.0.0.1:1/?queue=q"), "postroom: purge")
}
