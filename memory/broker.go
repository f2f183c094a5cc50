package memory

import (
	"context"
	"net/url"
	"sync"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// Broker is an in-process broker: it vends memory queues and topics by
// name, each name one queue or topic for the life of the broker. Like the
// broker drivers, its topics deliver raw: the published body, with the
// attributes as delivery attributes. It never
// disconnects: its state is Connected until Close, then Closed.
type Broker struct {
	world *World // of the queues and topics; not holding them

	mu      sync.Mutex // guards everything below
	closed  bool
	queues  map[string]*Queue
	topics  map[string]*Topic
	watches map[int]func(broker.StateChange)
	nwatch  int
}

var _ broker.Broker = (*Broker)(nil)

// NewBroker returns a new, empty broker.
func NewBroker() *Broker {
	return &Broker{
		world:   NewWorld(WorldOptions{}),
		queues:  make(map[string]*Queue),
		topics:  make(map[string]*Topic),
		watches: make(map[int]func(broker.StateChange)),
	}
}

func init() {
	broker.Register(Scheme, brokerOpener{})
}

type brokerOpener struct{}

// OpenBrokerURL opens "mem://": a new, empty broker for each Open.
func (brokerOpener) OpenBrokerURL(ctx context.Context, u *url.URL) (broker.Broker, error) {
	return NewBroker(), nil
}

// Queue returns the broker's queue of that name, making it with SQS's
// defaults (FIFO when the name ends in ".fifo") the first time.
func (b *Broker) Queue(ctx context.Context, name string) (queue.Queue, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, &postroom.Error{Pkg: "memory", Op: "queue", Kind: postroom.ErrClosed}
	}
	if q, ok := b.queues[name]; ok {
		return q, nil
	}
	opts := QueueOptions{}
	if len(name) > 5 && name[len(name)-5:] == ".fifo" {
		opts.ContentBasedDeduplication = true
	}
	q, err := newQueue(b.world, name, opts)
	if err != nil {
		return nil, err
	}
	b.queues[name] = q
	return q, nil
}

// Topic returns the broker's topic of that name, making it the first time.
func (b *Broker) Topic(ctx context.Context, name string) (pubsub.Topic, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, &postroom.Error{Pkg: "memory", Op: "topic", Kind: postroom.ErrClosed}
	}
	if t, ok := b.topics[name]; ok {
		return t, nil
	}
	opts := TopicOptions{}
	if len(name) > 5 && name[len(name)-5:] == ".fifo" {
		opts.ContentBasedDeduplication = true
	}
	t, err := newTopic(b.world, name, opts)
	if err != nil {
		return nil, err
	}
	t.raw = true
	b.topics[name] = t
	return t, nil
}

// Capabilities reports that the memory broker can do everything.
func (b *Broker) Capabilities() broker.Capabilities {
	return broker.Capabilities{Queues: true, Topics: true, Durable: true, Headers: true, Nack: true, DelayedNack: true}
}

// State returns Connected, or Closed after Close.
func (b *Broker) State() broker.State {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return broker.Closed
	}
	return broker.Connected
}

// NotifyState calls f with the change to Closed when the broker closes:
// the only change a memory broker makes.
func (b *Broker) NotifyState(f func(broker.StateChange)) (stop func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nwatch++
	id := b.nwatch
	b.watches[id] = f
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.watches, id)
	}
}

// Close closes every queue and topic of the broker.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	watches := make([]func(broker.StateChange), 0, len(b.watches))
	for _, f := range b.watches {
		watches = append(watches, f)
	}
	clear(b.watches)
	queues, topics := b.queues, b.topics
	b.mu.Unlock()
	for _, t := range topics {
		_ = t.Close()
		t.closeOwnedQueues()
	}
	for _, q := range queues {
		_ = q.Close()
	}
	for _, f := range watches {
		f(broker.StateChange{From: broker.Connected, To: broker.Closed, Endpoint: "mem://"})
	}
	return nil
}
