package server

import (
	"context"
)

// Channel names a fan-out stream. The values are the Redis channel names.
type Channel string

// The two fan-out streams.
const (
	ChannelDrivers Channel = "drivers_channel"
	ChannelUsers   Channel = "users_channel"
)

// Broker carries frames to every node of the cluster, this one included. A
// frame published once is handed to each node's deliver function once.
type Broker interface {
	Publish(ctx context.Context, ch Channel, frame []byte) error
}

// deliverFunc receives every frame a broker carries to this node. It must not
// block: it runs on the broker's delivery path.
type deliverFunc func(ch Channel, frame []byte)
