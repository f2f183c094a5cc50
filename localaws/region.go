package localaws

import (
	"sync"
	"time"

	"github.com/postroom/postroom/memory"
)

// region is the resources of one region of the server's account.
type region struct {
	name  string
	world *memory.World

	mu    sync.Mutex            // guards everything below
	meta  map[string]*queueMeta // by queue name
	tasks []*moveTask
}

// queueMeta is what the endpoint keeps about a queue beside package
// memory's options: timestamps, tags and the attributes memory does not
// act on.
type queueMeta struct {
	created, modified time.Time
	tags              map[string]string
	attrs             map[string]string // RedriveAllowPolicy, Policy, KMS and throughput settings
}

func newRegion(name, account string, opts memory.WorldOptions) *region {
	opts.AccountID, opts.Region = account, name
	return &region{name: name, world: memory.NewWorld(opts), meta: make(map[string]*queueMeta)}
}

// stopTasks cancels the message move tasks and waits for them.
func (r *region) stopTasks() {
	r.mu.Lock()
	tasks := r.tasks
	r.mu.Unlock()
	for _, t := range tasks {
		t.cancel()
	}
	for _, t := range tasks {
		<-t.done
	}
}

// metaOf returns the metadata of queue name, creating it.
func (r *region) metaOf(name string) *queueMeta {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.meta[name]
	if m == nil {
		now := time.Now()
		m = &queueMeta{created: now, modified: now, tags: map[string]string{}, attrs: map[string]string{}}
		r.meta[name] = m
	}
	return m
}
