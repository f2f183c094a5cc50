// Package fakeworld is a small stand-in for a memory world in the tests of
// the protocol layers: queues, topics and buses of account 000000000000 in
// us-east-1, by name and ARN.
package fakeworld

import (
	"github.com/postroom/postroom"
	"slices"
	"strings"
	"sync"

	"github.com/postroom/postroom/memory"
)

// World holds queues, topics and buses by name.
type World struct {
	mu     sync.Mutex
	queues map[string]*memory.Queue
	topics map[string]*memory.Topic
	buses  map[string]*memory.Bus
}

// New returns a world with the default bus.
func New() *World {
	w := &World{queues: map[string]*memory.Queue{}, topics: map[string]*memory.Topic{}, buses: map[string]*memory.Bus{}}
	if _, err := w.NewBus("default", memory.BusOptions{}); err != nil {
		panic(err)
	}
	return w
}

func notFound(what string) error {
	return &postroom.Error{Pkg: "memory", Op: "lookup", Code: "NotFound", Message: what + " does not exist", Kind: postroom.ErrNotFound}
}

// Close closes everything.
func (w *World) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.buses {
		b.Close()
	}
	for _, t := range w.topics {
		t.Close()
	}
	for _, q := range w.queues {
		q.Close()
	}
	return nil
}

// NewQueue makes a queue.
func (w *World) NewQueue(name string, opts memory.QueueOptions) (*memory.Queue, error) {
	q, err := memory.NewQueue(name, opts)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.queues[name] = q
	return q, nil
}

// QueueByARN finds a queue.
func (w *World) QueueByARN(arn string) (*memory.Queue, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, q := range w.queues {
		if q.ARN() == arn {
			return q, nil
		}
	}
	return nil, notFound("queue " + arn)
}

// NewTopic makes a topic, or returns the existing one.
func (w *World) NewTopic(name string, opts memory.TopicOptions) (*memory.Topic, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.topics[name]; ok {
		return t, nil
	}
	t, err := memory.NewTopic(name, opts)
	if err != nil {
		return nil, err
	}
	w.topics[name] = t
	return t, nil
}

// Topic finds a topic by name.
func (w *World) Topic(name string) (*memory.Topic, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.topics[name]; ok {
		return t, nil
	}
	return nil, notFound("topic " + name)
}

// TopicByARN finds a topic.
func (w *World) TopicByARN(arn string) (*memory.Topic, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.topics {
		if t.ARN() == arn {
			return t, nil
		}
	}
	return nil, notFound("topic " + arn)
}

// Topics lists topics by name.
func (w *World) Topics(prefix string) []*memory.Topic {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*memory.Topic
	for n, t := range w.topics {
		if strings.HasPrefix(n, prefix) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *memory.Topic) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// DeleteTopic deletes a topic.
func (w *World) DeleteTopic(name string) error {
	w.mu.Lock()
	t, ok := w.topics[name]
	delete(w.topics, name)
	w.mu.Unlock()
	if !ok {
		return notFound("topic " + name)
	}
	return t.Close()
}

// NewBus makes a bus.
func (w *World) NewBus(name string, opts memory.BusOptions) (*memory.Bus, error) {
	b, err := memory.NewBus(name, opts)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buses[name] = b
	return b, nil
}

// Bus finds a bus.
func (w *World) Bus(name string) (*memory.Bus, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if b, ok := w.buses[name]; ok {
		return b, nil
	}
	return nil, notFound("bus " + name)
}

// Buses lists buses by name.
func (w *World) Buses(prefix string) []*memory.Bus {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*memory.Bus
	for n, b := range w.buses {
		if strings.HasPrefix(n, prefix) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b *memory.Bus) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// DeleteBus deletes a bus.
func (w *World) DeleteBus(name string) error {
	w.mu.Lock()
	b, ok := w.buses[name]
	delete(w.buses, name)
	w.mu.Unlock()
	if !ok {
		return notFound("bus " + name)
	}
	return b.Close()
}
