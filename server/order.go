package server

import (
	"crypto/rand"
	"encoding/hex"
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

// Point is a place on the map in WGS84 degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

func (p Point) validate() error {
	if p.Lat < -90 || p.Lat > 90 {
		return fmt.Errorf("lat %v is outside [-90, 90]", p.Lat)
	}
	if p.Lng < -180 || p.Lng > 180 {
		return fmt.Errorf("lng %v is outside [-180, 180]", p.Lng)
	}
	return nil
}

// Order is a rider's request for a ride. It is the message of a new_order
// frame and the body of the order API's responses.
type Order struct {
	OrderID   string    `json:"order_id"`
	UserID    string    `json:"user_id"`
	Status    Status    `json:"status"`
	Pickup    Point     `json:"pickup"`
	Dropoff   Point     `json:"dropoff"`
	CreatedAt time.Time `json:"created_at"`
	DriverID  string    `json:"driver_id,omitempty"`
	// Viewers is how many drivers view the order now. Only GET /orders/{id}
	// fills it; fan-out frames leave it out so they stay identical for every
	// driver.
	Viewers *int `json:"viewers,omitempty"`
}

// maxIDLen bounds every id so that keys, logs and frames stay small.
const maxIDLen = 64

// ValidID reports whether id can name a driver, a rider or an order: 1 to 64
// characters of [A-Za-z0-9_-]. The limit keeps Redis keys and log lines
// predictable and rules out separators and wildcards in key names.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// newOrderID returns a fresh random order id. Random rather than sequential so
// that ids from several nodes never collide and cannot be guessed.
func newOrderID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
