package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taxi-hub/taxi/api/apitest"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// The tests in this file drive a real hub through every endpoint and every
// frame, and check each real response against api/openapi.yaml and each
// real frame against the schemas of api/asyncapi.yaml: the documents cannot
// drift from the hub.

// apiCheck sends requests and checks their responses against openapi.yaml.
type apiCheck struct {
	oa     *apitest.OpenAPI
	frames *apitest.Frames
	// seen counts the (method, path pattern, status) combinations checked.
	seen map[string]bool
}

func newContract(t *testing.T) *apiCheck {
	return &apiCheck{oa: apitest.LoadOpenAPI(t), frames: apitest.LoadFrames(t), seen: map[string]bool{}}
}

// call sends one request, checks its response and returns the status and
// body. headers are name, value pairs.
func (c *apiCheck) call(t *testing.T, h *testHub, method, path, body string, headers ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, h.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, raw := send(t, method, h.URL+path, body, headers...)
	c.oa.Check(t, req, resp, raw)
	_, pattern := h.mux.Handler(req)
	c.seen[fmt.Sprintf("%s %d", pattern, resp.StatusCode)] = true
	return resp.StatusCode, raw
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func TestResponsesMatchOpenAPI(t *testing.T) {
	c := newContract(t)
	h := startHub(t, Config{AuthSecret: testSecret, BodyLimit: 512, HTTPRate: 1, HTTPBurst: 1000, MaxConns: 1})
	u1, u2 := bearer(token(t, RoleUser, "u1", time.Hour)), bearer(token(t, RoleUser, "u2", time.Hour))
	d1, d2 := bearer(token(t, RoleDriver, "d1", time.Hour)), bearer(token(t, RoleDriver, "d2", time.Hour))
	const body = `{"user_id":"u1","pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4}}`

	code, raw := c.call(t, h, "POST", "/orders", body, u1...)
	var o Order
	if code != 201 || json.Unmarshal(raw, &o) != nil {
		t.Fatalf("create: %d %s", code, raw)
	}
	withKey := append([]string{"Idempotency-Key", "k1"}, u1...)
	c.call(t, h, "POST", "/orders", body, withKey...)
	c.call(t, h, "POST", "/orders", body, withKey...) // replayed
	c.call(t, h, "POST", "/orders", strings.Replace(body, `"lat":3`, `"lat":5`, 1), withKey...)
	c.call(t, h, "POST", "/orders", body, append([]string{"Idempotency-Key", "a b"}, u1...)...)
	running := IdempotencyRecord{Hash: requestHash("u1", Point{Lat: 1, Lng: 2}, Point{Lat: 3, Lng: 4}), Claim: "running"}
	if _, ok, err := h.backend().idempotency.Claim(t.Context(), "u1", "k2", running, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	c.call(t, h, "POST", "/orders", body, append([]string{"Idempotency-Key", "k2"}, u1...)...)
	for _, bad := range []string{`null`, `{"user_id":7}`, `{"user_id":"u1"}`, `{"user_id":"u1","pickup":{"lat":95,"lng":0},"dropoff":{"lat":0,"lng":0}}`, `{"user_id":"a b","pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4}}`} {
		c.call(t, h, "POST", "/orders", bad, u1...)
	}
	c.call(t, h, "POST", "/orders", body)                                 // 401
	c.call(t, h, "POST", "/orders", body, u2...)                          // 403
	c.call(t, h, "POST", "/orders", strings.Repeat(" ", 600)+body, u1...) // 413

	second, _ := c.call(t, h, "POST", "/orders", strings.Replace(body, `"lat":1`, `"lat":2`, 1), u1...)
	if second != 201 {
		t.Fatalf("second create: %d", second)
	}
	c.call(t, h, "GET", "/orders?user_id=u1&limit=1", "", u1...)
	c.call(t, h, "GET", "/orders?user_id=u1", "", d1...)
	c.call(t, h, "GET", "/orders?user_id=u1&limit=500", "", u1...)
	c.call(t, h, "GET", "/orders?user_id=u1&before=nope", "", u1...)
	c.call(t, h, "GET", "/orders?user_id=u1", "", u2...)
	c.call(t, h, "GET", "/orders?user_id=u1", "")

	c.call(t, h, "GET", "/orders/"+o.OrderID, "", d1...)
	c.call(t, h, "GET", "/orders/"+o.OrderID, "", u2...)
	c.call(t, h, "GET", "/orders/nope", "", d1...)
	c.call(t, h, "GET", "/orders/a.b", "", d1...)
	c.call(t, h, "GET", "/drivers/d1/order", "", d1...) // 404 before the accept

	c.call(t, h, "POST", "/orders/"+o.OrderID+"/accept", `{"driver_id":"d1"}`, d1...)
	c.call(t, h, "POST", "/orders/"+o.OrderID+"/accept", `{"driver_id":"d2"}`, d2...)
	c.call(t, h, "POST", "/orders/nope/accept", `{"driver_id":"d2"}`, d2...)
	c.call(t, h, "POST", "/orders/"+o.OrderID+"/accept", `{"driver_id":"d1"}`, d2...)
	c.call(t, h, "GET", "/drivers/d1/order", "", d1...)
	c.call(t, h, "GET", "/drivers/d1/order", "", u2...)
	c.call(t, h, "POST", "/orders/"+o.OrderID+"/cancel", `{"user_id":"u1"}`, u1...)
	c.call(t, h, "POST", "/orders/"+o.OrderID+"/cancel", `{"user_id":"u2"}`, u2...)

	c.call(t, h, "GET", "/ws/driver/d1", "", d1...) // not a handshake: 426
	c.call(t, h, "GET", "/ws/driver/d1", "")        // 401
	c.call(t, h, "GET", "/ws/user/u1", "", u2...)   // 403
	c.call(t, h, "GET", "/ws/user/a.b", "", u1...)  // 400
	c.call(t, h, "GET", "/ws/driver/d1", "", append([]string{"Origin", "http://elsewhere.example"}, d1...)...)
	for _, path := range []string{"/ws/stats", "/healthz", "/readyz", "/metrics", "/openapi.yaml", "/asyncapi.yaml"} {
		c.call(t, h, "GET", path, "")
	}
	held := mustDial(t, h.wsURL("/ws/driver/d1?token="+token(t, RoleDriver, "d1", time.Hour)))
	held.next(t, TypeConnected, nil)
	c.call(t, h, "GET", "/ws/driver/d2", "", d2...) // at capacity: 503
	h.ready.Store(false)
	c.call(t, h, "GET", "/readyz", "")
	h.ready.Store(true)

	// The rate limit: one call per second after the burst.
	slow := startHub(t, Config{HTTPRate: 1, HTTPBurst: 1})
	for range 2 {
		c.call(t, slow, "POST", "/orders", body)
	}

	for _, want := range []string{
		"POST /orders 201", "POST /orders 400", "POST /orders 401", "POST /orders 403", "POST /orders 409",
		"POST /orders 413", "POST /orders 422", "POST /orders 429",
		"GET /orders 200", "GET /orders 400", "GET /orders 401", "GET /orders 403",
		"GET /orders/{order_id} 200", "GET /orders/{order_id} 400", "GET /orders/{order_id} 403", "GET /orders/{order_id} 404",
		"POST /orders/{order_id}/accept 200", "POST /orders/{order_id}/accept 403", "POST /orders/{order_id}/accept 404", "POST /orders/{order_id}/accept 409",
		"POST /orders/{order_id}/cancel 403", "POST /orders/{order_id}/cancel 409",
		"GET /drivers/{driver_id}/order 200", "GET /drivers/{driver_id}/order 403", "GET /drivers/{driver_id}/order 404",
		"GET /ws/driver/{driver_id} 401", "GET /ws/driver/{driver_id} 403", "GET /ws/driver/{driver_id} 426", "GET /ws/driver/{driver_id} 503",
		"GET /ws/user/{user_id} 400", "GET /ws/user/{user_id} 403",
		"GET /ws/stats 200", "GET /healthz 200", "GET /readyz 200", "GET /readyz 503", "GET /metrics 200",
		"GET /openapi.yaml 200", "GET /asyncapi.yaml 200",
	} {
		if !c.seen[want] {
			t.Errorf("no response checked for %s", want)
		}
	}
}

// TestRedisResponsesMatchOpenAPI covers what only Redis mode answers: the
// redis object of /ws/stats, and 503 degraded while Redis is away.
func TestRedisResponsesMatchOpenAPI(t *testing.T) {
	c := newContract(t)
	srv := redistest.Start(t)
	h := startNodes(t, srv.URL(), 1)[0]
	c.call(t, h, "GET", "/ws/stats", "")
	srv.Kill()
	checkFor(t, 15*time.Second, 20*time.Millisecond, func() error {
		if code, _ := c.call(t, h, "GET", "/orders?user_id=u1", ""); code != http.StatusServiceUnavailable {
			return fmt.Errorf("list while redis is away: %d", code)
		}
		return nil
	})
	c.call(t, h, "GET", "/ws/stats", "")
	c.call(t, h, "GET", "/readyz", "")
}

// rawFeed reads a feed's frames as the hub wrote them and checks each one
// against the feed's schema.
type rawFeed struct {
	conn   *websocket.Conn
	schema string
	frames *apitest.Frames
}

func dialRaw(t *testing.T, frames *apitest.Frames, url, schema string) *rawFeed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 24)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &rawFeed{conn: conn, schema: schema, frames: frames}
}

