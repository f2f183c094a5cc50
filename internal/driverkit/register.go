package driverkit

import (
	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

// Register registers o for each scheme with every one of queue.Register,
// pubsub.Register and broker.Register whose Opener o implements. It
// panics when o implements none, or as those do on a scheme registered
// twice.
func Register(o any, schemes ...string) {
	q, isQ := o.(queue.Opener)
	p, isP := o.(pubsub.Opener)
	b, isB := o.(broker.Opener)
	if !isQ && !isP && !isB {
		panic("driverkit: Register: the opener opens nothing")
	}
	for _, s := range schemes {
		if isQ {
			queue.Register(s, q)
		}
		if isP {
			pubsub.Register(s, p)
		}
		if isB {
			broker.Register(s, b)
		}
	}
}
