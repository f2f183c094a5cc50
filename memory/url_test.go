package memory_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

func TestOpenURL(t *testing.T) {
	q, err := queue.Open(ctx, "mem://url-orders?visibility=45s&delay=2s&wait=3s")
	require.NoError(t, err)
	mq := q.(*memory.Queue)
	assert.Equal(t, "url-orders", mq.Name())
	assert.Equal(t, 45*time.Second, mq.Describe().VisibilityTimeout)

	again, err := queue.Open(ctx, "mem://url-orders")
	require.NoError(t, err)
	assert.Same(t, mq, again, "one name, one queue")
	_, err = queue.Open(ctx, "mem://url-orders?visibility=10s")
	assert.ErrorIs(t, err, postroom.ErrExists, "different options for an existing queue")

	f, err := queue.Open(ctx, "mem://url-orders.fifo?content_based_deduplication=true")
	require.NoError(t, err)
	assert.True(t, f.(*memory.Queue).Describe().FIFO)

	_, err = queue.Open(ctx, "mem://url-dlq")
	require.NoError(t, err)
	src, err := queue.Open(ctx, "mem://url-src?dlq=url-dlq&max_receive_count=2")
	require.NoError(t, err)
	require.NotNil(t, src)

	for _, bad := range []string{
		"mem://x?visibility=forever",
		"mem://x?unknown=1",
		"mem://x?max_receive_count=2",
		"mem://x?visibility=13h",
		"mem://bad%20name",
	} {
		_, err := queue.Open(ctx, bad)
		assert.ErrorIs(t, err, postroom.ErrInvalid, "%s", bad)
	}
	_, err = queue.Open(ctx, "mem://x?dlq=missing")
	assert.ErrorIs(t, err, postroom.ErrNotFound, "the dead-letter queue must exist")
	_, err = queue.Open(ctx, "nosuch://x")
	require.ErrorIs(t, err, postroom.ErrNotFound)
	assert.Contains(t, err.Error(), `unknown scheme "nosuch"`)
	assert.Contains(t, err.Error(), "mem")
}

func FuzzOpenURL(f *testing.F) {
	for _, s := range []string{
		"mem://orders?visibility=30s", "mem://o.fifo?content_based_deduplication=true&deduplication_scope=messageGroup",
		"mem://a?dlq=b&max_receive_count=3", "mem://%zz", "mem:opaque", "://", "mem://x?wait=21s&max_message_size=1024",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := queue.Open(ctx, raw)
		if err != nil {
			if q != nil {
				t.Fatalf("Open(%q) returned a queue and an error", raw)
			}
			return
		}
		// Whatever opened is a working queue.
		mq := q.(*memory.Queue)
		if _, err := mq.Stats(ctx); err != nil && !isClosed(err) {
			t.Fatalf("Stats of %q: %v", raw, err)
		}
	})
}

func isClosed(err error) bool { return errors.Is(err, postroom.ErrClosed) }
