package server

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
)

func TestFanoutReachesEveryDriver(t *testing.T) {
	h := startHub(t, Config{})
	drivers := dialMany(t, h, "d", 500)
	checkFor(t, defaultWait, pollEvery, func() error {
		if n := h.hub.drivers.Load(); n != 500 {
			return fmt.Errorf("%d drivers registered", n)
		}
		return nil
	})

	o := h.createOrder(t, "u1")
	for i, d := range drivers {
		var got Order
		d.next(t, TypeNewOrder, &got)
		if got.OrderID != o.OrderID || got.UserID != "u1" || got.Status != StatusOpen {
			t.Fatalf("driver %d got %+v, want order %s", i, got, o.OrderID)
		}
	}
	if sent := h.counters.framesSent.Load(); sent < 1000 { // 500 connected + 500 new_order
		t.Errorf("frames_sent = %d, want at least 1000", sent)
	}
}

func TestExactlyOneWinnerAmongConcurrentAccepts(t *testing.T) {
	h := startHub(t, Config{HTTPRate: 1000, HTTPBurst: 1000})
	drivers := dialMany(t, h, "ws", 25)
	o := h.createOrder(t, "u1")

	var won atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	// 25 accepts over HTTP and 25 over WebSocket, released at once.
	for i := range 25 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var resp map[string]any
			code := h.request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": fmt.Sprintf("http%d", i)}, &resp)
			switch code {
			case http.StatusOK:
				won.Add(1)
			case http.StatusConflict:
			default:
				t.Errorf("accept over HTTP: status %d %v", code, resp)
			}
		}()
	}
	for _, d := range drivers {
		d.next(t, TypeNewOrder, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			d.send(t, TypeAcceptOrder, map[string]string{"order_id": o.OrderID})
		}()
	}
	close(start)
	wg.Wait()
	for _, d := range drivers {
		var res AcceptResultMessage
		d.next(t, TypeAcceptResult, &res)
		if res.OrderID != o.OrderID {
			t.Fatalf("accept_result for %q", res.OrderID)
		}
		if res.Accepted {
			won.Add(1)
		} else if res.Reason != "order_taken" && res.Reason != "order_locked" {
			t.Errorf("refused with reason %q", res.Reason)
		}
	}
	if n := won.Load(); n != 1 {
		t.Fatalf("%d winners, want exactly 1", n)
	}
	var got Order
	h.request(t, "GET", "/orders/"+o.OrderID, "", nil, &got)
	if got.Status != StatusAccepted || got.DriverID == "" {
		t.Fatalf("order after the race: %+v", got)
	}
	// Every driver hears who won.
	for _, d := range drivers {
		var m OrderAcceptedMessage
		d.next(t, TypeOrderAccepted, &m)
		if m.DriverID != got.DriverID {
			t.Fatalf("order_accepted names %q, order has %q", m.DriverID, got.DriverID)
		}
	}
	if w, l := h.counters.acceptsWon.Load(), h.counters.acceptsLost.Load(); w != 1 || l != 49 {
		t.Errorf("accepts won/lost = %d/%d, want 1/49", w, l)
	}
}

func TestRiderHearsAcceptAndViewers(t *testing.T) {
	h := startHub(t, Config{})
	rider := mustDial(t, h.wsURL("/ws/user/u1"))
	other := mustDial(t, h.wsURL("/ws/user/u2"))
	rider.next(t, TypeConnected, nil)
	other.next(t, TypeConnected, nil)
	d1 := mustDial(t, h.wsURL("/ws/driver/d1"))
	d2 := mustDial(t, h.wsURL("/ws/driver/d2"))
	d1.next(t, TypeConnected, nil)
	d2.next(t, TypeConnected, nil)

	o := h.createOrder(t, "u1")
	mine := h.createOrder(t, "u2")

	wantViewers := func(n int) {
		t.Helper()
		var m OrderViewersMessage
		rider.next(t, TypeOrderViewers, &m)
		if m.OrderID != o.OrderID || m.Count != n {
			t.Fatalf("order_viewers = %+v, want %d for %s", m, n, o.OrderID)
		}
	}
	d1.send(t, TypeViewOrder, map[string]string{"order_id": o.OrderID})
	wantViewers(1)
	d2.send(t, TypeViewOrder, map[string]string{"order_id": o.OrderID})
	wantViewers(2)
	// Viewing again renews the expiry but changes no count.
	d2.send(t, TypeViewOrder, map[string]string{"order_id": o.OrderID})
	d2.send(t, TypeUnviewOrder, map[string]string{"order_id": o.OrderID})
	wantViewers(1)

	var got Order
	h.request(t, "GET", "/orders/"+o.OrderID, "", nil, &got)
	if got.Viewers == nil || *got.Viewers != 1 {
		t.Fatalf("GET order viewers = %v, want 1", got.Viewers)
	}

	// A driver that disconnects stops viewing.
	d1.conn.Close(websocket.StatusNormalClosure, "")
	wantViewers(0)

	if code := h.request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": "d2"}, nil); code != http.StatusOK {
		t.Fatalf("accept: %d", code)
	}
	var acc OrderAcceptedMessage
	rider.next(t, TypeOrderAccepted, &acc)
	if acc.OrderID != o.OrderID || acc.DriverID != "d2" {
		t.Fatalf("rider got %+v", acc)
	}

	// The other rider hears only of its own order.
	if code := h.request(t, "POST", "/orders/"+mine.OrderID+"/cancel", "", map[string]string{"user_id": "u2"}, nil); code != http.StatusOK {
		t.Fatalf("cancel: %d", code)
	}
	if env := other.nextAny(t); env.Type != TypeOrderCancelled {
		t.Fatalf("other rider's next frame is %q, want only its own order_cancelled", env.Type)
	}
	var c OrderCancelledMessage
	d2.next(t, TypeOrderCancelled, &c)
	if c.OrderID != mine.OrderID {
		t.Fatalf("driver got cancel of %s, want %s", c.OrderID, mine.OrderID)
	}
}

