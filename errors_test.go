package postroom_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/postroom/postroom"
)

func TestErrorText(t *testing.T) {
	cause := errors.New("write tcp: connection reset by peer")
	tests := []struct {
		name string
		err  *postroom.Error
		want string
	}{
		{"service error", &postroom.Error{Pkg: "memory", Op: `describe rule "nope"`, Code: "ResourceNotFoundException", Message: "Rule nope does not exist on EventBus b.", Kind: postroom.ErrNotFound},
			`memory: describe rule "nope": ResourceNotFoundException: Rule nope does not exist on EventBus b.`},
		{"kind and detail", &postroom.Error{Pkg: "memory", Op: `open "mem://x?a=b"`, Kind: postroom.ErrInvalid, Message: "unknown query parameter a"},
			`memory: open "mem://x?a=b": invalid argument: unknown query parameter a`},
		{"kind alone", &postroom.Error{Pkg: "amqp", Op: "send", Kind: postroom.ErrClosed}, "amqp: send: closed"},
		{"cause", &postroom.Error{Pkg: "amqp", Op: "send", Kind: postroom.ErrUnavailable, Err: cause}, "amqp: send: write tcp: connection reset by peer"},
		{"no op", &postroom.Error{Pkg: "stomp", Kind: postroom.ErrNotFound}, "stomp: not found"},
		{"driver's own kind", &postroom.Error{Pkg: "amqp", Op: "restore queue q", Kind: fmt.Errorf("amqp: durable queue lost: %w", postroom.ErrNotFound), Message: "declared again"},
			"amqp: restore queue q: durable queue lost: not found: declared again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
			assert.ErrorIs(t, tt.err, tt.err.Kind)
		})
	}
}

func TestErrorUnwrapsCause(t *testing.T) {
	err := fmt.Errorf("outer: %w", &postroom.Error{Pkg: "amqp", Op: "receive", Kind: postroom.ErrUnavailable, Err: io.ErrUnexpectedEOF})
	assert.ErrorIs(t, err, postroom.ErrUnavailable)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	var pe *postroom.Error
	assert.ErrorAs(t, err, &pe)
	assert.Equal(t, "amqp", pe.Pkg)
}

func TestBatchError(t *testing.T) {
	errs := make([]error, 6)
	errs[1] = &postroom.Error{Pkg: "amqp", Op: "send", Kind: postroom.ErrTooLarge, Message: "body of 2 MiB"}
	errs[4] = errors.New("other: boom")
	err := postroom.NewBatchError("amqp", errs)
	var be *postroom.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %T", err)
	}
	assert.Equal(t, []int{1, 4}, be.Failed())
	assert.Equal(t, "amqp: 2 of 6 batch entries failed; [1]: send: message too large: body of 2 MiB; [4]: other: boom", err.Error(),
		"the package is named once; entries from another package keep theirs")
	assert.ErrorIs(t, err, postroom.ErrTooLarge)
	assert.NoError(t, postroom.EntryErr(err, 0))
	assert.ErrorIs(t, postroom.EntryErr(err, 1), postroom.ErrTooLarge)
	assert.NoError(t, postroom.NewBatchError("amqp", make([]error, 3)))
	whole := errors.New("whole call failed")
	assert.Equal(t, whole, postroom.EntryErr(whole, 2))

	many := make([]error, 5)
	for i := range many {
		many[i] = &postroom.Error{Pkg: "memory", Op: "ack", Kind: postroom.ErrReceiptInvalid}
	}
	assert.Equal(t, "memory: 5 of 5 batch entries failed; [0]: ack: receipt handle is invalid; [1]: ack: receipt handle is invalid; [2]: ack: receipt handle is invalid; and 2 more",
		postroom.NewBatchError("memory", many).Error())
}
