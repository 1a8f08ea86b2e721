package server

import (
	"context"
	"github.com/taxi-hub/taxi/contract"
)

// Channel names a fan-out stream: a Redis channel name of package contract.
type Channel = contract.Channel

// The two fan-out streams.
const (
	ChannelDrivers = contract.ChannelDrivers
	ChannelUsers   = contract.ChannelUsers
)

// Broker logs events and carries them to every node of the cluster, this one
// included. Each broker owns its delivery: it hands every event to the
// node's deliver function once, in id order per channel, and repairs gaps in
// its own transport from its log.
type Broker interface {
	// Publish logs ev under a new id and fans it out. It returns ev with
	// its id and frame. An error means the event may or may not have been
	// logged.
	Publish(ctx context.Context, ev Event) (Event, error)
	// Since returns the events of ch logged after id, oldest first, at
	// most max of them. covered is false when the log no longer holds id
	// (trimmed, never logged here, or lost in a restart) or holds more
	// than max after it: the caller then needs a snapshot instead.
	Since(ctx context.Context, ch Channel, id EventID, max int) (events []Event, covered bool, err error)
	// Tail returns the id of the newest event in ch's log, zero when none.
	// A snapshot read after it reflects every event up to it: a new
	// connection gets the events after it, and none before.
	Tail(ctx context.Context, ch Channel) (EventID, error)
	// Delivered returns once this node has handed the event id of ch to
	// its clients (or a later one), or when ctx ends. Replies that refer
	// to an event wait on it, so they never overtake the event.
	Delivered(ctx context.Context, ch Channel, id EventID) error
}

// deliverFunc receives every event a broker carries to this node. It must
// not block: it runs on the broker's delivery path.
type deliverFunc func(ev Event)
