package server

import (
	"crypto/rand"
	"encoding/hex"
	"github.com/taxi-hub/taxi/contract"
)

// Status is where an order is in its life; see contract.
type Status = contract.Status

// The statuses an order moves through: open, then accepted or cancelled; an
// accepted order, then completed.
const (
	StatusOpen      = contract.StatusOpen
	StatusAccepted  = contract.StatusAccepted
	StatusCancelled = contract.StatusCancelled
	StatusCompleted = contract.StatusCompleted
)

// Point is a place on the map in WGS84 degrees; see contract.
type Point = contract.Point

// Order is a rider's request for a ride: the message of a new_order frame
// and the body of the order API's responses; see contract.
type Order = contract.Order

// ValidID reports whether id can name a driver, a rider or an order: 1 to 64
// characters of [A-Za-z0-9_-]; see contract.
func ValidID(id string) bool { return contract.ValidID(id) }

// newOrderID returns a fresh random order id. Random rather than sequential so
// that ids from several nodes never collide and cannot be guessed.
func newOrderID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
