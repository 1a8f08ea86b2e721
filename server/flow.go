package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
)

// The order operations below are shared by the HTTP API and the WebSocket
// feeds. They check nothing about the caller: authorization happens before.
// Each runs on one backend through Server.do, so one operation never mixes
// Redis and memory state, and never asks which backend it has.

// orderRequest is what a rider asks for: the ride, and how to dispatch it.
// A zero radiusM takes the node's --dispatch-radius; maxDrivers 0 is no cap.
type orderRequest struct {
	userID          string
	pickup, dropoff Point
	radiusM         float64
	maxDrivers      int
}

// createOrder places an order with the node's default dispatch.
func (s *Server) createOrder(ctx context.Context, userID string, pickup, dropoff Point) (Order, error) {
	return s.placeOrder(ctx, orderRequest{userID: userID, pickup: pickup, dropoff: dropoff})
}

// placeOrder stores a new open order and fans new_order out: to every
// driver, or, with a dispatch radius, to the drivers it was offered to
// (see dispatch). When Redis vanishes mid-request the order is made in
// memory instead, so the rider loses nothing; it is written back when
// Redis returns.
func (s *Server) placeOrder(ctx context.Context, req orderRequest) (Order, error) {
	o := Order{
		OrderID:   newOrderID(),
		UserID:    req.userID,
		Status:    StatusOpen,
		Pickup:    req.pickup,
		Dropoff:   req.dropoff,
		CreatedAt: time.Now().UTC(),
	}
	radius := cmp.Or(req.radiusM, s.cfg.DispatchRadius)
	var b *backend
	err := s.do(ctx, true, func(cur *backend) error {
		b = cur
		if radius > 0 {
			if err := s.dispatch(ctx, cur, &o, radius, req.maxDrivers); err != nil {
				return err
			}
		}
		return cur.orders.Create(ctx, o)
	})
	if err != nil {
		return Order{}, fmt.Errorf("create order: %w", err)
	}
	s.counters.ordersCreated.Add(1)
	s.publish(ctx, b, driversEvent(TypeNewOrder, o, o))
	return o, nil
}

// dispatch decides, once, who is offered o: the drivers whose current
// position is within radiusM metres of the pickup, the nearest maxDrivers
// of them when maxDrivers > 0. It records the decision on o.
func (s *Server) dispatch(ctx context.Context, b *backend, o *Order, radiusM float64, maxDrivers int) error {
	near, err := b.locations.Nearby(ctx, o.Pickup, radiusM, maxDrivers, time.Now().Add(-s.cfg.LocationTTL))
	if err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	o.RadiusM, o.MaxDrivers = radiusM, maxDrivers
	o.OfferedTo = make([]string, len(near))
	for i, d := range near {
		o.OfferedTo[i] = d.DriverID
	}
	n := len(near)
	o.Offered = &n
	s.metrics.offeredDrivers.Observe(float64(n))
	return nil
}

// getOrder reads an order from b. A partial backend (memory during an
// outage) does not know orders made elsewhere: "not found" there is
// ErrDegraded, not ErrOrderNotFound.
func (s *Server) getOrder(ctx context.Context, b *backend, orderID string) (Order, error) {
	o, err := b.orders.Get(ctx, orderID)
	if errors.Is(err, ErrOrderNotFound) && b.partial {
		return Order{}, fmt.Errorf("order %s is not known to this node while redis is away: %w", orderID, ErrDegraded)
	}
	return o, err
}

// cancelOrder closes an open order for its own rider and fans
// order_cancelled out to every driver and to the rider's other devices.
func (s *Server) cancelOrder(ctx context.Context, orderID, userID string) (Order, error) {
	o, b, err := s.changeOrder(ctx, func(cur *backend) (Order, error) { return cur.orders.Cancel(ctx, orderID, userID) })
	if err != nil {
		return o, fmt.Errorf("cancel order %s: %w", orderID, err)
	}
	s.counters.ordersCancelled.Add(1)
	s.closeViewers(ctx, b, orderID)
	s.publishCancelled(ctx, b, o)
	return o, nil
}

// publishCancelled fans order_cancelled out to the drivers the order was
// offered to and to its rider.
func (s *Server) publishCancelled(ctx context.Context, b *backend, o Order) {
	msg := OrderCancelledMessage{OrderID: o.OrderID, UserID: o.UserID}
	s.publish(ctx, b, driversEvent(TypeOrderCancelled, msg, o))
	s.publish(ctx, b, newEvent(ChannelUsers, TypeOrderCancelled, msg, o.UserID))
}

