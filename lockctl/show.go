package lockctl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taxi-hub/taxi/contract"
)

// Order is an order as taxi lock show prints it: the hash
// order:<order_id> decoded by contract.DecodeOrder, coordinates flattened.
type Order struct {
	OrderID    string
	UserID     string
	Status     contract.Status // open, accepted or cancelled
	DriverID   string          // empty until accepted
	PickupLat  float64
	PickupLng  float64
	DropoffLat float64
	DropoffLng float64
	CreatedAt  time.Time
}

// Detail is everything an on-call engineer needs to judge one order's lock.
type Detail struct {
	OrderID string
	// Lock is nil when the order has no lock.
	Lock *Lock
	// Order is nil when the order is not in Redis (never created, or past
	// its retention).
	Order *Order
	// Viewers are the driver ids looking at the order, sorted.
	Viewers []string
	// Warnings name fields of the order hash that could not be read; they
	// never hide the lock.
	Warnings []string
}

// Show reads the lock of an order beside the order's state and viewers, in
// one pipeline. If order_lock:<id> is not a string it returns the rest of
// the Detail with an error wrapping ErrNotLock.
func (c *Controller) Show(ctx context.Context, orderID string) (Detail, error) {
	if err := ValidateOrderID(orderID); err != nil {
		return Detail{}, err
	}
	d := Detail{OrderID: orderID}
	pipe := c.rdb.Pipeline()
	get := pipe.Get(ctx, LockKey(orderID))
	ttl := pipe.PTTL(ctx, LockKey(orderID))
	hash := pipe.HGetAll(ctx, contract.OrderKey(orderID))
	viewers := pipe.SMembers(ctx, contract.ViewersKey(orderID))
	_, _ = pipe.Exec(ctx) // errors are checked per command below

	if err := hash.Err(); err != nil {
		return d, fmt.Errorf("show order %s: read %s: %w", orderID, contract.OrderKey(orderID), err)
	}
	if err := viewers.Err(); err != nil {
		return d, fmt.Errorf("show order %s: read %s: %w", orderID, contract.ViewersKey(orderID), err)
	}
	d.Order, d.Warnings = decodeOrder(orderID, hash.Val())
	d.Viewers = viewers.Val()
	slices.Sort(d.Viewers)

	owner, err := get.Result()
	switch {
	case errors.Is(err, redis.Nil):
		return d, nil
	case isWrongType(err):
		return d, fmt.Errorf("show lock %s: %w", orderID, ErrNotLock)
	case err != nil:
		return d, fmt.Errorf("show lock %s: %w", orderID, err)
	}
	t, err := ttl.Result()
	if err != nil {
		return d, fmt.Errorf("show lock %s: %w", orderID, err)
	}
	switch t {
	case -2:
		return d, nil // expired between the two reads
	case -1:
		t = NoExpiry
	}
	d.Lock = &Lock{OrderID: orderID, Owner: owner, TTL: t}
	return d, nil
}

// decodeOrder decodes the order hash h leniently: a missing or damaged
// field becomes a warning, because during an incident a broken order is a
// finding, not a reason to hide the lock. It returns nil for an order that
// is not in Redis.
func decodeOrder(orderID string, h map[string]string) (*Order, []string) {
	o, err := contract.DecodeOrder(h)
	if errors.Is(err, contract.ErrOrderNotFound) {
		return nil, nil
	}
	var warnings []string
	var corrupt *contract.CorruptOrderError
	switch {
	case errors.As(err, &corrupt):
		for _, f := range corrupt.Fields {
			warnings = append(warnings, f.Error())
		}
	case err != nil:
		warnings = append(warnings, err.Error())
	}
	if o.OrderID == "" {
		o.OrderID = orderID
	}
	return &Order{
		OrderID:    o.OrderID,
		UserID:     o.UserID,
		Status:     o.Status,
		DriverID:   o.DriverID,
		PickupLat:  o.Pickup.Lat,
		PickupLng:  o.Pickup.Lng,
		DropoffLat: o.Dropoff.Lat,
		DropoffLng: o.Dropoff.Lng,
		CreatedAt:  o.CreatedAt,
	}, warnings
}