// until reads frames, checking each, until one of type typ, which it
// returns with its message.
func (f *rawFeed) until(t *testing.T, typ string) json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, data, err := f.conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		f.frames.Check(t, f.schema, data)
		var env Envelope
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatal(err)
		}
		if env.Type == typ {
			return env.Message
		}
	}
}

// send checks a frame a client sends against ClientFrame (valid reports
// whether it must match) and writes it.
func (f *rawFeed) send(t *testing.T, frame string, valid bool) {
	t.Helper()
	if err := f.frames.Validate("ClientFrame", []byte(frame)); (err == nil) != valid {
		t.Errorf("ClientFrame on %s: %v, want valid=%v", frame, err, valid)
	}
	if err := f.conn.Write(context.Background(), websocket.MessageText, []byte(frame)); err != nil {
		t.Fatal(err)
	}
}

func TestFramesMatchAsyncAPI(t *testing.T) {
	frames := apitest.LoadFrames(t)
	h := startHub(t, Config{})
	d1 := dialRaw(t, frames, h.wsURL("/ws/driver/d1"), "DriverFrame")
	d1.until(t, TypeConnected)
	rider := dialRaw(t, frames, h.wsURL("/ws/user/u1"), "RiderFrame")
	rider.until(t, TypeConnected)

	o := h.createOrder(t, "u1")
	d1.until(t, TypeNewOrder)
	view := fmt.Sprintf(`{"type":"view_order","message":{"order_id":%q}}`, o.OrderID)
	d1.send(t, view, true)
	rider.until(t, TypeOrderViewers)
	d1.send(t, fmt.Sprintf(`{"type":"unview_order","message":{"order_id":%q}}`, o.OrderID), true)
	rider.until(t, TypeOrderViewers)

	// Frames the hub refuses are refused by the schema too, and the error
	// frames match theirs.
	for _, bad := range []string{`not json`, `null`, `{"type":5}`, `{"message":{}}`, `{"type":"fly","message":{}}`,
		`{"type":"view_order"}`, `{"type":"view_order","message":{"order_id":7}}`, `{"type":"view_order","message":{"order_id":"a.b"}}`} {
		d1.send(t, bad, false)
		d1.until(t, TypeError)
	}
	d1.send(t, `{"type":"view_order","message":{"order_id":"unknown"}}`, true)
	d1.until(t, TypeError)

	d2 := dialRaw(t, frames, h.wsURL("/ws/driver/d2"), "DriverFrame")
	d2.until(t, TypeConnected) // with the open order
	accept := fmt.Sprintf(`{"type":"accept_order","message":{"order_id":%q},"extra":true}`, o.OrderID)
	d2.send(t, accept, true)
	d2.until(t, TypeAcceptResult)
	d1.until(t, TypeOrderAccepted)
	rider.until(t, TypeOrderAccepted)
	d1.send(t, accept, true)
	var res AcceptResultMessage
	if err := json.Unmarshal(d1.until(t, TypeAcceptResult), &res); err != nil || res.Accepted || res.Reason != "order_taken" {
		t.Fatalf("late accept: %+v %v", res, err)
	}

	c := h.createOrder(t, "u1")
	h.request(t, "POST", "/orders/"+c.OrderID+"/cancel", "", map[string]string{"user_id": "u1"}, nil)
	d2.until(t, TypeOrderCancelled)
	rider.until(t, TypeOrderCancelled)
	rider.send(t, view, true)
	rider.until(t, TypeError)
}

