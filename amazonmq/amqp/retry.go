package amqp

import (
	"github.com/postroom/postroom"

	"context"
	"slices"
	"strconv"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// A retryQueue holds messages for a fixed delay and then dead-letters them
// back into their queue: it has a message TTL of the bucket and the
// default exchange as dead-letter exchange, routing to the target queue.
// It is named "<target>.retry.<bucket>", such as "orders.retry.5s".
type retryQueue struct {
	name      string
	target    string
	bucket    time.Duration
	durable   bool // as the target
	exclusive bool // as the target, so it goes with the subscription
}

// retryQueue returns the retry queue of target for delay, rounded up to a
// bucket; a delay over the last bucket is invalid.
func (b *Broker) retryQueue(op, target string, durable, exclusive bool, delay time.Duration) (*retryQueue, error) {
	bucket, ok := b.cfg.bucket(delay)
	if !ok {
		return nil, ek.Errorf(postroom.ErrInvalid, op, "delay %v is longer than the longest retry bucket, %v", delay, b.cfg.RetryBuckets[len(b.cfg.RetryBuckets)-1])
	}
	return &retryQueue{
		name:      retryQueueName(target, bucket),
		target:    target,
		bucket:    bucket,
		durable:   durable,
		exclusive: exclusive,
	}, nil
}

func retryQueueName(target string, bucket time.Duration) string {
	return target + ".retry." + bucketName(bucket)
}

// bucketName prints a bucket compactly: "500ms", "5s", "2m", "1h".
func bucketName(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// expires is the x-expires of a retry queue: the broker deletes it when
// nobody declared it for that long. ensureRetry declares it again when
// half of that has passed, and expires is more than twice the bucket, so
// a queue is only deleted once every message in it has expired.
func (rq *retryQueue) expires() time.Duration {
	return max(2*rq.bucket+time.Minute, 10*time.Minute)
}

// ensureRetries declares the retry queues the messages of todo need and
// returns todo without the messages whose queue could not be declared
// (their errors are set in errs).
func (b *Broker) ensureRetries(ctx context.Context, s *session, out []outgoing, todo []int, errs []error) []int {
	if !slices.ContainsFunc(todo, func(i int) bool { return out[i].retry != nil }) {
		return todo
	}
	var failed map[string]error
	kept := todo[:0:0]
	for _, i := range todo {
		rq := out[i].retry
		if rq == nil {
			kept = append(kept, i)
			continue
		}
		err, seen := failed[rq.name]
		if !seen {
			err = s.ensureRetry(ctx, rq)
			if err != nil {
				if failed == nil {
					failed = map[string]error{}
				}
				failed[rq.name] = err
			}
		}
		if err != nil && !s.dead() {
			errs[i] = wrapErr("declare retry queue", err)
			continue
		}
		kept = append(kept, i)
	}
	return kept
}

// ensureRetry declares rq unless this session declared it recently.
func (s *session) ensureRetry(ctx context.Context, rq *retryQueue) error {
	s.ctlMu.Lock()
	at, ok := s.retries[rq.name]
	s.ctlMu.Unlock()
	if ok && time.Since(at) < rq.expires()/2 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.control(func(ch *amqp091.Channel) error {
		_, err := ch.QueueDeclare(rq.name, rq.durable, false, rq.exclusive, false, amqp091.Table{
			"x-queue-type":              QueueTypeClassic,
			"x-message-ttl":             rq.bucket.Milliseconds(),
			"x-expires":                 rq.expires().Milliseconds(),
			"x-dead-letter-exchange":    "",
			"x-dead-letter-routing-key": rq.target,
		})
		return err
	})
	if err == nil {
		s.ctlMu.Lock()
		s.retries[rq.name] = time.Now()
		s.ctlMu.Unlock()
	}
	return err
}

// forgetRetry makes the next publish to a retry queue declare it again.
func (s *session) forgetRetry(name string) {
	s.ctlMu.Lock()
	delete(s.retries, name)
	s.ctlMu.Unlock()
}

// deleteRetryQueues deletes the retry queues of target, one per bucket.
func (b *Broker) deleteRetryQueues(ch *amqp091.Channel, target string) error {
	for _, bucket := range b.cfg.RetryBuckets {
		if _, err := ch.QueueDelete(retryQueueName(target, bucket), false, false, false); err != nil {
			return err
		}
	}
	return nil
}
