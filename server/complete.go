package server

import (
	"context"
	"errors"
	"fmt"
)

// errCompletedAlready marks a completion by the driver who completed the
// order already: the order is returned, and nothing is fanned out again.
var errCompletedAlready = errors.New("completed by this driver already")

// completeOrder ends an accepted order's ride for the driver who accepted
// it: the order turns completed, order_completed goes to its rider and to
// drivers (those offered it, when radius-limited), and its driver's
// positions no longer reach the rider. A repeated completion by the same
// driver returns the order and fans out nothing.
func (s *Server) completeOrder(ctx context.Context, orderID, driverID string) (Order, error) {
	o, b, err := s.changeOrder(ctx, func(cur *backend) (Order, error) { return cur.orders.Complete(ctx, orderID, driverID) })
	if errors.Is(err, errCompletedAlready) {
		return o, nil
	}
	if err != nil {
		return o, fmt.Errorf("complete order %s: %w", orderID, err)
	}
	s.counters.ordersCompleted.Add(1)
	msg := OrderCompletedMessage{OrderID: orderID, DriverID: driverID, UserID: o.UserID}
	s.publish(ctx, b, newEvent(ChannelUsers, TypeOrderCompleted, msg, o.UserID))
	s.publish(ctx, b, driversEvent(TypeOrderCompleted, msg, o))
	return o, nil
}
