package server

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The order operations below are shared by the HTTP API and the WebSocket
// feeds. They check nothing about the caller: authorization happens before.

// createOrder stores a new open order and fans new_order out to every driver.
func (s *Server) createOrder(ctx context.Context, userID string, pickup, dropoff Point) (Order, error) {
	o := Order{
		OrderID:   newOrderID(),
		UserID:    userID,
		Status:    StatusOpen,
		Pickup:    pickup,
		Dropoff:   dropoff,
		CreatedAt: time.Now().UTC(),
	}
	if err := s.orders.Create(ctx, o); err != nil {
		return Order{}, fmt.Errorf("create order: %w", err)
	}
	s.counters.ordersCreated.Add(1)
	s.publish(ctx, ChannelDrivers, encodeFrame(TypeNewOrder, o))
	return o, nil
}

// acceptOrder gives the order to driverID if it is open and nobody else is
// accepting it. Exactly one of any number of concurrent calls for an open
// order succeeds; the rest get ErrOrderTaken or ErrLockHeld. A driver that
// already won the order gets it again, so a retried accept is safe.
func (s *Server) acceptOrder(ctx context.Context, orderID, driverID string) (o Order, err error) {
	start := time.Now()
	outcome := "error"
	defer func() {
		s.metrics.acceptSeconds.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
		switch outcome {
		case "won":
			s.counters.acceptsWon.Add(1)
		case "taken", "locked", "not_open":
			s.counters.acceptsLost.Add(1)
		}
	}()

	o, err = s.orders.Get(ctx, orderID)
	if err != nil {
		if errors.Is(err, ErrOrderNotFound) {
			outcome = "not_found"
		}
		return Order{}, fmt.Errorf("accept order %s: %w", orderID, err)
	}
	if o.Status == StatusAccepted && o.DriverID == driverID {
		outcome = "repeat"
		return o, nil
	}
	if o.Status != StatusOpen {
		return o, s.refusal(orderID, o.Status, &outcome)
	}

	ok, holder, err := s.locks.Acquire(ctx, orderID, driverID, s.cfg.LockTTL)
	if err != nil {
		return Order{}, fmt.Errorf("accept order %s: lock: %w", orderID, err)
	}
	if !ok {
		outcome = "locked"
		return Order{}, fmt.Errorf("accept order %s: held by %s: %w", orderID, holder, ErrLockHeld)
	}
	defer func() {
		// The lock only guards the state change; release it at once so an
		// operator never finds a lock left behind by a finished accept.
		if _, rerr := s.locks.Release(context.WithoutCancel(ctx), orderID, driverID); rerr != nil {
			s.log.Warn("release order lock", "order_id", orderID, "driver_id", driverID, "err", rerr)
		}
	}()

	o, err = s.orders.Accept(ctx, orderID, driverID)
	switch {
	case err == nil:
	case errors.Is(err, ErrOrderTaken):
		outcome = "taken"
		return o, fmt.Errorf("accept order %s: %w", orderID, err)
	case errors.Is(err, ErrOrderNotOpen):
		outcome = "not_open"
		return o, fmt.Errorf("accept order %s: %w", orderID, err)
	case errors.Is(err, ErrOrderNotFound):
		outcome = "not_found"
		return Order{}, fmt.Errorf("accept order %s: %w", orderID, err)
	default:
		return Order{}, fmt.Errorf("accept order %s: %w", orderID, err)
	}
	outcome = "won"
	s.counters.ordersAccepted.Add(1)
	msg := OrderAcceptedMessage{OrderID: orderID, DriverID: driverID, UserID: o.UserID}
	frame := encodeFrame(TypeOrderAccepted, msg)
	s.publish(ctx, ChannelDrivers, frame)
	s.publish(ctx, ChannelUsers, frame)
	return o, nil
}

func (s *Server) refusal(orderID string, st Status, outcome *string) error {
	if st == StatusAccepted {
		*outcome = "taken"
		return fmt.Errorf("accept order %s: %w", orderID, ErrOrderTaken)
	}
	*outcome = "not_open"
	return fmt.Errorf("accept order %s: %w", orderID, ErrOrderNotOpen)
}

// cancelOrder closes an open order for its own rider and fans
// order_cancelled out to every driver and to the rider's other devices.
func (s *Server) cancelOrder(ctx context.Context, orderID, userID string) (Order, error) {
	o, err := s.orders.Cancel(ctx, orderID, userID)
	if err != nil {
		return o, fmt.Errorf("cancel order %s: %w", orderID, err)
	}
	s.counters.ordersCancelled.Add(1)
	frame := encodeFrame(TypeOrderCancelled, OrderCancelledMessage{OrderID: orderID, UserID: o.UserID})
	s.publish(ctx, ChannelDrivers, frame)
	s.publish(ctx, ChannelUsers, frame)
	return o, nil
}

// viewOrder adds driverID to the order's viewers and tells the rider when the
// count changed. Only open orders can be viewed.
func (s *Server) viewOrder(ctx context.Context, orderID, driverID string) error {
	o, err := s.orders.Get(ctx, orderID)
	if err != nil {
		return fmt.Errorf("view order %s: %w", orderID, err)
	}
	if o.Status != StatusOpen {
		return fmt.Errorf("view order %s: %w", orderID, ErrOrderNotOpen)
	}
	n, changed, err := s.viewers.View(ctx, orderID, driverID, s.cfg.ViewerTTL)
	if err != nil {
		return fmt.Errorf("view order %s: %w", orderID, err)
	}
	if changed {
		s.notifyViewers(ctx, o.UserID, orderID, n)
	}
	return nil
}

// unviewOrder removes driverID from the order's viewers.
func (s *Server) unviewOrder(ctx context.Context, orderID, driverID string) error {
	n, changed, err := s.viewers.Unview(ctx, orderID, driverID)
	if err != nil {
		return fmt.Errorf("unview order %s: %w", orderID, err)
	}
	if !changed {
		return nil
	}
	o, err := s.orders.Get(ctx, orderID)
	if err != nil {
		return fmt.Errorf("unview order %s: %w", orderID, err)
	}
	s.notifyViewers(ctx, o.UserID, orderID, n)
	return nil
}

func (s *Server) notifyViewers(ctx context.Context, userID, orderID string, n int) {
	s.publish(ctx, ChannelUsers, encodeFrame(TypeOrderViewers, OrderViewersMessage{OrderID: orderID, UserID: userID, Count: n}))
}

// publish hands frame to the broker. A failure is logged, not returned: the
// order's state is already stored, and drivers that miss the frame get the
// open orders again when they reconnect.
func (s *Server) publish(ctx context.Context, ch Channel, frame []byte) {
	if err := s.broker.Publish(ctx, ch, frame); err != nil {
		s.log.Error("publish frame", "channel", ch, "err", err)
	}
}

// deliver is what the broker calls for every frame that reaches this node.
func (s *Server) deliver(ch Channel, frame []byte) {
	start := time.Now()
	s.hub.deliver(ch, frame)
	s.counters.fanouts.Add(1)
	s.metrics.fanoutSeconds.Observe(time.Since(start).Seconds())
}
