package contract

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Fields of the order hash OrderKey(id). Numbers are decimal strings
// (strconv 'f' format, shortest exact), times RFC 3339 with nanoseconds in
// UTC.
const (
	OrderFieldOrderID    = "order_id"
	OrderFieldUserID     = "user_id"
	OrderFieldStatus     = "status"
	OrderFieldDriverID   = "driver_id" // "" until accepted
	OrderFieldPickupLat  = "pickup_lat"
	OrderFieldPickupLng  = "pickup_lng"
	OrderFieldDropoffLat = "dropoff_lat"
	OrderFieldDropoffLng = "dropoff_lng"
	OrderFieldCreatedAt  = "created_at"
	// OrderFieldAcceptedAt and OrderFieldCancelledAt are written by the
	// accept and cancel scripts beside status: "<RFC 3339 time>/<token>",
	// the time of the change and a token of the call that made it, so a
	// node whose reply was lost can tell the change was its own. Order does
	// not carry them and DecodeOrder ignores them.
	OrderFieldAcceptedAt  = "accepted_at"
	OrderFieldCancelledAt = "cancelled_at"
	// OrderFieldCompletedAt is accepted_at's twin for completion.
	OrderFieldCompletedAt = "completed_at"

	// The dispatch of a radius-limited order; absent from the hash of an
	// order offered to every driver. radius_m is in metres; max_drivers
	// is absent when there was no cap; offered_to is the comma-separated
	// ids of the drivers offered the order, nearest first ("" for none).
	OrderFieldRadiusM    = "radius_m"
	OrderFieldMaxDrivers = "max_drivers"
	OrderFieldOfferedTo  = "offered_to"
)

// Errors of DecodeOrder. Callers check them with errors.Is.
var (
	// ErrOrderNotFound means the hash is empty: the order was never
	// created, or is past its retention.
	ErrOrderNotFound = errors.New("contract: order not found")
	// ErrCorruptOrder means the hash exists but a field is missing or
	// unreadable. The error is a *CorruptOrderError naming the fields.
	ErrCorruptOrder = errors.New("contract: corrupt order hash")
)

// OrderFields encodes o as the fields of its hash, ready for HSET: the nine
// fields from order_id to created_at, driver_id included when empty, and for
// a radius-limited order radius_m, offered_to and (when capped)
// max_drivers. accepted_at and completed_at are the scripts' to write;
// Viewers and Offered (the length of offered_to) are not stored.
func OrderFields(o Order) map[string]any {
	h := map[string]any{
		OrderFieldOrderID:    o.OrderID,
		OrderFieldUserID:     o.UserID,
		OrderFieldStatus:     string(o.Status),
		OrderFieldDriverID:   o.DriverID,
		OrderFieldPickupLat:  formatCoord(o.Pickup.Lat),
		OrderFieldPickupLng:  formatCoord(o.Pickup.Lng),
		OrderFieldDropoffLat: formatCoord(o.Dropoff.Lat),
		OrderFieldDropoffLng: formatCoord(o.Dropoff.Lng),
		OrderFieldCreatedAt:  o.CreatedAt.UTC().Format(time.RFC3339Nano),
	}
	if o.Targeted() {
		h[OrderFieldRadiusM] = formatCoord(o.RadiusM)
		h[OrderFieldOfferedTo] = strings.Join(o.OfferedTo, ",")
		if o.MaxDrivers > 0 {
			h[OrderFieldMaxDrivers] = strconv.Itoa(o.MaxDrivers)
		}
	}
	return h
}

