package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// trackEvery is the least time between two driver_location frames of one
// order.
const trackEvery = time.Second

// recordPosition records driverID's position and, while the driver serves
// an accepted order, passes it on to the order's rider (see track). It
// fails only when the position could not be recorded.
func (s *Server) recordPosition(ctx context.Context, driverID string, loc LocationMessage) error {
	now := time.Now()
	p := Point{Lat: loc.Lat, Lng: loc.Lng}
	var b *backend
	err := s.do(ctx, true, func(cur *backend) error {
		b = cur
		return cur.locations.Update(ctx, driverID, p, now)
	})
	if err != nil {
		return fmt.Errorf("record position of %s: %w", driverID, err)
	}
	s.counters.positions.Add(1)
	s.track(ctx, b, driverID, loc, now)
	return nil
}

// track publishes a driver's position as driver_location to the rider of
// the order it serves, at most once a second per order across nodes: this
// node skips positions within a second of the last it passed on, and the
// store's gate (LocationStore.Track) decides between nodes.
func (s *Server) track(ctx context.Context, b *backend, driverID string, loc LocationMessage, at time.Time) {
	rd, known := s.rides.get(driverID)
	if !known {
		rd = s.lookupRide(ctx, b, driverID)
	}
	if rd.orderID == "" || !s.rides.due(driverID, rd.orderID, at) {
		return
	}
	ok, err := b.locations.Track(ctx, rd.orderID, trackEvery)
	if err != nil {
		s.log.Debug("tracking gate", "order_id", rd.orderID, "err", s.observed(b, err))
		return
	}
	if !ok {
		return
	}
	msg := DriverLocationMessage{OrderID: rd.orderID, DriverID: driverID, UserID: rd.userID,
		Lat: loc.Lat, Lng: loc.Lng, Heading: loc.Heading, SpeedMPS: loc.SpeedMPS, UpdatedAt: at.UTC()}
	s.publish(ctx, b, newEvent(ChannelUsers, TypeDriverLocation, msg, rd.userID))
	s.counters.trackingFrames.Add(1)
}

// lookupRide reads the order driverID serves from b, for a driver this
// node has heard no event about, and remembers the answer unless an event
// arrived meanwhile. A read that fails, or that a partial backend cannot
// answer, is not remembered.
func (s *Server) lookupRide(ctx context.Context, b *backend, driverID string) ride {
	o, err := b.orders.DriverOrder(ctx, driverID)
	switch {
	case errors.Is(err, ErrOrderNotFound) && !b.partial:
		return s.rides.learn(driverID, ride{})
	case err != nil:
		s.log.Debug("order of driver", "driver_id", driverID, "err", s.observed(b, err))
		return ride{}
	case o.Status != StatusAccepted:
		return s.rides.learn(driverID, ride{})
	}
	return s.rides.learn(driverID, ride{orderID: o.OrderID, userID: o.UserID})
}

// ride is the order a driver serves, as this node knows it.
type ride struct {
	// orderID and userID name the accepted order and its rider; empty
	// when the driver serves none.
	orderID, userID string
	// passed is when this node last passed a position of it on.
	passed time.Time
}

// rides is what this node knows of the order each driver serves: learnt
// from the order_accepted and order_completed events every node receives,
// and, for drivers it heard nothing about since it started, from the
// store. It lets a position reach its rider without a read per position.
type rides struct {
	mu       sync.Mutex
	byDriver map[string]ride
}

func newRides() *rides { return &rides{byDriver: make(map[string]ride)} }

// get returns what is known of driverID's ride; known is false when
// nothing is.
func (r *rides) get(driverID string) (rd ride, known bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rd, known = r.byDriver[driverID]
	return rd, known
}

// learn records rd, read from the store, unless an event said something
// about driverID first; it returns what is known now.
func (r *rides) learn(driverID string, rd ride) ride {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.byDriver[driverID]; ok {
		return cur
	}
	r.byDriver[driverID] = rd
	return rd
}

// due reports whether a position of driverID's ride of orderID may be
// passed on at, a second or more after the last, and if so marks it
// passed.
func (r *rides) due(driverID, orderID string, at time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	rd, ok := r.byDriver[driverID]
	if !ok || rd.orderID != orderID || at.Sub(rd.passed) < trackEvery {
		return false
	}
	rd.passed = at
	r.byDriver[driverID] = rd
	return true
}

// serving reports whether, as far as this node knows, driverID may still
// serve orderID: false only when an event said its ride ended or another
// began.
func (r *rides) serving(driverID, orderID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	rd, ok := r.byDriver[driverID]
	return !ok || rd.orderID == orderID
}

// reset forgets everything, after a gap in the riders' events that the log
// did not cover.
func (r *rides) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.byDriver)
}

// observe learns from a riders' event what order a driver serves. It runs
// on the delivery path, for every event of ChannelUsers, in id order.
func (r *rides) observe(ev Event) {
	if ev.Channel != ChannelUsers || (ev.Type != TypeOrderAccepted && ev.Type != TypeOrderCompleted) {
		return
	}
	var m struct {
		OrderID  string `json:"order_id"`
		DriverID string `json:"driver_id"`
		UserID   string `json:"user_id"`
	}
	if json.Unmarshal(ev.Message, &m) != nil || m.DriverID == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Type == TypeOrderAccepted {
		r.byDriver[m.DriverID] = ride{orderID: m.OrderID, userID: m.UserID}
		return
	}
	if cur, ok := r.byDriver[m.DriverID]; !ok || cur.orderID == m.OrderID {
		r.byDriver[m.DriverID] = ride{}
	}
}

// stale reports whether ev is a driver_location of a ride that an earlier
// event ended: logged after order_completed by a node that had not heard
// of it yet. Every node drops such an event, so no position follows the
// completion on any feed.
func (r *rides) stale(ev Event) bool {
	if ev.Type != TypeDriverLocation {
		return false
	}
	var m struct {
		OrderID  string `json:"order_id"`
		DriverID string `json:"driver_id"`
	}
	if json.Unmarshal(ev.Message, &m) != nil {
		return false
	}
	return !r.serving(m.DriverID, m.OrderID)
}
