package server

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The order operations below are shared by the HTTP API and the WebSocket
// feeds. They check nothing about the caller: authorization happens before.
// Each takes the backend once, so one operation never mixes Redis and memory
// state; an error from Redis that means Redis is gone degrades the node and
// comes back as ErrDegraded.

// createOrder stores a new open order and fans new_order out to every driver.
// When Redis vanishes mid-request the order is made in memory instead, so the
// rider loses nothing; it is written back when Redis returns.
func (s *Server) createOrder(ctx context.Context, userID string, pickup, dropoff Point) (Order, error) {
	o := Order{
		OrderID:   newOrderID(),
		UserID:    userID,
		Status:    StatusOpen,
		Pickup:    pickup,
		Dropoff:   dropoff,
		CreatedAt: time.Now().UTC(),
	}
	b := s.backend()
	err := s.check(b, b.orders.Create(ctx, o))
	if errors.Is(err, ErrDegraded) {
		b = s.backend()
		err = b.orders.Create(ctx, o)
	}
	if err != nil {
		return Order{}, fmt.Errorf("create order: %w", err)
	}
	s.counters.ordersCreated.Add(1)
	s.publish(ctx, b, ChannelDrivers, encodeFrame(TypeNewOrder, o))
	return o, nil
}

// getOrder reads an order. While degraded, an order this node did not make
// during the outage is unknown here but may exist: that is ErrDegraded, not
// ErrOrderNotFound.
func (s *Server) getOrder(ctx context.Context, b *backend, orderID string) (Order, error) {
	o, err := b.orders.Get(ctx, orderID)
	if errors.Is(err, ErrOrderNotFound) && s.link != nil && b != s.link.redis {
		return Order{}, fmt.Errorf("order %s is not known to this node while redis is away: %w", orderID, ErrDegraded)
	}
	return o, s.check(b, err)
}

// rejoining refuses state changes on the memory backend while the node
// writes it back to Redis: they would be lost or, for an accept, could give
// an order a second winner in Redis.
func (s *Server) rejoining(b *backend) error {
	if s.link != nil && b != s.link.redis && s.link.switching.Load() {
		return fmt.Errorf("rejoining redis: %w", ErrDegraded)
	}
	return nil
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

	b := s.backend()
	if err := s.rejoining(b); err != nil {
		return Order{}, fmt.Errorf("accept order %s: %w", orderID, err)
	}
	o, err = s.getOrder(ctx, b, orderID)
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

	ok, holder, err := b.locks.Acquire(ctx, orderID, driverID, s.cfg.LockTTL)
	if err != nil {
		return Order{}, fmt.Errorf("accept order %s: lock: %w", orderID, s.check(b, err))
	}
	if !ok {
		outcome = "locked"
		return Order{}, fmt.Errorf("accept order %s: held by %s: %w", orderID, holder, ErrLockHeld)
	}
	defer func() {
		// The lock only guards the state change; release it at once so an
		// operator never finds a lock left behind by a finished accept.
		if _, rerr := b.locks.Release(context.WithoutCancel(ctx), orderID, driverID); rerr != nil {
			s.log.Warn("release order lock", "order_id", orderID, "driver_id", driverID, "err", rerr)
		}
	}()

	o, err = b.orders.Accept(ctx, orderID, driverID)
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
		return Order{}, fmt.Errorf("accept order %s: %w", orderID, s.check(b, err))
	}
	outcome = "won"
	s.counters.ordersAccepted.Add(1)
	s.closeViewers(ctx, b, orderID)
	frame := encodeFrame(TypeOrderAccepted, OrderAcceptedMessage{OrderID: orderID, DriverID: driverID, UserID: o.UserID})
	s.publish(ctx, b, ChannelDrivers, frame)
	s.publish(ctx, b, ChannelUsers, frame)
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
	b := s.backend()
	if err := s.rejoining(b); err != nil {
		return Order{}, fmt.Errorf("cancel order %s: %w", orderID, err)
	}
	o, err := b.orders.Cancel(ctx, orderID, userID)
	if errors.Is(err, ErrOrderNotFound) && s.link != nil && b != s.link.redis {
		err = ErrDegraded
	}
	if err != nil {
		return o, fmt.Errorf("cancel order %s: %w", orderID, s.check(b, err))
	}
	s.counters.ordersCancelled.Add(1)
	s.closeViewers(ctx, b, orderID)
	frame := encodeFrame(TypeOrderCancelled, OrderCancelledMessage{OrderID: orderID, UserID: o.UserID})
	s.publish(ctx, b, ChannelDrivers, frame)
	s.publish(ctx, b, ChannelUsers, frame)
	return o, nil
}