// TestSnapshotFramesMatchAsyncAPI covers the frames only Redis mode sends:
// open_orders and rider_orders after a gap the event log does not cover
// (here its epoch is gone, as after a Redis restart).
func TestSnapshotFramesMatchAsyncAPI(t *testing.T) {
	frames := apitest.LoadFrames(t)
	srv := redistest.Start(t)
	h := startNodes(t, srv.URL(), 1)[0]
	h.createOrder(t, "u1")
	d := dialRaw(t, frames, h.wsURL("/ws/driver/d1"), "DriverFrame")
	d.until(t, TypeConnected)
	rider := dialRaw(t, frames, h.wsURL("/ws/user/u1"), "RiderFrame")
	rider.until(t, TypeConnected)
	rdb := srv.Client(t)
	if err := rdb.Del(context.Background(), epochKey(ChannelDrivers), epochKey(ChannelUsers)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	var msg OpenOrdersMessage
	if err := json.Unmarshal(d.until(t, TypeOpenOrders), &msg); err != nil || len(msg.OpenOrders) != 1 {
		t.Fatalf("open_orders %+v %v", msg, err)
	}
	var mine RiderOrdersMessage
	if err := json.Unmarshal(rider.until(t, TypeRiderOrders), &mine); err != nil || len(mine.Orders) != 1 {
		t.Fatalf("rider_orders %+v %v", mine, err)
	}
}
