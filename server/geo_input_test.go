package server

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestDispatchInput: what POST /orders, the position calls and GET
// /drivers/nearby refuse, with which code.
func TestDispatchInput(t *testing.T) {
	h := startHub(t, Config{HTTPRate: 1000, HTTPBurst: 1000})
	order := func(extra string) string {
		return `{"user_id":"u1","pickup":{"lat":52.52,"lng":13.405},"dropoff":{"lat":52.5,"lng":13.42}` + extra + `}`
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"radius zero", "POST", "/orders", order(`,"radius_m":0`), 400, "invalid_radius"},
		{"radius negative", "POST", "/orders", order(`,"radius_m":-5`), 400, "invalid_radius"},
		{"radius too large", "POST", "/orders", order(`,"radius_m":100001`), 400, "invalid_radius"},
		{"radius a string", "POST", "/orders", order(`,"radius_m":"2km"`), 400, "invalid_json"},
		{"max_drivers zero", "POST", "/orders", order(`,"radius_m":100,"max_drivers":0`), 400, "invalid_max_drivers"},
		{"max_drivers fractional", "POST", "/orders", order(`,"radius_m":100,"max_drivers":1.5`), 400, "invalid_max_drivers"},
		{"max_drivers without a radius", "POST", "/orders", order(`,"max_drivers":3`), 400, "invalid_max_drivers"},
		{"pickup beyond the GEO latitudes", "POST", "/orders",
			`{"user_id":"u1","pickup":{"lat":89,"lng":0},"dropoff":{"lat":52.5,"lng":13.42},"radius_m":100}`, 400, "invalid_point"},
		{"radius order", "POST", "/orders", order(`,"radius_m":100,"max_drivers":2`), 201, ""},
		{"position", "POST", "/drivers/d1/location", `{"lat":52.52,"lng":13.405,"heading":359.5,"speed_mps":0}`, 204, ""},
		{"position without lng", "POST", "/drivers/d1/location", `{"lat":52.52}`, 400, "missing_field"},
		{"position off the map", "POST", "/drivers/d1/location", `{"lat":52.52,"lng":181}`, 400, "invalid_point"},
		{"position near the pole", "POST", "/drivers/d1/location", `{"lat":86,"lng":0}`, 400, "invalid_point"},
		{"heading 360", "POST", "/drivers/d1/location", `{"lat":52.52,"lng":13.405,"heading":360}`, 400, "invalid_point"},
		{"negative speed", "POST", "/drivers/d1/location", `{"lat":52.52,"lng":13.405,"speed_mps":-1}`, 400, "invalid_point"},
		{"position, bad id", "POST", "/drivers/d:1/location", `{"lat":52.52,"lng":13.405}`, 400, "invalid_id"},
		{"nearby", "GET", "/drivers/nearby?lat=52.52&lng=13.405&radius_m=500", "", 200, ""},
		{"nearby without radius", "GET", "/drivers/nearby?lat=52.52&lng=13.405", "", 400, "missing_field"},
		{"nearby, lat not a number", "GET", "/drivers/nearby?lat=x&lng=13.405&radius_m=5", "", 400, "invalid_point"},
		{"nearby, radius too large", "GET", "/drivers/nearby?lat=52.52&lng=13.405&radius_m=1e6", "", 400, "invalid_radius"},
		{"nearby, limit 0", "GET", "/drivers/nearby?lat=52.52&lng=13.405&radius_m=5&limit=0", "", 400, "invalid_limit"},
	}
	for _, tt := range tests {
		var e errorBody
		code := h.request(t, tt.method, tt.path, "", tt.body, &e)
		if code != tt.status || e.Error != tt.code {
			t.Errorf("%s: %d %q (%s), want %d %q", tt.name, code, e.Error, e.Detail, tt.status, tt.code)
		}
	}

	// The same position faults over a feed, as error frames.
	d := mustDial(t, h.wsURL("/ws/driver/d1"))
	d.next(t, TypeConnected, nil)
	for _, tt := range []struct{ frame, code string }{
		{`{"type":"location","message":{"lat":52.52}}`, "missing_field"},
		{`{"type":"location","message":{"lat":91,"lng":0}}`, "invalid_point"},
		{`{"type":"location","message":{"lat":52.52,"lng":13.4,"heading":-1}}`, "invalid_point"},
		{`{"type":"location","message":{"lat":"52","lng":13.4}}`, "invalid_json"},
	} {
		d.sendRaw(t, []byte(tt.frame))
		var e ErrorMessage
		d.next(t, TypeError, &e)
		if e.Code != tt.code || e.Type != TypeLocation {
			t.Errorf("%s: %+v, want %s", tt.frame, e, tt.code)
		}
	}
	// A rider sends no positions.
	u := mustDial(t, h.wsURL("/ws/user/u1"))
	u.next(t, TypeConnected, nil)
	u.sendRaw(t, []byte(`{"type":"location","message":{"lat":52.52,"lng":13.4}}`))
	var e ErrorMessage
	if u.next(t, TypeError, &e); e.Code != "unknown_type" {
		t.Errorf("a rider's location frame: %+v", e)
	}
}

