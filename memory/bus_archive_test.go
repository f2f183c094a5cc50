package memory_test

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/eventbus"
	"github.com/postroom/postroom/memory"
)

// TestBusArchiveReplay archives events as they are put, then replays a
// time window of them to every rule and to chosen rules.
func TestBusArchiveReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, memory.BusOptions{})
		ordersQ := newQueue(t, "replay-orders", memory.QueueOptions{})
		allQ := newQueue(t, "replay-all", memory.QueueOptions{})
		liveQ := newQueue(t, "replay-live", memory.QueueOptions{})
		rule(t, b, "orders", `{"detail-type":["Order Placed"]}`, eventbus.Target{ID: "q", Queue: ordersQ})
		rule(t, b, "all", `{"source":["com.example.shop"]}`, eventbus.Target{ID: "q", Queue: allQ})
		rule(t, b, "live-only", `{"source":["com.example.shop"],"replay-name":[{"exists":false}]}`, eventbus.Target{ID: "q", Queue: liveQ})

		require.NoError(t, b.CreateArchive(ctx, "everything", eventbus.ArchiveOptions{}))
		require.NoError(t, b.CreateArchive(ctx, "placed", eventbus.ArchiveOptions{
			EventPattern: `{"detail-type":["Order Placed"]}`, Retention: time.Hour}))

		t0 := time.Now()
		placed1 := orderEvent("Order Placed", `{"n":1}`)
		shipped := orderEvent("Order Shipped", `{"n":2}`)
		require.NoError(t, b.Put(ctx, placed1, shipped))
		time.Sleep(time.Hour)
		placed3 := orderEvent("Order Placed", `{"n":3}`)
		require.NoError(t, b.Put(ctx, placed3))
		old := orderEvent("Order Placed", `{"n":0}`)
		old.Time = t0.Add(-time.Minute) // an event time before the window
		require.NoError(t, b.Put(ctx, old))
		live := drainBodies(t, allQ)
		require.Len(t, live, 4)
		drainBodies(t, ordersQ)
		assert.Len(t, drainBodies(t, liveQ), 4)

		a, err := b.DescribeArchive(ctx, "placed")
		require.NoError(t, err)
		assert.Equal(t, 3, a.EventCount)
		assert.Equal(t, 24*time.Hour, a.Retention, "retention is kept in whole days")
		assert.Equal(t, "arn:aws:events:us-east-1:000000000000:archive/placed", a.ARN)
		assert.Positive(t, a.SizeBytes)

		rep, err := b.StartReplay(ctx, eventbus.ReplayOptions{Name: "first-hour", Archive: "everything",
			Start: t0, End: t0.Add(90 * time.Minute)})
		require.NoError(t, err)
		assert.Equal(t, eventbus.ReplayCompleted, rep.State)
		assert.Equal(t, t0.Add(time.Hour), rep.EventLastReplayedTime)
		assert.Equal(t, "arn:aws:events:us-east-1:000000000000:replay/first-hour", rep.ARN)

		replayed := drainBodies(t, allQ)
		require.Len(t, replayed, 3, "the window's events, not the older one")
		with := func(body, name string) string {
			i := strings.Index(body, `,"resources":`)
			return body[:i] + `,"replay-name":"` + name + `"` + body[i:]
		}
		assert.Equal(t, []string{with(live[0], "first-hour"), with(live[1], "first-hour"), with(live[2], "first-hour")}, replayed,
			"the same events, with a replay-name after region")
		assert.Equal(t, []string{`{"n":1}`, `{"n":3}`}, details(t, drainBodies(t, ordersQ)))
		assert.Empty(t, drainBodies(t, liveQ), "a rule can exclude replays by pattern")

		a, err = b.DescribeArchive(ctx, "everything")
		require.NoError(t, err)
		assert.Equal(t, 4, a.EventCount, "replayed events are not archived")

		_, err = b.StartReplay(ctx, eventbus.ReplayOptions{Name: "orders-only", Archive: "everything",
			Start: t0.Add(-time.Hour), End: t0.Add(time.Hour), Rules: []string{"orders"}})
		require.NoError(t, err)
		type replayedEvent struct {
			Detail     json.RawMessage
			ReplayName string `json:"replay-name"`
		}
		var got []replayedEvent
		for _, body := range drainBodies(t, ordersQ) {
			var e replayedEvent
			require.NoError(t, json.Unmarshal([]byte(body), &e))
			got = append(got, e)
		}
		require.Len(t, got, 2)
		assert.Equal(t, `{"n":0}`, string(got[0].Detail), "in event-time order")
		assert.Equal(t, `{"n":1}`, string(got[1].Detail))
		assert.Equal(t, "orders-only", got[0].ReplayName)
		assert.Empty(t, drainBodies(t, allQ), "only the chosen rules")

		d, err := b.DescribeReplay(ctx, "orders-only")
		require.NoError(t, err)
		assert.Equal(t, eventbus.ReplayCompleted, d.State)
		assert.Equal(t, "everything", d.Archive)

		time.Sleep(24 * time.Hour)
		a, err = b.DescribeArchive(ctx, "placed")
		require.NoError(t, err)
		assert.Equal(t, 0, a.EventCount, "past the retention period")
		assert.Zero(t, a.SizeBytes)
		a, err = b.DescribeArchive(ctx, "everything")
		require.NoError(t, err)
		assert.Equal(t, 4, a.EventCount, "no retention keeps events forever")

		require.NoError(t, b.DeleteArchive(ctx, "placed"))
		_, err = b.DescribeArchive(ctx, "placed")
		sqsError(t, err, postroom.ErrNotFound, "ResourceNotFoundException", "Archive placed does not exist.")
	})
}

