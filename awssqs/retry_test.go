package awssqs

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/queue"
)

func openFake(t *testing.T, f *fake, opts Options) *Queue {
	t.Helper()
	q, err := open(context.Background(), f, "orders", opts)
	require.NoError(t, err)
	return q
}

func tenMessages() []*queue.Message {
	ms := make([]*queue.Message, 10)
	for i := range ms {
		ms[i] = &queue.Message{Body: []byte(fmt.Sprint("m", i))}
	}
	return ms
}

// Entries 3 and 7 are throttled once: only they are sent again, and the
// Send succeeds as a whole.
func TestSendRetriesOnlyThrottledEntries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.fail = func(body string, attempt int) *types.BatchResultErrorEntry {
			if (body == "m3" || body == "m7") && attempt == 0 {
				return &types.BatchResultErrorEntry{Code: aws.String("ThrottlingException"), Message: aws.String("Rate exceeded")}
			}
			return nil
		}
		q := openFake(t, f, Options{})
		ms := tenMessages()
		require.NoError(t, q.Send(context.Background(), ms...))
		require.Len(t, f.sent, 2)
		assert.Len(t, f.sent[0], 10)
		assert.Equal(t, []string{"m3", "m7"}, f.sent[1], "only the throttled entries are sent again")
		for i, m := range ms {
			assert.Equal(t, fmt.Sprint("id-m", i), m.ID)
			assert.Equal(t, 1+boolInt(i == 3 || i == 7), f.tries[string(m.Body)], "sends of m%d", i)
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A non-retryable entry error is reported in an index-aligned batch error
// and not sent again; a retryable one that keeps failing gives up after
// EntryRetries.
func TestSendReportsNonRetryableEntries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.fail = func(body string, attempt int) *types.BatchResultErrorEntry {
			switch body {
			case "m2":
				return &types.BatchResultErrorEntry{Code: aws.String("InvalidParameterValue"), Message: aws.String("bad"), SenderFault: true}
			case "m5":
				return &types.BatchResultErrorEntry{Code: aws.String("InternalError"), Message: aws.String("oops")}
			}
			return nil
		}
		q := openFake(t, f, Options{EntryRetries: 2})
		ms := tenMessages()
		err := q.Send(context.Background(), ms...)
		var be *postroom.BatchError
		require.ErrorAs(t, err, &be)
		assert.Equal(t, []int{2, 5}, be.Failed())
		assert.ErrorIs(t, be.Errs[2], postroom.ErrInvalid)
		var qe *postroom.Error
		require.ErrorAs(t, be.Errs[2], &qe)
		assert.Equal(t, "InvalidParameterValue", qe.Code)
		assert.Equal(t, "bad", qe.Message)
		assert.ErrorIs(t, be.Errs[5], postroom.ErrUnavailable)
		assert.Equal(t, 1, f.tries["m2"], "a sender fault is not retried")
		assert.Equal(t, 3, f.tries["m5"], "a server fault is retried EntryRetries times")
		assert.Equal(t, 1, f.tries["m0"], "nothing succeeds twice because a sibling failed")
	})
}

func TestErrorTable(t *testing.T) {
	for _, tc := range []struct {
		code, msg string
		want      error
	}{
		{"QueueDoesNotExist", "The specified queue does not exist.", postroom.ErrNotFound},
		{"AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.", postroom.ErrNotFound},
		{"ReceiptHandleIsInvalid", "The input receipt handle is invalid.", postroom.ErrReceiptInvalid},
		{"InvalidParameterValue", "Value x for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", postroom.ErrReceiptExpired},
		{"InvalidParameterValue", "Value 99999 for parameter VisibilityTimeout is invalid.", postroom.ErrInvalid},
		{"MissingParameter", "The request must contain the parameter MessageBody.", postroom.ErrInvalid},
		{"OverLimit", "Too many in flight", postroom.ErrThrottled},
		{"KMS.ThrottlingException", "", postroom.ErrThrottled},
		{"KmsAccessDenied", "", postroom.ErrInvalid},
		{"AWS.SimpleQueueService.PurgeQueueInProgress", "", postroom.ErrPurgeInProgress},
		{"AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "", postroom.ErrTooManyEntries},
		{"BatchRequestTooLong", "", postroom.ErrTooLarge},
	} {
		t.Run(tc.code, func(t *testing.T) {
			err := entryErr("send", tc.code, tc.msg)
			assert.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.code)
		})
	}
}

func TestRetryQuotaToldApart(t *testing.T) {
	err := wrapErr("send", errors.Join(errors.New("api error ThrottlingException"), ratelimitQuota()))
	assert.ErrorIs(t, err, ErrRetryQuotaExceeded)
	assert.ErrorIs(t, err, postroom.ErrThrottled)
	var qe *postroom.Error
	require.ErrorAs(t, err, &qe)
	assert.Empty(t, qe.Code, "no service code: the SDK did not ask the service")
}
