package lockctl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Order is the state of an order as taxi serve keeps it in the hash
// order:<order_id>.
type Order struct {
	OrderID    string
	UserID     string
	Status     string // open, accepted or cancelled
	DriverID   string // empty until accepted
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
	hash := pipe.HGetAll(ctx, OrderPrefix+orderID)
	viewers := pipe.SMembers(ctx, ViewersPrefix+orderID)
	_, _ = pipe.Exec(ctx) // errors are checked per command below

	if err := hash.Err(); err != nil {
		return d, fmt.Errorf("show order %s: read %s%s: %w", orderID, OrderPrefix, orderID, err)
	}
	if err := viewers.Err(); err != nil {
		return d, fmt.Errorf("show order %s: read %s%s: %w", orderID, ViewersPrefix, orderID, err)
	}
	if fields := hash.Val(); len(fields) > 0 {
		d.Order, d.Warnings = parseOrder(orderID, fields)
	}
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

// parseOrder reads the order hash leniently: a damaged field becomes a
// warning, because during an incident a broken order is a finding, not a
// reason to hide the lock.
func parseOrder(orderID string, f map[string]string) (*Order, []string) {
	var warnings []string
	o := &Order{
		OrderID:  f["order_id"],
		UserID:   f["user_id"],
		Status:   f["status"],
		DriverID: f["driver_id"],
	}
	if o.OrderID == "" {
		o.OrderID = orderID
	}
	for _, c := range []struct {
		name string
		dst  *float64
	}{
		{"pickup_lat", &o.PickupLat}, {"pickup_lng", &o.PickupLng},
		{"dropoff_lat", &o.DropoffLat}, {"dropoff_lng", &o.DropoffLng},
	} {
		v, ok := f[c.name]
		if !ok {
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("field %s is %q, not a number", c.name, v))
			continue
		}
		*c.dst = x
	}
	if v, ok := f["created_at"]; ok {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("field created_at is %q, not an RFC 3339 time", v))
		}
		o.CreatedAt = t
	}
	return o, warnings
}
