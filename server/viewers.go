package server

import (
	"context"
	"time"
)

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
	// Clear forgets every viewer of an order that closed.
	Clear(ctx context.Context, orderID string) error
}
