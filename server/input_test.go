package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestHTTPBadInput(t *testing.T) {
	h := startHub(t, Config{BodyLimit: 1024})
	o := h.createOrder(t, "u1")
	accepted := h.createOrder(t, "u1")
	h.request(t, "POST", "/orders/"+accepted.OrderID+"/accept", "", map[string]string{"driver_id": "d1"}, nil)
	good := `{"user_id":"u1","pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4}}`

	tests := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"invalid JSON", "POST", "/orders", `{"user_id":`, 400, "invalid_json"},
		{"empty body", "POST", "/orders", "", 400, "invalid_json"},
		{"trailing data", "POST", "/orders", good + good, 400, "invalid_json"},
		{"wrong type", "POST", "/orders", `{"user_id":5}`, 400, "invalid_json"},
		{"huge body", "POST", "/orders", `{"user_id":"` + strings.Repeat("x", 4096) + `"}`, 413, "body_too_large"},
		{"missing pickup", "POST", "/orders", `{"user_id":"u1","dropoff":{"lat":3,"lng":4}}`, 400, "missing_field"},
		{"latitude out of range", "POST", "/orders", `{"user_id":"u1","pickup":{"lat":91,"lng":2},"dropoff":{"lat":3,"lng":4}}`, 400, "invalid_point"},
		{"missing user", "POST", "/orders", `{"pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4}}`, 400, "missing_field"},
		{"missing longitude", "POST", "/orders", `{"user_id":"u1","pickup":{"lat":1},"dropoff":{"lat":3,"lng":4}}`, 400, "missing_field"},
		{"empty dropoff", "POST", "/orders", `{"user_id":"u1","pickup":{"lat":1,"lng":2},"dropoff":{}}`, 400, "missing_field"},
		{"user id with a slash", "POST", "/orders", `{"user_id":"a/b","pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4}}`, 400, "invalid_id"},
		{"user id too long", "POST", "/orders", `{"user_id":"` + strings.Repeat("a", 65) + `","pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4}}`, 400, "invalid_id"},
		{"unknown order", "GET", "/orders/nope", nil, 404, "order_not_found"},
		{"order id with a dot", "GET", "/orders/a.b", nil, 400, "invalid_id"},
		{"accept unknown order", "POST", "/orders/nope/accept", `{"driver_id":"d1"}`, 404, "order_not_found"},
		{"accept without driver", "POST", "/orders/" + o.OrderID + "/accept", `{}`, 400, "missing_field"},
		{"accept with a bad driver id", "POST", "/orders/" + o.OrderID + "/accept", `{"driver_id":"a b"}`, 400, "invalid_id"},
		{"accept taken order", "POST", "/orders/" + accepted.OrderID + "/accept", `{"driver_id":"d2"}`, 409, "order_taken"},
		{"cancel another rider's order", "POST", "/orders/" + o.OrderID + "/cancel", `{"user_id":"u2"}`, 403, "not_order_owner"},
		{"cancel accepted order", "POST", "/orders/" + accepted.OrderID + "/cancel", `{"user_id":"u1"}`, 409, "order_not_open"},
		{"cancel unknown order", "POST", "/orders/nope/cancel", `{"user_id":"u1"}`, 404, "order_not_found"},
		{"wrong method", "DELETE", "/orders/" + o.OrderID, nil, 405, "method_not_allowed"},
		{"unknown route", "GET", "/nowhere", nil, 404, "not_found"},
		{"bad driver id on feed", "GET", "/ws/driver/a%20b", nil, 400, "invalid_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body errorBody
			code := h.request(t, tt.method, tt.path, "", tt.body, &body)
			if code != tt.status || body.Error != tt.code || body.Detail == "" {
				t.Fatalf("got %d %+v, want %d %q", code, body, tt.status, tt.code)
			}
		})
	}
	// Nothing above touched the order.
	var got Order
	h.request(t, "GET", "/orders/"+o.OrderID, "", nil, &got)
	if got.Status != StatusOpen {
		t.Fatalf("order %s is %s after bad requests", o.OrderID, got.Status)
	}
}

