package longpoll

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/postroom/postroom/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestLimits(t *testing.T) {
	n, wait, err := Limits(queue.ReceiveOptions{}, 100, 20*time.Second)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 20*time.Second, wait)

	n, wait, err = Limits(queue.ReceiveOptions{MaxMessages: 100, NoWait: true}, 100, 20*time.Second)
	require.NoError(t, err)
	assert.Equal(t, 100, n)
	assert.Zero(t, wait, "a negative wait is a short poll")

	for _, m := range []int{-1, 101} {
		_, _, err = Limits(queue.ReceiveOptions{MaxMessages: m}, 100, 0)
		assert.EqualError(t, err, "MaxMessages "+strconv.Itoa(m)+" (want 1 to 100)")
	}
}

// buffer is a pushed-to buffer of bodies, as the drivers keep one.
type buffer struct {
	avail chan struct{}
	mu    sync.Mutex
	buf   []string
}

func (b *buffer) push(body string) {
	b.mu.Lock()
	b.buf = append(b.buf, body)
	b.mu.Unlock()
	select {
	case b.avail <- struct{}{}:
	default:
	}
}

func (b *buffer) take() ([]*queue.Delivery, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ds []*queue.Delivery
	for _, body := range b.buf {
		ds = append(ds, &queue.Delivery{Message: queue.Message{Body: []byte(body)}})
	}
	b.buf = nil
	return ds, nil
}

func TestWait(t *testing.T) {
	ctx := context.Background()
	b := &buffer{avail: make(chan struct{}, 1)}

	ds, err := Wait(ctx, b.avail, time.Now(), b.take)
	require.NoError(t, err)
	assert.Empty(t, ds, "a short poll of an empty buffer")

	b.push("ready")
	ds, err = Wait(ctx, b.avail, time.Now(), b.take)
	require.NoError(t, err)
	require.Len(t, ds, 1, "a short poll takes what is buffered")

	time.AfterFunc(50*time.Millisecond, func() { b.push("later") })
	start := time.Now()
	ds, err = Wait(ctx, b.avail, time.Now().Add(10*time.Second), b.take)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, "later", string(ds[0].Body))
	assert.Less(t, time.Since(start), 5*time.Second, "returns when a message comes")

	start = time.Now()
	ds, err = Wait(ctx, b.avail, time.Now().Add(100*time.Millisecond), b.take)
	require.NoError(t, err)
	assert.Empty(t, ds)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "waits up to the deadline")

	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = Wait(cctx, b.avail, time.Now().Add(10*time.Second), b.take)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	closed := errors.New("closed")
	_, err = Wait(ctx, b.avail, time.Now().Add(10*time.Second), func() ([]*queue.Delivery, error) { return nil, closed })
	require.ErrorIs(t, err, closed, "take's error ends the wait")
}

func TestTake(t *testing.T) {
	type entry struct {
		id   string
		dead bool
	}
	live := func(e *entry) bool { return !e.dead }
	hand := func(e *entry) *queue.Delivery { return &queue.Delivery{Message: queue.Message{ID: e.id}} }
	ids := func(ds []*queue.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	a, b, c, d := &entry{id: "a"}, &entry{id: "b", dead: true}, &entry{id: "c"}, &entry{id: "d"}
	buf := []*entry{a, b, c, d}
	backing := buf

	ds, more := Take(&buf, 2, live, hand)
	assert.Equal(t, []string{"a", "c"}, ids(ds), "the dead entry is dropped, not counted")
	assert.True(t, more)
	assert.Equal(t, []*entry{d}, buf)
	assert.Equal(t, []*entry{nil, nil, nil, d}, backing, "taken entries are cleared for the collector")

	ds, more = Take(&buf, 5, live, hand)
	assert.Equal(t, []string{"d"}, ids(ds))
	assert.False(t, more)
	assert.Nil(t, buf)

	ds, more = Take(&buf, 5, live, hand)
	assert.Nil(t, ds, "an empty buffer hands out nothing")
	assert.False(t, more)

	buf = []*entry{b}
	ds, more = Take(&buf, 1, live, hand)
	assert.Nil(t, ds, "only dead entries: nothing")
	assert.False(t, more)
	assert.Nil(t, buf)
}
