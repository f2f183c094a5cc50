package amqp

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/postroom/postroom"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// An outgoing is one message to publish.
type outgoing struct {
	exchange, key string
	mandatory     bool
	msg           amqp091.Publishing
	// retry, when set, is the retry queue key names; it is declared on
	// the session before the publish.
	retry *retryQueue
}

// A publisher is a channel in confirm mode. Publishes are serialised on
// it; their confirms are pipelined: a batch is written out, then its
// confirms (amqp091's DeferredConfirmations) are awaited together, and
// concurrent batches wait side by side. A goroutine records the messages
// the broker returns as unroutable.
type publisher struct {
	ch       *amqp091.Channel
	done     chan struct{}      // closed when the returns goroutine has exited
	closeErr *amqp091.Error     // why the channel closed; set before done is closed
	barrier  chan chan struct{} // see sync

	mu sync.Mutex // serialises publishing

	rmu      sync.Mutex // guards returned
	returned map[string]*returnedMsgs
}

// returnedMsgs counts the basic.returns of one message id that no publish
// has claimed yet.
type returnedMsgs struct {
	n    int
	last amqp091.Return
}

func newPublisher(b *Broker, conn *amqp091.Connection) (*publisher, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return nil, err
	}
	p := &publisher{
		ch:       ch,
		done:     make(chan struct{}),
		barrier:  make(chan chan struct{}),
		returned: make(map[string]*returnedMsgs),
	}
	// The returns channel is unbuffered on purpose: amqp091's reader
	// hands a basic.return over to the goroutine before it reads the
	// basic.ack that follows it, so by the time a message's confirm is
	// done, the goroutine holds its return; sync then waits until the
	// goroutine has recorded it.
	returns := ch.NotifyReturn(make(chan amqp091.Return))
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	if !b.goroutine(func() { p.loop(returns, closes) }) {
		_ = ch.Close()
		return nil, ek.Closed("send")
	}
	return p, nil
}

func (p *publisher) isDead() bool { return p.ch.IsClosed() }

// loop records returned messages and answers barriers until the channel
// closes.
func (p *publisher) loop(returns <-chan amqp091.Return, closes <-chan *amqp091.Error) {
	defer close(p.done)
	for {
		select {
		case r, ok := <-returns:
			if !ok {
				select {
				case p.closeErr = <-closes:
				default:
				}
				return
			}
			p.rmu.Lock()
			rm := p.returned[r.MessageId]
			if rm == nil {
				rm = &returnedMsgs{}
				p.returned[r.MessageId] = rm
			}
			rm.n++
			rm.last = r
			p.rmu.Unlock()
		case reply := <-p.barrier:
			close(reply)
		}
	}
}

// sync waits until the goroutine has recorded every return it received.
func (p *publisher) sync() {
	reply := make(chan struct{})
	select {
	case p.barrier <- reply:
		<-reply
	case <-p.done:
	}
}

// claimReturn reports whether a return of message id is waiting, and
// takes it.
func (p *publisher) claimReturn(id string) (amqp091.Return, bool) {
	p.rmu.Lock()
	defer p.rmu.Unlock()
	rm := p.returned[id]
	if rm == nil {
		return amqp091.Return{}, false
	}
	if rm.n--; rm.n == 0 {
		delete(p.returned, id)
	}
	return rm.last, true
}

func (p *publisher) anyReturns() bool {
	p.rmu.Lock()
	defer p.rmu.Unlock()
	return len(p.returned) > 0
}

// lostErr is the error of publishes whose channel closed before their
// confirm: the channel's error when the broker closed only the channel,
// errLost (publish again) when the connection went away.
func (p *publisher) lostErr() error {
	<-p.done
	if softChannelError(p.closeErr) {
		return wrapErr("send", p.closeErr)
	}
	return errLost
}

