package snsapi

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/postroom/postroom"
)

func TestErrorOf(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   string
		status int
	}{
		{&postroom.Error{Pkg: "memory", Code: "NotFound", Message: "Topic does not exist", Kind: postroom.ErrNotFound}, "NotFound", 404},
		{&postroom.Error{Pkg: "memory", Code: "TagLimitExceeded", Kind: postroom.ErrInvalid}, "TagLimitExceeded", 400},
		{&postroom.Error{Pkg: "memory", Code: "FilterPolicyLimitExceeded", Kind: postroom.ErrInvalid}, "FilterPolicyLimitExceeded", 403},
		{&postroom.Error{Pkg: "memory", Kind: postroom.ErrClosed}, "NotFound", 404},
		{&postroom.Error{Pkg: "memory", Kind: postroom.ErrTooLarge}, "InvalidParameter", 400},
		{errors.New("boom"), "InternalError", 500},
	} {
		e := ErrorOf(tc.err)
		assert.Equal(t, tc.code, e.Code, tc.err.Error())
		assert.Equal(t, tc.status, e.Status, tc.err.Error())
		assert.Equal(t, tc.status < 500, e.Sender())
	}
}
