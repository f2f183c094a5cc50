package localaws

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/postroom/postroom/localaws/internal/awsreq"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
)

// moveTask is a dead-letter redrive (StartMessageMoveTask): it moves the
// messages of a dead-letter queue to a destination queue, or back to the
// queues they came from, as new messages.
type moveTask struct {
	handle    string
	source    *memory.Queue
	sourceARN string
	dest      *memory.Queue // nil: each message's source queue
	destARN   string
	maxPerSec *int64
	started   time.Time
	toMove    int64
	cancel    context.CancelFunc
	done      chan struct{}
	// Guarded by region.mu:
	status string // RUNNING, COMPLETED, CANCELLED, FAILED
	moved  int64
	reason string
}

func (c *sqsCall) startMessageMoveTask() (sqsOutput, *awsreq.Error) {
	if c.in.SourceArn == "" {
		return nil, missing("SourceArn")
	}
	src, err := c.reg.world.QueueByARN(c.in.SourceArn)
	if err != nil {
		return nil, sqsError("ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	isDLQ := false
	for _, q := range c.reg.world.Queues("") {
		if rp := q.Options().RedrivePolicy; rp != nil && rp.DeadLetterQueue == src {
			isDLQ = true
		}
	}
	if !isDLQ {
		return nil, invalidParam("Source queue must be configured as a Dead Letter Queue.")
	}
	t := &moveTask{handle: base64.RawURLEncoding.EncodeToString([]byte(awsreq.RequestID())),
		source: src, sourceARN: c.in.SourceArn, started: time.Now(), status: "RUNNING", done: make(chan struct{})}
	if c.in.DestinationArn != "" {
		dest, err := c.reg.world.QueueByARN(c.in.DestinationArn)
		if err != nil {
			return nil, sqsError("ResourceNotFoundException", "The resource that you specified for the DestinationArn parameter doesn't exist.")
		}
		t.dest, t.destARN = dest, c.in.DestinationArn
	}
	if n, given, e := intParam(c.in.MaxPerSecond, "MaxNumberOfMessagesPerSecond"); e != nil {
		return nil, e
	} else if given {
		if n < 1 || n > 500 {
			return nil, invalidParam(fmt.Sprintf("Value %d for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be between 1 and 500.", n))
		}
		t.maxPerSec = &n
	}
	if st, err := src.Stats(c.ctx); err == nil {
		t.toMove = int64(st.Visible)
	}
	reg := c.reg
	reg.mu.Lock()
	for _, o := range reg.tasks {
		if o.source == src && o.status == "RUNNING" {
			reg.mu.Unlock()
			return nil, invalidParam("There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
		}
	}
	var ctx context.Context
	ctx, t.cancel = context.WithCancel(context.Background())
	reg.tasks = append(reg.tasks, t)
	reg.mu.Unlock()
	go reg.runMove(ctx, t)
	return &taskHandleOutput{t.handle}, nil
}

// runMove moves the visible messages of t.source until none is left or the
// task is canceled.
func (r *region) runMove(ctx context.Context, t *moveTask) {
	defer close(t.done)
	status, reason := "COMPLETED", ""
	for ctx.Err() == nil {
		ds, err := t.source.Receive(ctx, queue.ReceiveOptions{MaxMessages: 10, WaitTime: time.Nanosecond})
		if err != nil || len(ds) == 0 {
			if err != nil && ctx.Err() == nil {
				status, reason = "FAILED", err.Error()
			}
			break
		}
		var moved []*queue.Delivery
		for _, d := range ds {
			dest := t.dest
			if dest == nil {
				q, err := r.world.QueueByARN(deadLetterSource(d))
				if err != nil {
					status, reason = "FAILED", "The source queue of message "+d.ID+" no longer exists."
					continue
				}
				dest = q
			}
			m := &queue.Message{Body: d.Body, Attributes: d.Attributes, GroupID: d.GroupID, DeduplicationID: d.DeduplicationID}
			if !dest.FIFO() {
				m.DeduplicationID = ""
			}
			if err := dest.Send(ctx, m); err != nil {
				status, reason = "FAILED", err.Error()
				continue
			}
			moved = append(moved, d)
		}
		if len(moved) > 0 {
			_ = t.source.Ack(ctx, moved...)
		}
		r.mu.Lock()
		t.moved += int64(len(moved))
		r.mu.Unlock()
		if status == "FAILED" {
			break
		}
	}
	r.mu.Lock()
	if t.status == "RUNNING" {
		t.status, t.reason = status, reason
	}
	r.mu.Unlock()
}

func (c *sqsCall) listMessageMoveTasks() (sqsOutput, *awsreq.Error) {
	if c.in.SourceArn == "" {
		return nil, missing("SourceArn")
	}
	src, err := c.reg.world.QueueByARN(c.in.SourceArn)
	if err != nil {
		return nil, sqsError("ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	max, given, e := intParam(c.in.MaxResults, "MaxResults")
	if e != nil {
		return nil, e
	}
	if !given {
		max = 1
	}
	if max < 1 || max > 10 {
		return nil, invalidParam(fmt.Sprintf("Value %d for parameter MaxResults is invalid. Reason: must be between 1 and 10.", max))
	}
	out := &listTasksOutput{}
	c.reg.mu.Lock()
	defer c.reg.mu.Unlock()
	for i := len(c.reg.tasks) - 1; i >= 0 && int64(len(out.Results)) < max; i-- {
		t := c.reg.tasks[i]
		if t.source != src {
			continue
		}
		en := moveTaskEntry{Status: t.status, SourceArn: t.sourceARN, DestinationArn: t.destARN,
			MaxPerSecond: t.maxPerSec, Moved: t.moved, ToMove: t.toMove, FailureReason: t.reason,
			Started: t.started.UnixMilli()}
		if t.status == "RUNNING" {
			en.TaskHandle = t.handle
		}
		out.Results = append(out.Results, en)
	}
	return out, nil
}

func (c *sqsCall) cancelMessageMoveTask() (sqsOutput, *awsreq.Error) {
	if c.in.TaskHandle == "" {
		return nil, missing("TaskHandle")
	}
	c.reg.mu.Lock()
	var t *moveTask
	for _, o := range c.reg.tasks {
		if o.handle == c.in.TaskHandle {
			t = o
		}
	}
	if t == nil || t.status != "RUNNING" {
		c.reg.mu.Unlock()
		return nil, sqsError("ResourceNotFoundException", "Task does not exist.")
	}
	t.status = "CANCELLED"
	c.reg.mu.Unlock()
	t.cancel()
	<-t.done
	c.reg.mu.Lock()
	defer c.reg.mu.Unlock()
	return &cancelTaskOutput{Moved: t.moved}, nil
}
