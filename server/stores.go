package server

import (
	"context"
	"time"
)

// Role says which feed a connection or a token belongs to.
type Role string

// The two kinds of client.
const (
	RoleDriver Role = "driver"
	RoleUser   Role = "user"
)

// OrderStore keeps orders and makes their state changes atomic: of any number
// of concurrent Accept calls for one open order, exactly one succeeds.
type OrderStore interface {
	// Create stores a new open order.
	Create(ctx context.Context, o Order) error
	// Get returns the order or ErrOrderNotFound.
	Get(ctx context.Context, orderID string) (Order, error)
	// Open returns every open order, oldest first.
	Open(ctx context.Context) ([]Order, error)
	// Accept moves an open order to accepted for driverID. It returns
	// ErrOrderTaken when another driver has it, ErrOrderNotOpen when it was
	// cancelled and ErrOrderNotFound when it does not exist.
	Accept(ctx context.Context, orderID, driverID string) (Order, error)
	// Cancel moves an open order to cancelled for its own rider; another
	// rider gets ErrNotOrderOwner, a closed order ErrOrderNotOpen.
	Cancel(ctx context.Context, orderID, userID string) (Order, error)
}

// LockStore holds the short acceptance lock of an order. The lock stops two
// drivers from racing through the order's state change at once on different
// nodes, and lets an operator freeze an order by setting it by hand.
type LockStore interface {
	// Acquire takes the lock for owner unless anyone holds it. It reports
	// the current holder when the lock was not obtained.
	Acquire(ctx context.Context, orderID, owner string, ttl time.Duration) (ok bool, holder string, err error)
	// Release deletes the lock only while owner still holds it.
	Release(ctx context.Context, orderID, owner string) (bool, error)
}

// ViewerStore tracks which drivers look at an order. A viewer set expires as a
// whole ttl after its last View, as the Redis key does.
type ViewerStore interface {
	// View adds driverID and renews the set's expiry. changed is true when
	// the driver was not viewing before.
	View(ctx context.Context, orderID, driverID string, ttl time.Duration) (count int, changed bool, err error)
	// Unview removes driverID; changed is true when it was viewing.
	Unview(ctx context.Context, orderID, driverID string) (count int, changed bool, err error)
	// Count returns how many drivers view the order now.
	Count(ctx context.Context, orderID string) (int, error)
}

// Presence records who is connected anywhere in the cluster. The hub calls
// Join on an id's first local connection and Leave on its last, so a store
// sees each node's view of an id once.
type Presence interface {
	Join(ctx context.Context, role Role, id string) error
	Leave(ctx context.Context, role Role, id string) error
	// Count returns how many distinct ids of role are connected.
	Count(ctx context.Context, role Role) (int64, error)
}

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
