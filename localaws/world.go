package localaws

import (
	"sort"
	"strings"
	"sync"

	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

// sqsWorld is what the SQS handlers need from the resources of one account
// in one region.
type sqsWorld interface {
	NewQueue(name string, opts memory.QueueOptions) (*memory.Queue, error)
	Queue(name string) (*memory.Queue, error)
	QueueByARN(arn string) (*memory.Queue, error)
	Queues(prefix string) []*memory.Queue
	DeleteQueue(name string) error
	Close() error
}

// queueSet is the queues of one region, by name.
type queueSet struct {
	region, account string

	mu     sync.Mutex // guards queues
	queues map[string]*memory.Queue
}

func newQueueSet(region, account string) *queueSet {
	return &queueSet{region: region, account: account, queues: make(map[string]*memory.Queue)}
}

var _ sqsWorld = (*queueSet)(nil)

func errNoQueue(op string) error {
	return &queue.Error{Op: op, Code: "AWS.SimpleQueueService.NonExistentQueue",
		Message: "The specified queue does not exist.", Err: queue.ErrNotFound}
}

func (w *queueSet) NewQueue(name string, opts memory.QueueOptions) (*memory.Queue, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q, ok := w.queues[name]; ok {
		return q, nil
	}
	q, err := memory.NewQueue(name, opts)
	if err != nil {
		return nil, err
	}
	w.queues[name] = q
	return q, nil
}

func (w *queueSet) Queue(name string) (*memory.Queue, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q, ok := w.queues[name]; ok {
		return q, nil
	}
	return nil, errNoQueue("get queue")
}

func (w *queueSet) QueueByARN(arn string) (*memory.Queue, error) {
	prefix := "arn:aws:sqs:" + w.region + ":" + w.account + ":"
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		return nil, errNoQueue("get queue")
	}
	return w.Queue(name)
}

func (w *queueSet) Queues(prefix string) []*memory.Queue {
	w.mu.Lock()
	defer w.mu.Unlock()
	var qs []*memory.Queue
	for name, q := range w.queues {
		if strings.HasPrefix(name, prefix) {
			qs = append(qs, q)
		}
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].Name() < qs[j].Name() })
	return qs
}

func (w *queueSet) DeleteQueue(name string) error {
	w.mu.Lock()
	q, ok := w.queues[name]
	delete(w.queues, name)
	w.mu.Unlock()
	if !ok {
		return errNoQueue("delete queue")
	}
	return q.Close()
}

func (w *queueSet) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, q := range w.queues {
		_ = q.Close()
	}
	clear(w.queues)
	return nil
}