// TestCompleteOrder: only the driver who accepted an order completes it;
// completing is safe to retry; a completed order cannot be cancelled.
func TestCompleteOrder(t *testing.T) {
	geoModes(t, nil, func(t *testing.T, nodes []*testHub) {
		open := nodes[0].createOrder(t, "u1")
		o := nodes[0].createOrder(t, "u1")
		if code := nodes[1].request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": "d1"}, nil); code != http.StatusOK {
			t.Fatalf("accept: %d", code)
		}
		complete := func(orderID, driverID string, status int, code string) {
			t.Helper()
			var e errorBody
			if got := nodes[2].request(t, "POST", "/orders/"+orderID+"/complete", "", map[string]string{"driver_id": driverID}, &e); got != status || e.Error != code {
				t.Fatalf("complete %s as %s: %d %+v, want %d %q", orderID, driverID, got, e, status, code)
			}
		}
		complete(o.OrderID, "d2", http.StatusForbidden, "not_assigned_driver")
		complete(open.OrderID, "d1", http.StatusConflict, "order_not_accepted")
		complete("nope", "d1", http.StatusNotFound, "order_not_found")
		complete(o.OrderID, "d1", http.StatusOK, "")
		complete(o.OrderID, "d1", http.StatusOK, "")
		var e errorBody
		if code := nodes[0].request(t, "POST", "/orders/"+o.OrderID+"/cancel", "", map[string]string{"user_id": "u1"}, &e); code != http.StatusConflict || e.Error != "order_not_open" {
			t.Fatalf("cancel a completed order: %d %+v", code, e)
		}
		var got Order
		if nodes[1].request(t, "GET", "/orders/"+o.OrderID, "", nil, &got); got.Status != StatusCompleted || got.DriverID != "d1" {
			t.Fatalf("the completed order reads %+v", got)
		}
	})
}

// TestNearbyNeedsADispatcher: with authentication, GET /drivers/nearby
// takes a dispatcher's token and refuses riders and drivers.
func TestNearbyNeedsADispatcher(t *testing.T) {
	h := startHub(t, Config{AuthSecret: testSecret})
	if code := h.request(t, "POST", "/drivers/d1/location", token(t, RoleDriver, "d1", time.Hour), Point{Lat: 52.52, Lng: 13.405}, nil); code != http.StatusNoContent {
		t.Fatalf("the driver's position: %d", code)
	}
	if code := h.request(t, "POST", "/drivers/d1/location", token(t, RoleDriver, "d2", time.Hour), Point{Lat: 52.52, Lng: 13.405}, nil); code != http.StatusForbidden {
		t.Fatalf("another driver's position: %d", code)
	}
	path := fmt.Sprintf("/drivers/nearby?lat=%v&lng=%v&radius_m=100", berlin.Lat, berlin.Lng)
	for _, tt := range []struct {
		name, token string
		status      int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a rider", token(t, RoleUser, "u1", time.Hour), http.StatusForbidden},
		{"a driver", token(t, RoleDriver, "d1", time.Hour), http.StatusForbidden},
		{"a dispatcher", token(t, RoleDispatcher, "ops1", time.Hour), http.StatusOK},
	} {
		var list NearbyList
		if code := h.request(t, "GET", path, tt.token, nil, &list); code != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, code, tt.status)
		}
		if tt.status == http.StatusOK && (len(list.Drivers) != 1 || list.Drivers[0].DriverID != "d1" || list.Drivers[0].DistanceM > 1) {
			t.Errorf("%s: %+v", tt.name, list)
		}
	}
	// A dispatcher has no feed.
	if _, err := dial(t, h.wsURL("/ws/driver/ops1?token="+token(t, RoleDispatcher, "ops1", time.Hour)), nil); err == nil {
		t.Error("a dispatcher's token opened a driver's feed")
	}
}

// TestDefaultDispatchRadius: --dispatch-radius applies to orders without
// radius_m, and radius_m overrides it.
func TestDefaultDispatchRadius(t *testing.T) {
	h := startHub(t, Config{DispatchRadius: 1000, HTTPRate: 1000, HTTPBurst: 1000})
	h.locate(t, "d1", northOf(berlin, 500))
	h.locate(t, "d2", northOf(berlin, 1500))
	var o Order
	body := map[string]any{"user_id": "u1", "pickup": berlin, "dropoff": berlin}
	if code := h.request(t, "POST", "/orders", "", body, &o); code != http.StatusCreated || o.RadiusM != 1000 || *o.Offered != 1 {
		t.Fatalf("order under the default radius: %d %+v", code, o)
	}
	if o := h.radiusOrder(t, "u1", berlin, 2000, 0); *o.Offered != 2 {
		t.Fatalf("radius_m 2000 offered to %d, want 2", *o.Offered)
	}
}