// publish publishes out[idx...] and waits for their confirms. It returns
// one error per index: nil when the broker confirmed the message, errLost
// when the connection went away first, or why it failed.
func (p *publisher) publish(ctx context.Context, s *session, out []outgoing, idx []int) []error {
	errs := make([]error, len(idx))
	if err := s.waitUnblocked(ctx); err != nil {
		for k := range errs {
			errs[k] = err
		}
		return errs
	}

	dcs := make([]*amqp091.DeferredConfirmation, len(idx))
	p.mu.Lock()
	for k, i := range idx {
		o := &out[i]
		if err := o.msg.Headers.Validate(); err != nil {
			errs[k] = wrapErr("send", err)
			continue
		}
		dc, err := p.ch.PublishWithDeferredConfirmWithContext(ctx, o.exchange, o.key, o.mandatory, false, o.msg)
		if err == nil {
			dcs[k] = dc
			continue
		}
		// The headers are valid, so the publish failed writing to the
		// connection: amqp091 shuts the connection down (a failed write
		// starts that asynchronously, a failed flush leaves it to the
		// reader, which sees the same broken socket). The publish is lost
		// like any unconfirmed one, never a final error while ctx lives:
		// wait for the channel to close, then publish again on the next
		// connection.
		if ctx.Err() == nil {
			select {
			case <-p.done:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		} else {
			err = p.lostErr()
		}
		for j := k; j < len(idx); j++ {
			errs[j] = err
		}
		break
	}
	p.mu.Unlock()

	waited := len(dcs)
wait:
	for k, dc := range dcs {
		if dc == nil {
			continue
		}
		select {
		case <-dc.Done():
		case <-ctx.Done():
			waited = k
			break wait
		}
	}
	returns := false
	for k, dc := range dcs[:waited] {
		if dc == nil {
			continue
		}
		if !dc.Acked() {
			if p.ch.IsClosed() {
				errs[k] = p.lostErr()
			} else {
				errs[k] = ErrNacked
			}
			continue
		}
		if out[idx[k]].mandatory {
			returns = true
		}
	}
	if returns {
		p.sync()
		if p.anyReturns() {
			for k, dc := range dcs[:waited] {
				if dc == nil || errs[k] != nil {
					continue
				}
				if r, ok := p.claimReturn(out[idx[k]].msg.MessageId); ok {
					errs[k] = &postroom.Error{Pkg: "amqp",
						Op:      "send",
						Code:    replyCodeName(int(r.ReplyCode)),
						Message: fmt.Sprintf("%s (exchange %q, routing key %q)", r.ReplyText, r.Exchange, r.RoutingKey),
						Kind:    ErrUnroutable,
					}
				}
			}
		}
	}
	for k := waited; k < len(dcs); k++ {
		if dcs[k] != nil {
			errs[k] = fmt.Errorf("amqp: send: waiting for the publisher confirm: %w", ctx.Err())
		}
	}
	return errs
}

// publish publishes out with publisher confirms and returns one error per
// message. A message whose connection breaks before its confirm is
// published again on the next connection, so every entry ends confirmed
// or with an error, never lost without one; ctx bounds the wait.
func (b *Broker) publish(ctx context.Context, op string, out []outgoing, done <-chan struct{}) []error {
	errs := make([]error, len(out))
	todo := make([]int, len(out))
	for i := range todo {
		todo[i] = i
	}
	var retried map[int]bool // messages whose retry queue was declared again
	var last *session
	reopened := 0 // publishing channels lost on one live connection
	for len(todo) > 0 {
		s, err := b.session(ctx, op, done)
		if err != nil {
			for _, i := range todo {
				errs[i] = err
			}
			break
		}
		todo = b.ensureRetries(ctx, s, out, todo, errs)
		if len(todo) == 0 {
			break
		}
		p, err := s.publisher(b)
		if err != nil {
			if s.dead() {
				continue
			}
			err = wrapErr(op, err)
			for _, i := range todo {
				errs[i] = err
			}
			break
		}
		if s == last && !s.dead() {
			// The channel closed under the publishes while the connection
			// stayed up; give up rather than spin if that keeps happening.
			if reopened++; reopened > 3 {
				err := fmt.Errorf("amqp: %s: the publishing channel keeps closing: %w", op, errLost)
				for _, i := range todo {
					errs[i] = err
				}
				break
			}
		}
		last = s
		res := p.publish(ctx, s, out, todo)
		next := todo[:0:0]
		for k, i := range todo {
			switch err := res[k]; {
			case err == errLost:
				next = append(next, i)
			case out[i].retry != nil && errors.Is(err, ErrUnroutable) && !retried[i]:
				// The retry queue expired since it was declared here.
				if retried == nil {
					retried = map[int]bool{}
				}
				retried[i] = true
				s.forgetRetry(out[i].retry.name)
				next = append(next, i)
			default:
				errs[i] = err
			}
		}
		todo = next
	}
	return errs
}

// publishAll publishes msgs, each made an outgoing by conv (which refuses
// the messages it cannot publish), and returns every message's outcome as
// batchResult does. It is Queue.Send and Topic.Publish.
func publishAll[M any](ctx context.Context, b *Broker, op string, msgs []*M, conv func(op string, m *M) (outgoing, error)) error {
	errs := make([]error, len(msgs))
	out := make([]outgoing, 0, len(msgs))
	pos := make([]int, 0, len(msgs))
	for i, m := range msgs {
		o, err := conv(op, m)
		if err != nil {
			errs[i] = err
			continue
		}
		out = append(out, o)
		pos = append(pos, i)
	}
	if len(out) > 0 {
		perrs := b.publish(ctx, op, out, nil)
		for k, i := range pos {
			errs[i] = perrs[k]
		}
	}
	return batchResult(errs)
}

// batchResult turns per-message errors into the error of a batch call:
// nil when all succeeded, the error itself when there is one message or
// all failed with the same error, a *postroom.BatchError otherwise.
func batchResult(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	same := errs[0] != nil
	for _, err := range errs[1:] {
		if err != errs[0] {
			same = false
			break
		}
	}
	if same {
		return errs[0]
	}
	return postroom.NewBatchError("amqp", errs)
}

func replyCodeName(code int) string {
	if rc, ok := replyCodes[code]; ok {
		return rc.name
	}
	return fmt.Sprint(code)
}
