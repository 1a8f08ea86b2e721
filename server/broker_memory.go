package server

import (
	"context"
)

// memoryBroker hands every frame straight to this node: with one node there
// is nobody else to tell.
type memoryBroker struct {
	deliver deliverFunc
}

var _ Broker = (*memoryBroker)(nil)

func (b *memoryBroker) Publish(_ context.Context, ch Channel, frame []byte) error {
	b.deliver(ch, frame)
	return nil
}