func TestConnectedFrameCarriesOpenOrders(t *testing.T) {
	h := startHub(t, Config{})
	a := h.createOrder(t, "u1")
	b := h.createOrder(t, "u2")
	c := h.createOrder(t, "u3")
	h.request(t, "POST", "/orders/"+b.OrderID+"/accept", "", map[string]string{"driver_id": "d9"}, nil)
	h.request(t, "POST", "/orders/"+c.OrderID+"/cancel", "", map[string]string{"user_id": "u3"}, nil)

	d := mustDial(t, h.wsURL("/ws/driver/late"))
	var hello connectedFrame
	d.next(t, TypeConnected, &hello)
	if hello.NodeID != "test-node" || hello.Role != RoleDriver || hello.ID != "late" {
		t.Fatalf("connected = %+v", hello)
	}
	if hello.OpenOrders == nil || len(*hello.OpenOrders) != 1 || (*hello.OpenOrders)[0].OrderID != a.OrderID {
		t.Fatalf("open_orders = %+v, want only %s", hello.OpenOrders, a.OrderID)
	}
	// With no open order the list is there and empty, never missing.
	h.request(t, "POST", "/orders/"+a.OrderID+"/cancel", "", map[string]string{"user_id": "u1"}, nil)
	d2 := mustDial(t, h.wsURL("/ws/driver/later"))
	var hello2 connectedFrame
	d2.next(t, TypeConnected, &hello2)
	if hello2.OpenOrders == nil || len(*hello2.OpenOrders) != 0 {
		t.Fatalf("open_orders with none open = %v, want []", hello2.OpenOrders)
	}
}

func TestDriverOnTwoConnectionsStaysPresent(t *testing.T) {
	h := startHub(t, Config{})
	a := mustDial(t, h.wsURL("/ws/driver/d1"))
	b := mustDial(t, h.wsURL("/ws/driver/d1"))
	a.next(t, TypeConnected, nil)
	b.next(t, TypeConnected, nil)
	count := func(want int64) func() error {
		return func() error {
			n, _ := h.backend().presence.Count(t.Context(), RoleDriver)
			if n != want {
				return fmt.Errorf("%d drivers present, want %d", n, want)
			}
			return nil
		}
	}
	checkFor(t, defaultWait, pollEvery, count(1))
	a.conn.Close(websocket.StatusNormalClosure, "")
	checkFor(t, defaultWait, pollEvery, func() error {
		if n := h.hub.drivers.Load(); n != 1 {
			return fmt.Errorf("%d driver connections", n)
		}
		return nil
	})
	checkFor(t, defaultWait, pollEvery, count(1))
	b.conn.Close(websocket.StatusNormalClosure, "")
	checkFor(t, defaultWait, pollEvery, count(0))
}

func TestClosedOrdersLoseTheirViewers(t *testing.T) {
	h := startHub(t, Config{})
	rider := mustDial(t, h.wsURL("/ws/user/u1"))
	rider.next(t, TypeConnected, nil)
	d := mustDial(t, h.wsURL("/ws/driver/d1"))
	d.next(t, TypeConnected, nil)
	o := h.createOrder(t, "u1")
	d.send(t, TypeViewOrder, map[string]string{"order_id": o.OrderID})
	var m OrderViewersMessage
	rider.next(t, TypeOrderViewers, &m)
	d.send(t, TypeAcceptOrder, map[string]string{"order_id": o.OrderID})
	var res AcceptResultMessage
	d.next(t, TypeAcceptResult, &res)
	if !res.Accepted {
		t.Fatalf("accept: %+v", res)
	}
	rider.next(t, TypeOrderAccepted, nil)
	var got Order
	h.request(t, "GET", "/orders/"+o.OrderID, "", nil, &got)
	if got.Viewers == nil || *got.Viewers != 0 {
		t.Fatalf("viewers of an accepted order: %v, want 0", got.Viewers)
	}
	// Disconnecting sends the rider no more counts for the closed order:
	// the next frame it gets is about a new order.
	d.conn.Close(websocket.StatusNormalClosure, "")
	checkFor(t, defaultWait, pollEvery, func() error {
		if h.hub.drivers.Load() != 0 {
			return fmt.Errorf("driver still registered")
		}
		return nil
	})
	o2 := h.createOrder(t, "u1")
	h.request(t, "POST", "/orders/"+o2.OrderID+"/cancel", "", map[string]string{"user_id": "u1"}, nil)
	if env := rider.nextAny(t); env.Type != TypeOrderCancelled {
		t.Fatalf("rider got %s, want order_cancelled", env.Type)
	}
}

// A connected frame past 64 KiB takes the longest length form of a
// WebSocket frame; a real client must read it whole.
func TestLargeConnectedFrame(t *testing.T) {
	h := startHub(t, Config{})
	for i := range 500 {
		if err := h.backend().orders.Create(t.Context(), testOrder(fmt.Sprintf("bulk-%03d", i), "u1")); err != nil {
			t.Fatal(err)
		}
	}
	d := mustDial(t, h.wsURL("/ws/driver/d1"))
	var hello connectedFrame
	d.next(t, TypeConnected, &hello)
	if hello.OpenOrders == nil || len(*hello.OpenOrders) != 500 {
		t.Fatalf("connected frame carried %v orders, want 500", hello.OpenOrders)
	}
	if n := len(wireFrame(encodeFrame(TypeConnected, hello))); n <= 1<<16 {
		t.Fatalf("frame of %d bytes does not exercise the 64-bit length", n)
	}
}
