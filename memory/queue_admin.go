package memory

// Options returns the queue's options, with defaults filled in
// (GetQueueAttributes).
func (q *Queue) Options() QueueOptions {
	return *q.options()
}

// FIFO reports whether q is a FIFO queue.
func (q *Queue) FIFO() bool { return q.fifo }

// SetOptions changes the queue's options (SetQueueAttributes), with the
// rules and defaults of NewQueue. A queue's kind cannot change: opts.FIFO is
// ignored. The new visibility timeout and delay apply to messages received
// and sent from now on, as on SQS standard queues.
func (q *Queue) SetOptions(opts QueueOptions) error {
	opts.FIFO = q.fifo
	if err := checkOptions(&opts, q.fifo); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errClosed("set options")
	}
	q.opts.Store(&opts)
	q.broadcast()
	return nil
}