// changeOrder runs a state change of one order on the current backend,
// once: never while the node writes its outage back to Redis, and with
// "not found" on a partial backend read as ErrDegraded. It returns the
// backend it ran on, for the events that follow.
func (s *Server) changeOrder(ctx context.Context, change func(cur *backend) (Order, error)) (Order, *backend, error) {
	var o Order
	var b *backend
	err := s.do(ctx, false, func(cur *backend) error {
		b = cur
		if err := s.backends.rejoining(cur); err != nil {
			return err
		}
		var err error
		o, err = change(cur)
		if err != nil {
			s.settleLater(err)
		}
		if errors.Is(err, ErrOrderNotFound) && cur.partial {
			err = ErrDegraded
		}
		return err
	})
	return o, b, err
}

// orderWithViewers reads an order and its current viewer count.
func (s *Server) orderWithViewers(ctx context.Context, orderID string) (Order, error) {
	var o Order
	err := s.do(ctx, true, func(b *backend) error {
		var err error
		if o, err = s.getOrder(ctx, b, orderID); err != nil {
			return err
		}
		n, err := b.viewers.Count(ctx, orderID)
		o.Viewers = &n
		return err
	})
	if err != nil {
		return Order{}, fmt.Errorf("get order %s: %w", orderID, err)
	}
	return o, nil
}

// viewOrder adds driverID to the order's viewers and tells the rider when the
// count changed. Only open orders can be viewed.
func (s *Server) viewOrder(ctx context.Context, orderID, driverID string) error {
	var o Order
	var n int
	var changed bool
	var b *backend
	err := s.do(ctx, true, func(cur *backend) error {
		b = cur
		var err error
		if o, err = s.getOrder(ctx, cur, orderID); err != nil {
			return err
		}
		if o.Status != StatusOpen {
			return ErrOrderNotOpen
		}
		n, changed, err = cur.viewers.View(ctx, orderID, driverID, s.cfg.ViewerTTL)
		return err
	})
	if err != nil {
		return fmt.Errorf("view order %s: %w", orderID, err)
	}
	if changed {
		s.notifyViewers(ctx, b, o.UserID, orderID, n)
	}
	return nil
}

// unviewOrder removes driverID from the order's viewers.
func (s *Server) unviewOrder(ctx context.Context, orderID, driverID string) error {
	var o Order
	var n int
	var changed bool
	var b *backend
	err := s.do(ctx, true, func(cur *backend) error {
		b = cur
		var err error
		if n, changed, err = cur.viewers.Unview(ctx, orderID, driverID); err != nil || !changed {
			return err
		}
		o, err = s.getOrder(ctx, cur, orderID)
		return err
	})
	if err != nil {
		return fmt.Errorf("unview order %s: %w", orderID, err)
	}
	if changed && o.Status == StatusOpen {
		s.notifyViewers(ctx, b, o.UserID, orderID, n)
	}
	return nil
}

// closeViewers forgets the viewers of an order that just closed: nobody views
// a taken or cancelled order, and its rider needs no more counts.
func (s *Server) closeViewers(ctx context.Context, b *backend, orderID string) {
	if err := b.viewers.Clear(ctx, orderID); err != nil {
		err, _ = s.backends.observe(b, err)
		s.log.Warn("clear viewers", "order_id", orderID, "err", err)
	}
}

func (s *Server) notifyViewers(ctx context.Context, b *backend, userID, orderID string, n int) {
	s.publish(ctx, b, newEvent(ChannelUsers, TypeOrderViewers, OrderViewersMessage{OrderID: orderID, UserID: userID, Count: n}, userID))
}

// publish logs ev on b's broker and fans it out. When Redis fails for good,
// the node degrades and the event still reaches this node's own clients
// from memory; the state change it reports is already stored, and it is
// logged in Redis for the other nodes when this node rejoins. It returns the
// event as logged, with a zero id when it could not be logged.
func (s *Server) publish(ctx context.Context, b *backend, ev Event) Event {
	out, err := b.broker.Publish(ctx, ev)
	if err == nil {
		return out
	}
	// Publish again only if the node switched to memory: if Redis merely
	// answered slowly, the event may be logged already.
	err, switched := s.backends.observe(b, err)
	if switched {
		if out, err = s.backends.current().broker.Publish(ctx, ev); err == nil {
			return out
		}
	}
	s.log.Error("publish event", "channel", ev.Channel, "type", ev.Type, "err", err)
	return Event{}
}

// deliver is what the brokers call for every event that reaches this node.
func (s *Server) deliver(ev Event) {
	start := time.Now()
	if s.rides.stale(ev) {
		return
	}
	s.rides.observe(ev)
	s.hub.deliver(ev)
	s.counters.fanouts.Add(1)
	s.metrics.fanoutSeconds.Observe(time.Since(start).Seconds())
}
