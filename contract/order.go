package contract

import (
	"fmt"
	"time"
)

// Status is where an order is in its life: open until one driver accepts it
// or its rider cancels it.
type Status string

// The statuses an order moves through. Open is the only status from which an
// order can change.
const (
	StatusOpen      Status = "open"
	StatusAccepted  Status = "accepted"
	StatusCancelled Status = "cancelled"
)

// Valid reports whether s is one of the three statuses.
func (s Status) Valid() bool {
	return s == StatusOpen || s == StatusAccepted || s == StatusCancelled
}

// Point is a place on the map in WGS84 degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Validate returns an error unless Lat is in [-90, 90] and Lng in
// [-180, 180]; NaN is in neither.
func (p Point) Validate() error {
	if !within(p.Lat, 90) {
		return fmt.Errorf("lat %v is outside [-90, 90]", p.Lat)
	}
	if !within(p.Lng, 180) {
		return fmt.Errorf("lng %v is outside [-180, 180]", p.Lng)
	}
	return nil
}

// within reports whether v is in [-limit, limit], which NaN never is.
func within(v, limit float64) bool { return v >= -limit && v <= limit }

// Order is a rider's request for a ride. It is the message of a new_order
// frame, an element of open_orders, and the body of the order API's
// responses; in Redis it is the hash OrderKey(OrderID) (see OrderFields).
type Order struct {
	OrderID   string    `json:"order_id"`
	UserID    string    `json:"user_id"`
	Status    Status    `json:"status"`
	Pickup    Point     `json:"pickup"`
	Dropoff   Point     `json:"dropoff"`
	CreatedAt time.Time `json:"created_at"`
	// DriverID is the driver who accepted the order; empty until then.
	DriverID string `json:"driver_id,omitempty"`
	// Viewers is how many drivers view the order now. Only GET /orders/{id}
	// fills it; fan-out frames leave it out so they stay identical for every
	// driver. It is never stored in Redis.
	Viewers *int `json:"viewers,omitempty"`
}
