package server

import (
	"context"
	"time"
)

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
