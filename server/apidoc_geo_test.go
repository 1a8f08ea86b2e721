package server

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// TestDispatchResponsesMatchOpenAPI checks every response of the position,
// nearby and completion endpoints, and of radius-limited orders, against
// openapi.yaml.
func TestDispatchResponsesMatchOpenAPI(t *testing.T) {
	c := newContract(t)
	h := startHub(t, Config{AuthSecret: testSecret, HTTPRate: 1000, HTTPBurst: 1000})
	u1 := bearer(token(t, RoleUser, "u1", time.Hour))
	d1, d2 := bearer(token(t, RoleDriver, "d1", time.Hour)), bearer(token(t, RoleDriver, "d2", time.Hour))
	ops := bearer(token(t, RoleDispatcher, "ops1", time.Hour))
	here := `{"lat":52.52,"lng":13.405,"heading":90,"speed_mps":4}`

	c.call(t, h, "POST", "/drivers/d1/location", here, d1...)
	c.call(t, h, "POST", "/drivers/d1/location", `{"lat":52.52}`, d1...)
	c.call(t, h, "POST", "/drivers/d1/location", here)
	c.call(t, h, "POST", "/drivers/d1/location", here, d2...)
	c.call(t, h, "POST", "/drivers/d2/location", `{"lat":52.6,"lng":13.405}`, d2...)

	near := fmt.Sprintf("/drivers/nearby?lat=%v&lng=%v&radius_m=2000", berlin.Lat, berlin.Lng)
	if code, raw := c.call(t, h, "GET", near, "", ops...); code != 200 || !json.Valid(raw) {
		t.Fatalf("nearby: %d %s", code, raw)
	}
	c.call(t, h, "GET", near, "", u1...)
	c.call(t, h, "GET", near, "")
	c.call(t, h, "GET", "/drivers/nearby?lat=52.52&lng=13.405", "", ops...)

	body := `{"user_id":"u1","pickup":{"lat":52.52,"lng":13.405},"dropoff":{"lat":52.5,"lng":13.42},"radius_m":2000,"max_drivers":5}`
	code, raw := c.call(t, h, "POST", "/orders", body, u1...)
	var o Order
	if code != 201 || json.Unmarshal(raw, &o) != nil || *o.Offered != 1 {
		t.Fatalf("radius order: %d %s", code, raw)
	}
	c.call(t, h, "POST", "/orders", `{"user_id":"u1","pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4},"radius_m":-1}`, u1...)
	c.call(t, h, "POST", "/orders/"+o.OrderID+"/complete", `{"driver_id":"d1"}`, d1...) // open: 409
	c.call(t, h, "POST", "/orders/"+o.OrderID+"/accept", `{"driver_id":"d2"}`, d2...)   // not offered: 403
	c.call(t, h, "POST", "/orders/"+o.OrderID+"/accept", `{"driver_id":"d1"}`, d1...)
	c.call(t, h, "POST", "/orders/"+o.OrderID+"/complete", `{"driver_id":"d2"}`, d2...) // not its driver: 403
	c.call(t, h, "POST", "/orders/nope/complete", `{"driver_id":"d1"}`, d1...)
	c.call(t, h, "POST", "/orders/"+o.OrderID+"/complete", `{"driver_id":"d1"}`)
	c.call(t, h, "POST", "/orders/"+o.OrderID+"/complete", `{}`, d1...)
	c.call(t, h, "POST", "/orders/"+o.OrderID+"/complete", `{"driver_id":"d1"}`, d1...)
	c.call(t, h, "GET", "/orders/"+o.OrderID, "", d1...)
	c.call(t, h, "GET", "/ws/stats", "")

	for _, want := range []string{
		"POST /drivers/{driver_id}/location 204", "POST /drivers/{driver_id}/location 400",
		"POST /drivers/{driver_id}/location 401", "POST /drivers/{driver_id}/location 403",
		"GET /drivers/nearby 200", "GET /drivers/nearby 400", "GET /drivers/nearby 401", "GET /drivers/nearby 403",
		"POST /orders/{order_id}/accept 403",
		"POST /orders/{order_id}/complete 200", "POST /orders/{order_id}/complete 400", "POST /orders/{order_id}/complete 401",
		"POST /orders/{order_id}/complete 403", "POST /orders/{order_id}/complete 404", "POST /orders/{order_id}/complete 409",
	} {
		if !c.seen[want] {
			t.Errorf("no response checked for %s", want)
		}
	}
}

// TestDispatchFramesMatchAsyncAPI checks the frames of a radius-limited
// order's life, positions and tracking included, against asyncapi.yaml.
func TestDispatchFramesMatchAsyncAPI(t *testing.T) {
	c := newContract(t)
	h := startHub(t, Config{HTTPRate: 1000, HTTPBurst: 1000})
	d1 := dialRaw(t, c.frames, h.wsURL("/ws/driver/d1"), "DriverFrame")
	d1.until(t, TypeConnected)
	d2 := dialRaw(t, c.frames, h.wsURL("/ws/driver/d2"), "DriverFrame")
	d2.until(t, TypeConnected)
	rider := dialRaw(t, c.frames, h.wsURL("/ws/user/u1"), "RiderFrame")
	rider.until(t, TypeConnected)

	d1.send(t, `{"type":"location","message":{"lat":52.52,"lng":13.405,"heading":45.5,"speed_mps":3}}`, true)
	d2.send(t, `{"type":"location","message":{"lat":52.62,"lng":13.405}}`, true)
	waitPositions(t, h, berlin, 20000, 2)
	for _, bad := range []string{`{"type":"location","message":{"lat":52.52}}`, `{"type":"location","message":{"lat":89,"lng":0}}`} {
		d1.send(t, bad, false)
		d1.until(t, TypeError)
	}
	o := h.radiusOrder(t, "u1", berlin, 1000, 0)
	d1.until(t, TypeNewOrder)
	d2.send(t, fmt.Sprintf(`{"type":"accept_order","message":{"order_id":%q}}`, o.OrderID), true)
	var res AcceptResultMessage
	if err := json.Unmarshal(d2.until(t, TypeAcceptResult), &res); err != nil || res.Reason != "order_not_offered" {
		t.Fatalf("accept by a driver not offered the order: %+v %v", res, err)
	}
	d1.send(t, fmt.Sprintf(`{"type":"accept_order","message":{"order_id":%q}}`, o.OrderID), true)
	d1.until(t, TypeAcceptResult)
	rider.until(t, TypeOrderAccepted)
	d1.send(t, `{"type":"location","message":{"lat":52.521,"lng":13.405,"heading":180,"speed_mps":8.5}}`, true)
	rider.until(t, TypeDriverLocation)
	h.request(t, "POST", "/orders/"+o.OrderID+"/complete", "", map[string]string{"driver_id": "d1"}, nil)
	rider.until(t, TypeOrderCompleted)
	d1.until(t, TypeOrderCompleted)
}
