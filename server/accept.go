package server

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// acceptOrder gives the order to driverID if it is open. Exactly one of any
// number of concurrent calls for an open order succeeds. A loser hears
// ErrOrderTaken once the race is decided; ErrLockHeld only while the
// outcome is genuinely unknown, when the lock stays held longer than it
// takes to decide (an operator froze the order, or a node stalled holding
// it). A driver that already won the order gets it again, so a retried
// accept is safe.
//
// It returns after this node has handed order_accepted to its drivers, so a
// reply sent on the winner's feed comes after that frame.
func (s *Server) acceptOrder(ctx context.Context, orderID, driverID string) (o Order, err error) {
	start := time.Now()
	outcome := "error"
	defer func() {
		s.metrics.acceptSeconds.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
		switch outcome {
		case "won":
			s.counters.acceptsWon.Add(1)
		case "taken", "locked", "not_open", "not_offered":
			s.counters.acceptsLost.Add(1)
		}
	}()

	var b *backend
	err = s.do(ctx, false, func(cur *backend) error {
		b = cur
		if err := s.backends.rejoining(cur); err != nil {
			return err
		}
		var err error
		o, err = s.decideAccept(ctx, cur, orderID, driverID)
		return err
	})
	switch {
	case err == nil:
	case errors.Is(err, errRepeat):
		outcome = "repeat"
		return o, nil
	case errors.Is(err, ErrOrderTaken):
		outcome = "taken"
	case errors.Is(err, ErrOrderNotOpen):
		outcome = "not_open"
	case errors.Is(err, ErrNotOffered):
		outcome = "not_offered"
	case errors.Is(err, ErrOrderNotFound):
		outcome = "not_found"
	case errors.Is(err, ErrLockHeld):
		outcome = "locked"
	}
	if err != nil {
		return o, fmt.Errorf("accept order %s: %w", orderID, err)
	}
	outcome = "won"
	s.counters.ordersAccepted.Add(1)
	s.closeViewers(ctx, b, orderID)
	ev := s.publishAccepted(ctx, b, o)
	if !ev.ID.IsZero() {
		wctx, cancel := context.WithTimeout(ctx, s.cfg.RedisTimeout)
		if err := b.broker.Delivered(wctx, ChannelDrivers, ev.ID); err != nil {
			s.log.Debug("order_accepted not delivered here in time", "order_id", orderID, "err", err)
		}
		cancel()
	}
	return o, nil
}

// publishAccepted fans order_accepted out to every driver and to the
// order's rider, and returns the drivers' event.
func (s *Server) publishAccepted(ctx context.Context, b *backend, o Order) Event {
	msg := OrderAcceptedMessage{OrderID: o.OrderID, DriverID: o.DriverID, UserID: o.UserID}
	ev := s.publish(ctx, b, driversEvent(TypeOrderAccepted, msg, o))
	s.publish(ctx, b, newEvent(ChannelUsers, TypeOrderAccepted, msg, o.UserID))
	return ev
}

// errRepeat marks an accept by the driver who already has the order.
var errRepeat = errors.New("accepted by this driver already")

// decideAccept takes the order's lock and changes its state on b. While
// another driver holds the lock it waits, with backoff, for that driver's
// outcome, up to lockWait. A radius-limited order not offered to driverID
// is ErrNotOffered, whatever its state.
func (s *Server) decideAccept(ctx context.Context, b *backend, orderID, driverID string) (Order, error) {
	wait := min(s.cfg.LockTTL, 2*s.cfg.RedisTimeout)
	deadline := time.Now().Add(wait)
	pause := 2 * time.Millisecond
	for {
		o, err := s.getOrder(ctx, b, orderID)
		if err != nil {
			return Order{}, err
		}
		if !o.OfferedToDriver(driverID) {
			return Order{}, ErrNotOffered
		}
		if (o.Status == StatusAccepted || o.Status == StatusCompleted) && o.DriverID == driverID {
			return o, errRepeat
		}
		if o.Status == StatusAccepted || o.Status == StatusCompleted {
			return o, ErrOrderTaken
		}
		if o.Status != StatusOpen {
			return o, ErrOrderNotOpen
		}
		ok, holder, err := b.locks.Acquire(ctx, orderID, driverID, s.cfg.LockTTL)
		if err != nil {
			return Order{}, fmt.Errorf("lock: %w", err)
		}
		if ok {
			return s.acceptLocked(ctx, b, orderID, driverID)
		}
		if time.Now().Add(pause).After(deadline) {
			return Order{}, fmt.Errorf("held by %s: %w", holder, ErrLockHeld)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return Order{}, ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// acceptLocked changes the order's state while driverID holds its lock, and
// releases the lock at once: it only guards the state change, and an
// operator should never find a lock left behind by a finished accept.
func (s *Server) acceptLocked(ctx context.Context, b *backend, orderID, driverID string) (Order, error) {
	o, err := b.orders.Accept(ctx, orderID, driverID)
	if err != nil {
		s.settleLater(err)
	}
	if _, rerr := b.locks.Release(context.WithoutCancel(ctx), orderID, driverID); rerr != nil {
		s.log.Warn("release order lock", "order_id", orderID, "driver_id", driverID, "err", rerr)
	}
	return o, err
}