func formatCoord(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// FieldError is one missing or unreadable field of an order hash.
type FieldError struct {
	Field string
	// Value is the field as stored; empty when Missing.
	Value   string
	Missing bool
	// Reason says what is wrong with Value, as in "not a number".
	Reason string
}

func (e FieldError) Error() string {
	if e.Missing {
		return "field " + e.Field + " is missing"
	}
	return fmt.Sprintf("field %s is %q, %s", e.Field, e.Value, e.Reason)
}

// CorruptOrderError is DecodeOrder's error for a hash with missing or
// unreadable fields. It matches ErrCorruptOrder with errors.Is.
type CorruptOrderError struct {
	// OrderID is the hash's order_id as stored, possibly empty.
	OrderID string
	// Fields lists every bad field, in the order of the OrderField list.
	Fields []FieldError
}

func (e *CorruptOrderError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return fmt.Sprintf("%v %q: %s", ErrCorruptOrder, e.OrderID, strings.Join(parts, "; "))
}

// Unwrap returns ErrCorruptOrder.
func (e *CorruptOrderError) Unwrap() error { return ErrCorruptOrder }

// DecodeOrder decodes an order hash as HGETALL returns it. An empty hash is
// ErrOrderNotFound. A hash whose order_id, user_id, status, coordinates or
// created_at is missing or unreadable, whose driver_id is not an id (or
// empty on an accepted or completed order), or whose dispatch fields
// (radius_m > 0, max_drivers > 0, offered_to a list of ids, present
// together) are unreadable, is a *CorruptOrderError; the Order returned
// with it holds every field that could be read, and the stored text of bad
// ids and statuses, so that incident tools can show what is there. Fields
// outside the OrderField list are ignored.
func DecodeOrder(h map[string]string) (Order, error) {
	if len(h) == 0 {
		return Order{}, ErrOrderNotFound
	}
	d := hashDecoder{h: h}
	o := Order{
		OrderID:   d.id(OrderFieldOrderID),
		UserID:    d.id(OrderFieldUserID),
		Status:    d.status(),
		Pickup:    Point{Lat: d.coord(OrderFieldPickupLat, 90), Lng: d.coord(OrderFieldPickupLng, 180)},
		Dropoff:   Point{Lat: d.coord(OrderFieldDropoffLat, 90), Lng: d.coord(OrderFieldDropoffLng, 180)},
		CreatedAt: d.time(OrderFieldCreatedAt),
		DriverID:  d.driver(),
	}
	d.dispatch(&o)
	if len(d.bad) > 0 {
		return o, &CorruptOrderError{OrderID: h[OrderFieldOrderID], Fields: d.bad}
	}
	return o, nil
}

// hashDecoder reads the fields of one hash, collecting what is wrong.
type hashDecoder struct {
	h   map[string]string
	bad []FieldError
}

func (d *hashDecoder) field(name string) (string, bool) {
	v, ok := d.h[name]
	if !ok {
		d.bad = append(d.bad, FieldError{Field: name, Missing: true})
	}
	return v, ok
}

func (d *hashDecoder) fail(name, value, reason string) {
	d.bad = append(d.bad, FieldError{Field: name, Value: value, Reason: reason})
}

const notAnID = "not 1 to 64 characters of [A-Za-z0-9_-]"

func (d *hashDecoder) id(name string) string {
	v, ok := d.field(name)
	if ok && !ValidID(v) {
		d.fail(name, v, notAnID)
	}
	return v
}

func (d *hashDecoder) status() Status {
	v, ok := d.field(OrderFieldStatus)
	if ok && !Status(v).Valid() {
		d.fail(OrderFieldStatus, v, "not open, accepted, cancelled or completed")
	}
	return Status(v)
}

// coord reads a coordinate in [-limit, limit]; 0 when unreadable.
func (d *hashDecoder) coord(name string, limit float64) float64 {
	v, ok := d.field(name)
	if !ok {
		return 0
	}
	x, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil:
		d.fail(name, v, "not a number")
		return 0
	case !within(x, limit):
		d.fail(name, v, fmt.Sprintf("outside [-%v, %v]", limit, limit))
	}
	return x
}

func (d *hashDecoder) time(name string) time.Time {
	v, ok := d.field(name)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		d.fail(name, v, "not an RFC 3339 time")
	}
	return t
}

// driver reads driver_id, which may be missing or empty until the order is
// accepted.
func (d *hashDecoder) driver() string {
	v := d.h[OrderFieldDriverID]
	switch {
	case v != "" && !ValidID(v):
		d.fail(OrderFieldDriverID, v, notAnID)
	case v == "" && d.h[OrderFieldStatus] == string(StatusAccepted):
		d.fail(OrderFieldDriverID, v, "empty on an accepted order")
	case v == "" && d.h[OrderFieldStatus] == string(StatusCompleted):
		d.fail(OrderFieldDriverID, v, "empty on a completed order")
	}
	return v
}

// dispatch reads the optional radius_m, max_drivers and offered_to into o.
func (d *hashDecoder) dispatch(o *Order) {
	radius, hasRadius := d.h[OrderFieldRadiusM]
	if !hasRadius {
		for _, f := range []string{OrderFieldMaxDrivers, OrderFieldOfferedTo} {
			if v, ok := d.h[f]; ok {
				d.fail(f, v, "present without radius_m")
			}
		}
		return
	}
	r, err := strconv.ParseFloat(radius, 64)
	if err != nil || !(r > 0) || math.IsInf(r, 0) {
		d.fail(OrderFieldRadiusM, radius, "not a number > 0")
	}
	o.RadiusM = r
	if v, ok := d.h[OrderFieldMaxDrivers]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			d.fail(OrderFieldMaxDrivers, v, "not an integer > 0")
		}
		o.MaxDrivers = n
	}
	v, ok := d.field(OrderFieldOfferedTo)
	if ok && v != "" {
		o.OfferedTo = strings.Split(v, ",")
		for _, id := range o.OfferedTo {
			if !ValidID(id) {
				d.fail(OrderFieldOfferedTo, v, "not a comma-separated list of ids")
				break
			}
		}
	}
	n := len(o.OfferedTo)
	o.Offered = &n
}
