package server

import (
	"context"
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
	// ByUser returns up to limit of a rider's orders, newest first,
	// starting after the order before (empty for the newest). next is the
	// cursor of the following page, empty on the last.
	ByUser(ctx context.Context, userID string, limit int, before string) (orders []Order, next string, err error)
	// Accept moves an open order to accepted for driverID. It returns
	// ErrOrderTaken when another driver has it, ErrOrderNotOpen when it was
	// cancelled and ErrOrderNotFound when it does not exist.
	Accept(ctx context.Context, orderID, driverID string) (Order, error)
	// Cancel moves an open order to cancelled for its own rider; another
	// rider gets ErrNotOrderOwner, a closed order ErrOrderNotOpen.
	Cancel(ctx context.Context, orderID, userID string) (Order, error)
}
