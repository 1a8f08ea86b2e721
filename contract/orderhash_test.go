package contract

import (
	"cmp"
	"errors"
	"reflect"
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
	two, none := 2, 0
	targeted := []Order{
		// Radius-limited, offered to two drivers, capped, completed.
		{OrderID: "a4", UserID: "u4", Status: StatusCompleted, DriverID: "d2", Pickup: Point{52.52, 13.405}, Dropoff: Point{52.5, 13.45},
			CreatedAt: time.Unix(2, 0).UTC(), RadiusM: 2000.5, MaxDrivers: 5, Offered: &two, OfferedTo: []string{"d2", "d1"}},
		// Radius-limited, offered to nobody, without a cap.
		{OrderID: "a5", UserID: "u5", Status: StatusOpen, Pickup: Point{52.52, 13.405}, Dropoff: Point{52.5, 13.45},
			CreatedAt: time.Unix(3, 0).UTC(), RadiusM: 1, Offered: &none},
	}
	fields := map[string]int{"a4": 12, "a5": 11}
	for _, want := range append(tests, targeted...) {
		h := stored(t, want)
		if n := cmp.Or(fields[want.OrderID], 9); len(h) != n {
			t.Errorf("OrderFields(%s) has %d fields, want %d: %v", want.OrderID, len(h), n, h)
		}
		got, err := DecodeOrder(h)
		if err != nil {
			t.Fatalf("DecodeOrder(OrderFields(%s)): %v", want.OrderID, err)
		}
		if !got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("created_at = %v, want %v in UTC", got.CreatedAt, want.CreatedAt)
		}
		got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
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
		{"completed without a driver", func(h map[string]string) { h[OrderFieldStatus] = "completed" }, []string{OrderFieldDriverID}},
		{"radius not a number", func(h map[string]string) {
			h[OrderFieldRadiusM], h[OrderFieldOfferedTo] = "far", "d1"
		}, []string{OrderFieldRadiusM}},
		{"radius zero", func(h map[string]string) {
			h[OrderFieldRadiusM], h[OrderFieldOfferedTo] = "0", "d1"
		}, []string{OrderFieldRadiusM}},
		{"radius without offered_to", func(h map[string]string) { h[OrderFieldRadiusM] = "100" }, []string{OrderFieldOfferedTo}},
		{"offered_to without radius", func(h map[string]string) { h[OrderFieldOfferedTo] = "d1" }, []string{OrderFieldOfferedTo}},
		{"offered_to not ids", func(h map[string]string) {
			h[OrderFieldRadiusM], h[OrderFieldOfferedTo] = "100", "d1,,d 2"
		}, []string{OrderFieldOfferedTo}},
		{"max_drivers not positive", func(h map[string]string) {
			h[OrderFieldRadiusM], h[OrderFieldOfferedTo], h[OrderFieldMaxDrivers] = "100", "d1", "-1"
		}, []string{OrderFieldMaxDrivers}},
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

func TestOfferedToDriver(t *testing.T) {
	broadcast := Order{OrderID: "a1"}
	targeted := Order{OrderID: "a2", RadiusM: 500, OfferedTo: []string{"d1", "d2"}}
	nobody := Order{OrderID: "a3", RadiusM: 500}
	tests := []struct {
		o      Order
		driver string
		want   bool
	}{
		{broadcast, "d9", true},    // every driver may take a broadcast order
		{targeted, "d2", true},     // an offered driver
		{targeted, "d9", false},    // a driver outside the radius
		{nobody, "d1", false},      // offered to nobody: nobody may take it
		{targeted, "d1,d2", false}, // never a substring match
	}
	for _, tt := range tests {
		if got := tt.o.OfferedToDriver(tt.driver); got != tt.want {
			t.Errorf("%s.OfferedToDriver(%q) = %v, want %v", tt.o.OrderID, tt.driver, got, tt.want)
		}
	}
}
