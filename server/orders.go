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
	// Accept moves an open order to accepted for driverID. It returns
	// ErrOrderTaken when another driver has it, ErrOrderNotOpen when it was
	// cancelled and ErrOrderNotFound when it does not exist.
	Accept(ctx context.Context, orderID, driverID string) (Order, error)
	// Cancel moves an open order to cancelled for its own rider; another
	// rider gets ErrNotOrderOwner, a closed order ErrOrderNotOpen.
	Cancel(ctx context.Context, orderID, userID string) (Order, error)
	// Complete moves an accepted order to completed for the driver who
	// accepted it. Another driver gets ErrNotAssignedDriver, an open or
	// cancelled order ErrOrderNotAccepted, an unknown one
	// ErrOrderNotFound. An order the driver completed already is returned
	// with errCompletedAlready.
	Complete(ctx context.Context, orderID, driverID string) (Order, error)
	// Riding counts the rides under way: accepted orders not yet
	// completed, still kept.
	Riding(ctx context.Context) (int64, error)
	// ByUser returns up to limit (at least 1) of userID's orders, whatever
	// their status, newest first (by created_at to the millisecond, then
	// by order id): the newest when before is "", else those after the
	// cursor before. next is the cursor of the following page, "" when
	// there is none. A malformed cursor is ErrBadCursor.
	ByUser(ctx context.Context, userID string, limit int, before string) (orders []Order, next string, err error)
	// DriverOrder returns the order driverID accepted last, the one it is
	// serving, or ErrOrderNotFound when it accepted none that is still
	// kept.
	DriverOrder(ctx context.Context, driverID string) (Order, error)
}
