package contract

import (
	"fmt"
	"slices"
	"time"
)

// Status is where an order is in its life: open until one driver accepts it
// or its rider cancels it; an accepted order is completed by its driver.
type Status string

// The statuses an order moves through: open, then accepted or cancelled; an
// accepted order, then completed.
const (
	StatusOpen      Status = "open"
	StatusAccepted  Status = "accepted"
	StatusCancelled Status = "cancelled"
	StatusCompleted Status = "completed"
)

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	return s == StatusOpen || s == StatusAccepted || s == StatusCancelled || s == StatusCompleted
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

	// RadiusM is the dispatch radius of a radius-limited order, in metres
	// (> 0): the order was offered only to drivers whose current position
	// was within it of the pickup, by great-circle distance. Zero (absent)
	// on an order offered to every driver.
	RadiusM float64 `json:"radius_m,omitempty"`
	// MaxDrivers, when > 0, capped the drivers offered a radius-limited
	// order to the nearest that many.
	MaxDrivers int `json:"max_drivers,omitempty"`
	// Offered is how many drivers a radius-limited order was offered to,
	// len(OfferedTo); nil (absent) on an order offered to every driver.
	Offered *int `json:"offered,omitempty"`
	// OfferedTo lists the ids of the drivers a radius-limited order was
	// offered to, nearest first, decided once when it was created: only
	// they may accept it. Stored in the order hash, never in JSON: riders
	// do not see driver ids.
	OfferedTo []string `json:"-"`
}

// Targeted reports whether o is radius-limited: offered to the drivers of
// OfferedTo only, rather than to every driver.
func (o Order) Targeted() bool { return o.RadiusM > 0 }

// OfferedToDriver reports whether driverID may accept o: any driver for an
// order offered to every driver, only those of OfferedTo for a
// radius-limited one.
func (o Order) OfferedToDriver(driverID string) bool {
	return !o.Targeted() || slices.Contains(o.OfferedTo, driverID)
}