// orderWithViewers reads an order and its current viewer count.
func (s *Server) orderWithViewers(ctx context.Context, orderID string) (Order, error) {
	b := s.backend()
	o, err := s.getOrder(ctx, b, orderID)
	if err != nil {
		return Order{}, fmt.Errorf("get order %s: %w", orderID, err)
	}
	n, err := b.viewers.Count(ctx, orderID)
	if err != nil {
		return Order{}, fmt.Errorf("count viewers of %s: %w", orderID, s.check(b, err))
	}
	o.Viewers = &n
	return o, nil
}

// viewOrder adds driverID to the order's viewers and tells the rider when the
// count changed. Only open orders can be viewed.
func (s *Server) viewOrder(ctx context.Context, orderID, driverID string) error {
	b := s.backend()
	o, err := s.getOrder(ctx, b, orderID)
	if err != nil {
		return fmt.Errorf("view order %s: %w", orderID, err)
	}
	if o.Status != StatusOpen {
		return fmt.Errorf("view order %s: %w", orderID, ErrOrderNotOpen)
	}
	n, changed, err := b.viewers.View(ctx, orderID, driverID, s.cfg.ViewerTTL)
	if err != nil {
		return fmt.Errorf("view order %s: %w", orderID, s.check(b, err))
	}
	if changed {
		s.notifyViewers(ctx, b, o.UserID, orderID, n)
	}
	return nil
}

// unviewOrder removes driverID from the order's viewers.
func (s *Server) unviewOrder(ctx context.Context, orderID, driverID string) error {
	b := s.backend()
	n, changed, err := b.viewers.Unview(ctx, orderID, driverID)
	if err != nil {
		return fmt.Errorf("unview order %s: %w", orderID, s.check(b, err))
	}
	if !changed {
		return nil
	}
	o, err := s.getOrder(ctx, b, orderID)
	if err != nil {
		return fmt.Errorf("unview order %s: %w", orderID, err)
	}
	if o.Status == StatusOpen {
		s.notifyViewers(ctx, b, o.UserID, orderID, n)
	}
	return nil
}

// closeViewers forgets the viewers of an order that just closed: nobody views
// a taken or cancelled order, and its rider needs no more counts.
func (s *Server) closeViewers(ctx context.Context, b *backend, orderID string) {
	if err := b.viewers.Clear(ctx, orderID); err != nil {
		s.log.Warn("clear viewers", "order_id", orderID, "err", s.check(b, err))
	}
}

func (s *Server) notifyViewers(ctx context.Context, b *backend, userID, orderID string, n int) {
	s.publish(ctx, b, ChannelUsers, encodeFrame(TypeOrderViewers, OrderViewersMessage{OrderID: orderID, UserID: userID, Count: n}))
}

// publish hands frame to b's broker. When Redis fails, the node degrades and
// the frame still reaches this node's own clients; the state change it
// reports is already stored, and other nodes resend open orders to their
// drivers after their own gap.
func (s *Server) publish(ctx context.Context, b *backend, ch Channel, frame []byte) {
	err := b.broker.Publish(ctx, ch, frame)
	if err == nil {
		return
	}
	// Publish again only if the node switched to memory: if Redis merely
	// answered slowly, the frame may have gone out already.
	if errors.Is(s.check(b, err), ErrDegraded) {
		if nb := s.backend(); nb != b {
			err = nb.broker.Publish(ctx, ch, frame)
		}
	}
	if err != nil {
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