// TestBusArchiveErrors checks the errors of archives and replays.
func TestBusArchiveErrors(t *testing.T) {
	b := newBus(t, memory.BusOptions{})
	rule(t, b, "r", `{"source":["x"]}`)
	require.NoError(t, b.CreateArchive(ctx, "a", eventbus.ArchiveOptions{}))
	sqsError(t, b.CreateArchive(ctx, "a", eventbus.ArchiveOptions{}), postroom.ErrExists, "ResourceAlreadyExistsException", "Archive a already exists.")
	assert.ErrorIs(t, b.CreateArchive(ctx, strings.Repeat("a", 49), eventbus.ArchiveOptions{}), postroom.ErrInvalid)
	assert.ErrorIs(t, b.CreateArchive(ctx, "p", eventbus.ArchiveOptions{EventPattern: `{"source":[]}`}), eventbus.ErrInvalidPattern)
	assert.ErrorIs(t, b.CreateArchive(ctx, "n", eventbus.ArchiveOptions{Retention: -time.Hour}), postroom.ErrInvalid)

	now := time.Now()
	_, err := b.StartReplay(ctx, eventbus.ReplayOptions{Name: "r", Archive: "a", Start: now, End: now})
	sqsError(t, err, postroom.ErrInvalid, "ValidationException", "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.")
	_, err = b.StartReplay(ctx, eventbus.ReplayOptions{Name: "r", Archive: "nope", Start: now, End: now.Add(time.Hour)})
	assert.ErrorIs(t, err, postroom.ErrNotFound)
	_, err = b.StartReplay(ctx, eventbus.ReplayOptions{Name: "r", Archive: "a", Start: now, End: now.Add(time.Hour), Rules: []string{"nope"}})
	assert.ErrorIs(t, err, postroom.ErrNotFound)
	_, err = b.StartReplay(ctx, eventbus.ReplayOptions{Name: "bad name", Archive: "a", Start: now, End: now.Add(time.Hour)})
	assert.ErrorIs(t, err, postroom.ErrInvalid)
	_, err = b.StartReplay(ctx, eventbus.ReplayOptions{Name: "r", Archive: "a", Start: now, End: now.Add(time.Hour)})
	require.NoError(t, err)
	_, err = b.StartReplay(ctx, eventbus.ReplayOptions{Name: "r", Archive: "a", Start: now, End: now.Add(time.Hour)})
	sqsError(t, err, postroom.ErrExists, "ResourceAlreadyExistsException", "Replay r already exists.")
	_, err = b.DescribeReplay(ctx, "nope")
	assert.ErrorIs(t, err, postroom.ErrNotFound)
}
