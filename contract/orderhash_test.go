package contract

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// stored turns OrderFields into what HGETALL returns.
func stored(t *testing.T, o Order) map[string]string {
	t.Helper()
	h := map[string]string{}
	for k, v := range OrderFields(o) {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("field %s is a %T, want a string", k, v)
		}
		h[k] = s
	}
	return h
}

func TestOrderHashRoundTrip(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	tests := []Order{
		{OrderID: "a1", UserID: "u1", Status: StatusOpen, Pickup: Point{52.52, 13.405}, Dropoff: Point{52.5, 13.45},
			CreatedAt: time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)},
		// Accepted, at the edges of the map, created in another zone.
		{OrderID: "a2", UserID: "u2", Status: StatusAccepted, DriverID: "d9", Pickup: Point{-90, -180}, Dropoff: Point{90, 180},
			CreatedAt: time.Date(2025, 3, 1, 13, 0, 0, 1, berlin)},
		// Coordinates that need every digit, and zero ones.
		{OrderID: "a3", UserID: "u3", Status: StatusCancelled, Pickup: Point{0.1 + 0.2, 1e-9}, Dropoff: Point{},
			CreatedAt: time.Unix(1, 0)},
	}
	for _, want := range tests {
		h := stored(t, want)
		if len(h) != 9 {
			t.Errorf("OrderFields(%s) has %d fields, want 9: %v", want.OrderID, len(h), h)
		}
		got, err := DecodeOrder(h)
		if err != nil {
			t.Fatalf("DecodeOrder(OrderFields(%s)): %v", want.OrderID, err)
		}
		if !got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("created_at = %v, want %v in UTC", got.CreatedAt, want.CreatedAt)
		}
		got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
		if got != want {
			t.Errorf("round trip of %s = %+v, want %+v", want.OrderID, got, want)
		}
	}
}

func TestOrderFieldsNeverStoreViewers(t *testing.T) {
	n := 3
	h := stored(t, Order{OrderID: "a1", Viewers: &n})
	if _, ok := h["viewers"]; ok || len(h) != 9 {
		t.Fatalf("OrderFields stored viewers: %v", h)
	}
}

func TestDecodeOrderIgnoresFieldsOutsideTheList(t *testing.T) {
	h := stored(t, Order{OrderID: "a1", UserID: "u1", Status: StatusAccepted, DriverID: "d1"})
	h[OrderFieldAcceptedAt] = "2025-03-01T12:00:01Z"
	h["note"] = "added by hand"
	if _, err := DecodeOrder(h); err != nil {
		t.Fatalf("DecodeOrder with accepted_at and an unknown field: %v", err)
	}
}

func TestDecodeOrderNotFound(t *testing.T) {
	for _, h := range []map[string]string{nil, {}} {
		if _, err := DecodeOrder(h); !errors.Is(err, ErrOrderNotFound) || errors.Is(err, ErrCorruptOrder) {
			t.Errorf("DecodeOrder(%v) = %v, want ErrOrderNotFound", h, err)
		}
	}
}

func TestDecodeOrderCorrupt(t *testing.T) {
	good := Order{OrderID: "a1", UserID: "u1", Status: StatusOpen, Pickup: Point{52.52, 13.405}, Dropoff: Point{52.5, 13.45},
		CreatedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	tests := []struct {
		name   string
		change func(h map[string]string)
		bad    []string // the fields named by the error, in order
	}{
		{"created_at unparsable", func(h map[string]string) { h[OrderFieldCreatedAt] = "yesterday" }, []string{OrderFieldCreatedAt}},
		{"created_at missing", func(h map[string]string) { delete(h, OrderFieldCreatedAt) }, []string{OrderFieldCreatedAt}},
		{"status unknown", func(h map[string]string) { h[OrderFieldStatus] = "closed" }, []string{OrderFieldStatus}},
		{"status empty", func(h map[string]string) { h[OrderFieldStatus] = "" }, []string{OrderFieldStatus}},
		{"coordinate not a number", func(h map[string]string) { h[OrderFieldDropoffLat] = "oops" }, []string{OrderFieldDropoffLat}},
		{"coordinate NaN", func(h map[string]string) { h[OrderFieldPickupLng] = "NaN" }, []string{OrderFieldPickupLng}},
		{"coordinate off the map", func(h map[string]string) { h[OrderFieldPickupLat] = "91" }, []string{OrderFieldPickupLat}},
		{"user_id missing", func(h map[string]string) { delete(h, OrderFieldUserID) }, []string{OrderFieldUserID}},
		{"order_id not an id", func(h map[string]string) { h[OrderFieldOrderID] = "a:1" }, []string{OrderFieldOrderID}},
		{"accepted without a driver", func(h map[string]string) { h[OrderFieldStatus] = "accepted" }, []string{OrderFieldDriverID}},
		{"driver_id not an id", func(h map[string]string) { h[OrderFieldDriverID] = "d 1" }, []string{OrderFieldDriverID}},
		{"only a status", func(h map[string]string) {
			clear(h)
			h[OrderFieldStatus] = "open"
		}, []string{OrderFieldOrderID, OrderFieldUserID, OrderFieldPickupLat, OrderFieldPickupLng,
			OrderFieldDropoffLat, OrderFieldDropoffLng, OrderFieldCreatedAt}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := stored(t, good)
			tt.change(h)
			o, err := DecodeOrder(h)
			if !errors.Is(err, ErrCorruptOrder) {
				t.Fatalf("DecodeOrder = %v, want ErrCorruptOrder", err)
			}
			var ce *CorruptOrderError
			if !errors.As(err, &ce) {
				t.Fatalf("DecodeOrder error %T is not a *CorruptOrderError", err)
			}
			var names []string
			for _, f := range ce.Fields {
				names = append(names, f.Field)
			}
			if !slices.Equal(names, tt.bad) {
				t.Fatalf("bad fields = %v, want %v (%v)", names, tt.bad, err)
			}
			// What could be read is still there.
			if o.Status != Status(h[OrderFieldStatus]) || o.OrderID != h[OrderFieldOrderID] {
				t.Fatalf("partial order = %+v from %v", o, h)
			}
		})
	}
}

func TestCorruptOrderErrorText(t *testing.T) {
	h := stored(t, Order{OrderID: "a1", UserID: "u1", Status: StatusOpen, CreatedAt: time.Unix(0, 0)})
	h[OrderFieldDropoffLat] = "oops"
	delete(h, OrderFieldCreatedAt)
	o, err := DecodeOrder(h)
	want := `contract: corrupt order hash "a1": field dropoff_lat is "oops", not a number; field created_at is missing`
	if err == nil || err.Error() != want {
		t.Fatalf("DecodeOrder error = %v, want %s", err, want)
	}
	if o.UserID != "u1" || o.Dropoff.Lat != 0 || !o.CreatedAt.IsZero() {
		t.Fatalf("partial order = %+v", o)
	}
}
