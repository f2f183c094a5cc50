// Package dedup drops the duplicates a consumer handler would otherwise see:
// [Middleware] skips a delivery whose message id (or a key the caller
// derives) was handled successfully within a window.
//
// # When duplicates happen
//
// Delivery is at least once everywhere, and a duplicate is not always
// flagged:
//
//   - SQS standard queues (and the memory driver's standard queues, which
//     copy them) may deliver a message twice by design, and deliver it again
//     when its visibility timeout passes before the delete, or when the
//     delete fails. A redelivery after a timeout has a higher ReceiveCount;
//     a storage-level duplicate may not.
//   - FIFO queues deduplicate sends within 5 minutes, but still redeliver a
//     message whose delete did not happen in time.
//   - Brokers (RabbitMQ, ActiveMQ, Mosquitto) redeliver the messages whose
//     acks were lost when a connection dropped or the broker was killed and
//     restarted; after a broker crash the copy often arrives with no
//     redelivered flag, so ReceiveCount stays 1 and only its id tells.
//
// # What is remembered
//
// Only a successful handling is remembered: when the handler fails, the key
// is forgotten, so that the retry runs the handler again. A message is
// never dropped because an earlier attempt failed.
//
// Two copies handled at the same time (a redelivery after a visibility
// timeout while the first handler still runs, or a broker's duplicate
// arriving on another consumer) are not both run: the first claims the key,
// and the second fails with [ErrInProgress], so the consumer gives it back
// with its retry delay. When it comes back, the first copy has finished:
// if it succeeded the copy is dropped, if it failed the copy is handled.
// The alternative, running both, is what the middleware exists to prevent;
// dropping the second at once would lose the message if the first then
// failed.
// Each such return counts as a receive: with a low maxReceiveCount (or
// consumer.Retry.MaxAttempts), keep the retry delay short enough, or the
// window of duplicates rare enough, that a copy is not dead-lettered for
// waiting.
//
// # Stores
//
// A [Store] holds the claims and the handled keys. [MemoryStore] keeps them
// in the process, which catches the duplicates one consumer process sees;
// consumers in several processes need a shared store (a database or a
// cache with expiring keys) implementing the same two methods.
package dedup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/queue"
)

// defaultWindow is SQS FIFO's deduplication interval.
const defaultWindow = 5 * time.Minute

// ErrInProgress is the error of a delivery whose key another handler call
// holds: the consumer retries it after its backoff delay. Match it with
// errors.Is.
var ErrInProgress = errors.New("dedup: a copy of this message is being handled")

// A Claim is the answer of [Store.Claim].
type Claim int

const (
	// Claimed: the key was free; the caller handles the message and then
	// calls Release.
	Claimed Claim = iota
	// Handled: the key was handled successfully within the window; the
	// message is a duplicate.
	Handled
	// InProgress: another caller holds the key.
	InProgress
)

// A Store remembers claimed and handled keys. Its methods are called
// concurrently.
type Store interface {
	// Claim claims key for lease, unless it is claimed or was handled
	// within its window. A claim that is not released within lease
	// expires (its holder crashed).
	Claim(ctx context.Context, key string, lease time.Duration) (Claim, error)
	// Release ends a claim: when handled is true, key is remembered as
	// handled for window; when it is false, key is forgotten.
	Release(ctx context.Context, key string, handled bool, window time.Duration) error
}

// Options configure [Middleware]. The zero value deduplicates on the
// message id for 5 minutes in a new [MemoryStore].
type Options struct {
	// Window is how long a successfully handled key is remembered. 0
	// means 5 minutes (SQS FIFO's deduplication interval). It should
	// exceed the visibility timeout, so that a redelivery after a lost
	// delete is caught.
	Window time.Duration

	// Lease is how long a claim lasts when its handler never releases it
	// (its process died), for shared stores. 0 means Window.
	Lease time.Duration

	// Key gives the key of a delivery. nil means its message id
	// (Delivery.ID); a message with an empty key is always handled. Derive
	// a key from the body or an attribute when the producer may send the
	// same logical message twice under two ids.
	Key func(d *queue.Delivery) string

	// Store holds the keys. nil means a new [MemoryStore] for this
	// middleware.
	Store Store

	// Dropped, if set, is called for each delivery dropped as a
	// duplicate, for metrics and logs.
	Dropped func(d *queue.Delivery)
}

// Middleware returns consumer middleware that acks (drops) without calling
// the handler a delivery whose key was handled successfully within the
// window, and fails with [ErrInProgress] a delivery whose key another call
// is handling. When the store fails, the delivery fails with the store's
// error and is retried: a store outage never lets a duplicate through
// silently, nor drops a message.
//
// On a FIFO queue, put it as the outermost middleware: a duplicate is then
// acked in its place in the group's order.
func Middleware(opts Options) consumer.Middleware {
	window := opts.Window
	if window <= 0 {
		window = defaultWindow
	}
	lease := opts.Lease
	if lease <= 0 {
		lease = window
	}
	store := opts.Store
	if store == nil {
		store = NewMemoryStore()
	}
	key := opts.Key
	if key == nil {
		key = func(d *queue.Delivery) string { return d.ID }
	}
	return func(next consumer.Handler) consumer.Handler {
		return func(ctx context.Context, d *queue.Delivery) error {
			k := key(d)
			if k == "" {
				return next(ctx, d)
			}
			c, err := store.Claim(ctx, k, lease)
			if err != nil {
				return fmt.Errorf("dedup: claim %q: %w", k, err)
			}
			switch c {
			case Handled:
				if opts.Dropped != nil {
					opts.Dropped(d)
				}
				return nil
			case InProgress:
				return ErrInProgress
			}
			handled := false
			defer func() {
				// Released even when next panics, so that the key does not
				// stay claimed for the lease. A failed Release is not the
				// message's failure: it was handled (or will be retried)
				// all the same; a later copy may only run again.
				_ = store.Release(context.WithoutCancel(ctx), k, handled, window)
			}()
			err = next(ctx, d)
			handled = err == nil
			return err
		}
	}
}