func TestHTTPRateLimit(t *testing.T) {
	h := startHub(t, Config{HTTPRate: 1, HTTPBurst: 3})
	body := map[string]any{"user_id": "greedy", "pickup": Point{Lat: 1, Lng: 1}, "dropoff": Point{Lat: 2, Lng: 2}}
	codes := map[int]int{}
	for range 6 {
		var e errorBody
		codes[h.request(t, "POST", "/orders", "", body, &e)]++
	}
	if codes[201] < 3 || codes[429] < 2 {
		t.Fatalf("statuses %v, want 3 created then 429s", codes)
	}
	// Another rider is not slowed down.
	body["user_id"] = "patient"
	if code := h.request(t, "POST", "/orders", "", body, nil); code != 201 {
		t.Fatalf("another rider got %d", code)
	}
}

func TestBadFramesGetErrorsAndTheConnectionCarriesOn(t *testing.T) {
	h := startHub(t, Config{})
	d := mustDial(t, h.wsURL("/ws/driver/d1"))
	d.next(t, TypeConnected, nil)
	tests := []struct {
		frame string
		code  string
	}{
		{`not json`, "invalid_json"},
		{`{"type":"view_order","message":{"order_id":"x"}} extra`, "invalid_json"},
		{`[]`, "invalid_json"},
		{`{"message":{}}`, "missing_field"},
		{`{"type":"fly","message":{}}`, "unknown_type"},
		{`{"type":"view_order"}`, "missing_field"},
		{`{"type":"view_order","message":{}}`, "missing_field"},
		{`{"type":"view_order","message":{"order_id":7}}`, "invalid_json"},
		{`{"type":"accept_order","message":{"order_id":"../x"}}`, "invalid_id"},
		{`{"type":"view_order","message":{"order_id":"unknown"}}`, "order_not_found"},
	}
	for _, tt := range tests {
		d.sendRaw(t, []byte(tt.frame))
		var e ErrorMessage
		d.next(t, TypeError, &e)
		if e.Code != tt.code || e.Reason == "" {
			t.Errorf("frame %s: error %+v, want code %s", tt.frame, e, tt.code)
		}
	}
	// Still connected and served.
	o := h.createOrder(t, "u1")
	var got Order
	d.next(t, TypeNewOrder, &got)
	if got.OrderID != o.OrderID {
		t.Fatalf("new_order for %s, want %s", got.OrderID, o.OrderID)
	}
	d.send(t, TypeAcceptOrder, map[string]string{"order_id": o.OrderID})
	var res AcceptResultMessage
	d.next(t, TypeAcceptResult, &res)
	if !res.Accepted {
		t.Fatalf("accept after bad frames: %+v", res)
	}

	rider := mustDial(t, h.wsURL("/ws/user/u1"))
	rider.next(t, TypeConnected, nil)
	rider.send(t, TypeAcceptOrder, map[string]string{"order_id": o.OrderID})
	var e ErrorMessage
	rider.next(t, TypeError, &e)
	if e.Code != "unknown_type" {
		t.Fatalf("rider sending accept_order: %+v", e)
	}
}

