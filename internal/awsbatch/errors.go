package awsbatch

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/smithy-go"

	"github.com/postroom/postroom"
)

// WrapErr turns an SDK error into an error of package pkg: a service error
// keeps its code and message and matches kind(code, message); the SDK's
// client-side retry quota tells itself apart (no code; it matches quota);
// a canceled call matches the context's error; anything else is
// postroom.ErrUnavailable.
func WrapErr(pkg, op string, err error, kind func(code, msg string) error, quota error) error {
	if err == nil {
		return nil
	}
	var qe ratelimit.QuotaExceededError
	if errors.As(err, &qe) {
		return &postroom.Error{Pkg: pkg, Op: op, Message: "the SDK's client-side retry quota is exhausted: " + err.Error(),
			Kind: quota, Err: err}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg := ae.ErrorCode(), ae.ErrorMessage()
		return &postroom.Error{Pkg: pkg, Op: op, Code: code, Message: msg, Kind: kind(code, msg), Err: err}
	}
	var rce *aws.RequestCanceledError
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &rce) {
		ctxErr := context.Canceled
		if errors.Is(err, context.DeadlineExceeded) {
			ctxErr = context.DeadlineExceeded
		}
		return &postroom.Error{Pkg: pkg, Op: op, Kind: ctxErr, Err: err}
	}
	return &postroom.Error{Pkg: pkg, Op: op, Kind: postroom.ErrUnavailable, Err: err}
}

// Split groups idx, in order, into calls of at most maxN entries and
// maxBytes bytes, size giving the bytes of the entry at an index. An entry
// larger than maxBytes goes alone.
func Split(idx []int, maxN, maxBytes int, size func(i int) int) [][]int {
	var groups [][]int
	var cur []int
	bytes := 0
	for _, i := range idx {
		sz := size(i)
		if len(cur) > 0 && (len(cur) == maxN || bytes+sz > maxBytes) {
			groups, cur, bytes = append(groups, cur), nil, 0
		}
		cur = append(cur, i)
		bytes += sz
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}