func TestBinaryAndOversizedFramesClose(t *testing.T) {
	h := startHub(t, Config{ReadLimit: 512})

	bin := mustDial(t, h.wsURL("/ws/driver/d1"))
	bin.next(t, TypeConnected, nil)
	if err := bin.conn.Write(t.Context(), websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if code := bin.closeStatus(t); code != websocket.StatusUnsupportedData {
		t.Fatalf("binary frame: close %v, want 1003", code)
	}

	big := mustDial(t, h.wsURL("/ws/driver/d2"))
	big.next(t, TypeConnected, nil)
	_ = big.conn.Write(t.Context(), websocket.MessageText, []byte(`{"type":"view_order","message":{"order_id":"`+strings.Repeat("a", 1000)+`"}}`))
	if code := big.closeStatus(t); code != websocket.StatusMessageTooBig {
		t.Fatalf("oversized frame: close %v, want 1009", code)
	}

	// Other clients are unaffected.
	ok := mustDial(t, h.wsURL("/ws/driver/d3"))
	ok.next(t, TypeConnected, nil)
	h.createOrder(t, "u1")
	ok.next(t, TypeNewOrder, nil)
	checkFor(t, defaultWait, pollEvery, func() error {
		if n := h.hub.drivers.Load(); n != 1 {
			return fmt.Errorf("%d drivers still registered", n)
		}
		return nil
	})
}

func TestFrameRateLimit(t *testing.T) {
	h := startHub(t, Config{MsgRate: 1, MsgBurst: 2})
	d := mustDial(t, h.wsURL("/ws/driver/d1"))
	d.next(t, TypeConnected, nil)
	for range 5 {
		d.send(t, TypeUnviewOrder, map[string]string{"order_id": "x"})
	}
	var e ErrorMessage
	d.next(t, TypeError, &e)
	if e.Code != "rate_limited" {
		t.Fatalf("error %+v, want rate_limited", e)
	}
	if h.counters.rateLimited.Load() == 0 {
		t.Fatal("rate_limited counter not bumped")
	}
}

func TestMaxConns(t *testing.T) {
	h := startHub(t, Config{MaxConns: 2})
	mustDial(t, h.wsURL("/ws/driver/d1")).next(t, TypeConnected, nil)
	mustDial(t, h.wsURL("/ws/user/u1")).next(t, TypeConnected, nil)
	_, err := dial(t, h.wsURL("/ws/driver/d2"), nil)
	if err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("third connection: %v, want 503", err)
	}
}

func TestLockHeldByAnotherRefusesAccept(t *testing.T) {
	h := startHub(t, Config{})
	o := h.createOrder(t, "u1")
	if ok, _, _ := h.backend().locks.Acquire(t.Context(), o.OrderID, "operator", time.Minute); !ok {
		t.Fatal("could not take the lock")
	}
	var e errorBody
	if code := h.request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": "d1"}, &e); code != http.StatusConflict || e.Error != "order_locked" {
		t.Fatalf("accept under a held lock: %d %+v", code, e)
	}
	if ok, _ := h.backend().locks.Release(t.Context(), o.OrderID, "someone-else"); ok {
		t.Fatal("a non-owner released the lock")
	}
	if ok, _ := h.backend().locks.Release(t.Context(), o.OrderID, "operator"); !ok {
		t.Fatal("owner could not release")
	}
	if code := h.request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": "d1"}, nil); code != http.StatusOK {
		t.Fatalf("accept after release: %d", code)
	}
	// Retrying a won accept is safe and answers the same.
	if code := h.request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": "d1"}, nil); code != http.StatusOK {
		t.Fatalf("repeated accept by the winner: %d", code)
	}
}

func TestViewsPerConnectionAreBounded(t *testing.T) {
	h := startHub(t, Config{MsgRate: 10000, MsgBurst: 10000, HTTPRate: 10000, HTTPBurst: 10000})
	d := mustDial(t, h.wsURL("/ws/driver/d1"))
	d.next(t, TypeConnected, nil)
	var last string
	for range maxViewsPerConn + 1 {
		last = h.createOrder(t, "u1").OrderID
		d.send(t, TypeViewOrder, map[string]string{"order_id": last})
	}
	var e ErrorMessage
	d.next(t, TypeError, &e)
	if e.Code != "too_many_views" {
		t.Fatalf("error %+v, want too_many_views", e)
	}
	var got Order
	h.request(t, "GET", "/orders/"+last, "", nil, &got)
	if got.Viewers == nil || *got.Viewers != 0 {
		t.Fatalf("the view past the bound was recorded: %v", got.Viewers)
	}
}
