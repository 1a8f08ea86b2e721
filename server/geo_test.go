package server

import (
	"encoding/json"
	"fmt"
	"github.com/taxi-hub/taxi/contract"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/redistest"
)

// geoCluster returns three nodes: on one Redis, or (url "") three handles on
// one memory-mode node, so that every scenario runs in both modes.
func geoCluster(t *testing.T, url string, tune func(*Config)) []*testHub {
	t.Helper()
	cfg := Config{RedisTimeout: 500 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond,
		ProbeInterval: 200 * time.Millisecond, HTTPRate: 1000, HTTPBurst: 1000, MsgRate: 100, MsgBurst: 100}
	if tune != nil {
		tune(&cfg)
	}
	if url == "" {
		h := startHub(t, cfg)
		return []*testHub{h, h, h}
	}
	nodes := make([]*testHub, 3)
	for i := range nodes {
		c := cfg
		c.NodeID, c.RedisURL = fmt.Sprintf("n%d", i), url
		nodes[i] = startHub(t, c)
	}
	for _, h := range nodes {
		waitLinked(t, h)
	}
	return nodes
}

// geoModes runs fn against memory mode and against three nodes on Redis.
func geoModes(t *testing.T, tune func(*Config), fn func(t *testing.T, nodes []*testHub)) {
	t.Run("memory", func(t *testing.T) { fn(t, geoCluster(t, "", tune)) })
	t.Run("redis", func(t *testing.T) { fn(t, geoCluster(t, redistest.Start(t).URL(), tune)) })
}

// offsetM returns the point north and east metres from p.
func offsetM(p Point, north, east float64) Point {
	q := northOf(p, north)
	q.Lng += east / (contract.EarthRadiusM * math.Cos(q.Lat*math.Pi/180)) * 180 / math.Pi
	return q
}

// locate posts driverID's position over HTTP.
func (h *testHub) locate(t testing.TB, driverID string, p Point) {
	t.Helper()
	if code := h.request(t, "POST", "/drivers/"+driverID+"/location", "", p, nil); code != http.StatusNoContent {
		t.Fatalf("position of %s: status %d", driverID, code)
	}
}

// radiusOrder creates u's order at pickup with the dispatch fields given.
func (h *testHub) radiusOrder(t testing.TB, userID string, pickup Point, radiusM float64, maxDrivers int) Order {
	t.Helper()
	body := map[string]any{"user_id": userID, "pickup": pickup, "dropoff": offsetM(pickup, 1000, 1000), "radius_m": radiusM}
	if maxDrivers > 0 {
		body["max_drivers"] = maxDrivers
	}
	var o Order
	if code := h.request(t, "POST", "/orders", "", body, &o); code != http.StatusCreated {
		t.Fatalf("create radius order: status %d", code)
	}
	return o
}

// waitPositions waits until the drivers near centre within radiusM number n.
func waitPositions(t *testing.T, h *testHub, centre Point, radiusM float64, n int) {
	t.Helper()
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		var got NearbyList
		path := fmt.Sprintf("/drivers/nearby?lat=%v&lng=%v&radius_m=%v&limit=1000", centre.Lat, centre.Lng, radiusM)
		if code := h.request(t, "GET", path, "", nil, &got); code != http.StatusOK {
			return fmt.Errorf("nearby: status %d", code)
		}
		if len(got.Drivers) != n {
			return fmt.Errorf("%d drivers with a position, want %d", len(got.Drivers), n)
		}
		return nil
	})
}

// newOrdersUntil reads c's frames until the new_order of marker and returns
// the ids of the new_order frames before it, in order. Events reach a feed
// in id order, so nothing published before marker can follow it.
func (c *wsClient) newOrdersUntil(t *testing.T, marker string) []string {
	t.Helper()
	var ids []string
	for {
		var o Order
		c.next(t, TypeNewOrder, &o)
		if o.OrderID == marker {
			return ids
		}
		ids = append(ids, o.OrderID)
	}
}

// TestRadiusDispatch spreads drivers over a city on three nodes, gives them
// positions over their feeds and over HTTP, and places orders with radii at
// random pickups: every driver within an order's radius gets its new_order
// exactly once, and no driver outside does.
func TestRadiusDispatch(t *testing.T) {
	geoModes(t, nil, func(t *testing.T, nodes []*testHub) {
		rng := rand.New(rand.NewPCG(15, 2))
		const drivers = 45
		pos := make([]Point, drivers)
		feeds := make([]*wsClient, drivers)
		for i := range drivers {
			id := fmt.Sprintf("g%d", i)
			pos[i] = offsetM(berlin, (rng.Float64()*2-1)*8000, (rng.Float64()*2-1)*8000)
			feeds[i] = mustDial(t, nodes[i%3].wsURL("/ws/driver/"+id))
			feeds[i].next(t, TypeConnected, nil)
			if i%2 == 0 {
				feeds[i].send(t, TypeLocation, pos[i])
			} else {
				nodes[(i+1)%3].locate(t, id, pos[i])
			}
		}
		waitPositions(t, nodes[0], berlin, 20000, drivers)

		want := make([][]string, drivers) // the orders each driver must get
		for k := 0; k < 8; {
			pickup := offsetM(berlin, (rng.Float64()*2-1)*5000, (rng.Float64()*2-1)*5000)
			radius := 1500 + rng.Float64()*2500
			var in []int
			borderline := false
			for i, p := range pos {
				d := distanceM(pickup, p)
				borderline = borderline || math.Abs(d-radius) < 5
				if d <= radius {
					in = append(in, i)
				}
			}
			if borderline {
				continue // a driver within a few metres of the edge: pick again
			}
			o := nodes[k%3].radiusOrder(t, "u1", pickup, radius, 0)
			if o.RadiusM != radius || o.Offered == nil || *o.Offered != len(in) {
				t.Fatalf("order %d: radius %v offered %v, want %v and %d", k, o.RadiusM, o.Offered, radius, len(in))
			}
			for _, i := range in {
				want[i] = append(want[i], o.OrderID)
			}
			k++
		}
		marker := nodes[2].radiusOrder(t, "u2", berlin, 50000, 0)
		if *marker.Offered != drivers {
			t.Fatalf("the marker was offered to %d drivers, want all %d", *marker.Offered, drivers)
		}
		for i, c := range feeds {
			if got := c.newOrdersUntil(t, marker.OrderID); !slices.Equal(got, want[i]) {
				t.Errorf("driver g%d (%v) got %v, want %v", i, pos[i], got, want[i])
			}
		}
	})
}

// TestOnlyOfferedDriversAccept: a driver outside the radius is refused with
// 403 order_not_offered over HTTP and over its feed, and hears nothing of
// the order; an offered driver wins it, and order_accepted reaches only the
// offered drivers and the rider.
func TestOnlyOfferedDriversAccept(t *testing.T) {
	geoModes(t, nil, func(t *testing.T, nodes []*testHub) {
		near, far := mustDial(t, nodes[0].wsURL("/ws/driver/near")), mustDial(t, nodes[1].wsURL("/ws/driver/far"))
		rider := mustDial(t, nodes[2].wsURL("/ws/user/u1"))
		for _, c := range []*wsClient{near, far, rider} {
			c.next(t, TypeConnected, nil)
		}
		nodes[0].locate(t, "near", northOf(berlin, 300))
		nodes[1].locate(t, "far", northOf(berlin, 3000))
		o := nodes[2].radiusOrder(t, "u1", berlin, 1000, 0)
		if *o.Offered != 1 {
			t.Fatalf("offered to %d drivers, want 1", *o.Offered)
		}
		var e errorBody
		if code := nodes[1].request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": "far"}, &e); code != http.StatusForbidden || e.Error != "order_not_offered" {
			t.Fatalf("accept by a driver outside the radius: %d %+v", code, e)
		}
		far.send(t, TypeAcceptOrder, map[string]string{"order_id": o.OrderID})
		var res AcceptResultMessage
		far.next(t, TypeAcceptResult, &res)
		if res.Accepted || res.Reason != "order_not_offered" {
			t.Fatalf("accept_order by a driver outside the radius: %+v", res)
		}
		near.send(t, TypeAcceptOrder, map[string]string{"order_id": o.OrderID})
		near.next(t, TypeAcceptResult, &res)
		if !res.Accepted {
			t.Fatalf("accept_order by the offered driver: %+v", res)
		}
		var acc OrderAcceptedMessage
		rider.next(t, TypeOrderAccepted, &acc)
		if acc.DriverID != "near" {
			t.Fatalf("rider heard %+v", acc)
		}
		// far hears nothing of the order: the next frame it gets is the
		// marker's new_order.
		marker := nodes[0].radiusOrder(t, "u2", berlin, 50000, 0)
		frames := []string{}
		for {
			env := far.nextAny(t)
			frames = append(frames, env.Type)
			if env.Type == TypeNewOrder && strings.Contains(string(env.Message), marker.OrderID) {
				break
			}
		}
		if !slices.Equal(frames, []string{TypeNewOrder}) {
			t.Fatalf("a driver outside the radius got %v", frames)
		}
	})
}

// TestMaxDriversPicksNearest: with max_drivers the order goes to that many
// drivers, the nearest, and the order records it.
func TestMaxDriversPicksNearest(t *testing.T) {
	geoModes(t, nil, func(t *testing.T, nodes []*testHub) {
		dist := []float64{900, 150, 600, 300, 450} // metres from the pickup
		feeds := make([]*wsClient, len(dist))
		for i, d := range dist {
			id := fmt.Sprintf("m%d", i)
			feeds[i] = mustDial(t, nodes[i%3].wsURL("/ws/driver/"+id))
			feeds[i].next(t, TypeConnected, nil)
			nodes[i%3].locate(t, id, offsetM(berlin, d*0.6, d*0.8))
		}
		o := nodes[1].radiusOrder(t, "u1", berlin, 1000, 3)
		if *o.Offered != 3 || o.MaxDrivers != 3 {
			t.Fatalf("offered %d, max_drivers %d; want 3 and 3", *o.Offered, o.MaxDrivers)
		}
		var got Order
		if code := nodes[2].request(t, "GET", "/orders/"+o.OrderID, "", nil, &got); code != http.StatusOK ||
			got.RadiusM != 1000 || got.MaxDrivers != 3 || got.Offered == nil || *got.Offered != 3 {
			t.Fatalf("GET the order: %d %+v", code, got)
		}
		marker := nodes[0].radiusOrder(t, "u2", berlin, 50000, 0)
		for i, c := range feeds {
			got := c.newOrdersUntil(t, marker.OrderID)
			nearest := dist[i] <= 450 // 150, 300 and 450 m
			if nearest != (len(got) == 1) {
				t.Errorf("driver at %v m got %v", dist[i], got)
			}
		}
	})
}

// TestStalePositionsExpire: a position older than the location TTL gets
// the driver no order and is not listed, and the node trims it.
func TestStalePositionsExpire(t *testing.T) {
	geoModes(t, func(c *Config) { c.LocationTTL = time.Second }, func(t *testing.T, nodes []*testHub) {
		d := mustDial(t, nodes[0].wsURL("/ws/driver/old"))
		d.next(t, TypeConnected, nil)
		nodes[1].locate(t, "old", northOf(berlin, 100))
		waitPositions(t, nodes[2], berlin, 1000, 1)
		start := time.Now()
		waitPositions(t, nodes[2], berlin, 1000, 0)
		if time.Since(start) > 3*time.Second {
			t.Fatalf("the position counted for %v after its TTL of 1 s", time.Since(start))
		}
		o := nodes[2].radiusOrder(t, "u1", berlin, 1000, 0)
		if *o.Offered != 0 {
			t.Fatalf("an order near a stale position was offered to %d drivers", *o.Offered)
		}
		checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
			n, err := nodes[0].backend().locations.Count(t.Context(), time.Time{})
			if err != nil || n != 0 {
				return fmt.Errorf("%d positions kept, %v", n, err)
			}
			return nil
		})
	})
}

// locationsUntil reads a rider's frames until one of type until and returns
// the driver_location messages before it.
func (c *wsClient) locationsUntil(t *testing.T, until string) []DriverLocationMessage {
	t.Helper()
	var out []DriverLocationMessage
	for {
		env := c.nextAny(t)
		switch env.Type {
		case until:
			return out
		case TypeDriverLocation:
			var m DriverLocationMessage
			if err := json.Unmarshal(env.Message, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
}

// TestTrackingAcrossNodes: from accept to completion the rider, on another
// node than its driver, gets the driver's positions at most once a second
// per order; completion by the driver ends them.
func TestTrackingAcrossNodes(t *testing.T) {
	geoModes(t, nil, func(t *testing.T, nodes []*testHub) {
		rider := mustDial(t, nodes[0].wsURL("/ws/user/u1"))
		driver := mustDial(t, nodes[1].wsURL("/ws/driver/d1"))
		rider.next(t, TypeConnected, nil)
		driver.next(t, TypeConnected, nil)
		driver.send(t, TypeLocation, northOf(berlin, 500))
		waitPositions(t, nodes[2], berlin, 1000, 1)
		o := nodes[0].radiusOrder(t, "u1", berlin, 1000, 0)
		// Positions before the accept reach nobody. (Over HTTP, which
		// answers once the position is taken: a feed frame could still be
		// on its way when the accept, on another node, is decided.)
		nodes[1].locate(t, "d1", northOf(berlin, 450))
		if code := nodes[2].request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": "d1"}, nil); code != http.StatusOK {
			t.Fatalf("accept: %d", code)
		}
		rider.next(t, TypeOrderAccepted, nil)

		// 2.5 s of positions, ten a second, half of them over HTTP to a
		// third node.
		start := time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		heading, speed := 180.0, 9.5
		for i := 0; time.Since(start) < 2500*time.Millisecond; i++ {
			<-tick.C
			p := northOf(berlin, 400-float64(i)*5)
			if i%2 == 0 {
				driver.send(t, TypeLocation, LocationMessage{Lat: p.Lat, Lng: p.Lng, Heading: &heading, SpeedMPS: &speed})
			} else {
				nodes[2].locate(t, "d1", p)
			}
		}
		tick.Stop()
		elapsed := time.Since(start)
		if code := nodes[2].request(t, "POST", "/orders/"+o.OrderID+"/complete", "", map[string]string{"driver_id": "d1"}, nil); code != http.StatusOK {
			t.Fatalf("complete: %d", code)
		}
		got := rider.locationsUntil(t, TypeOrderCompleted)
		if len(got) < 2 || float64(len(got)) > elapsed.Seconds()+1 {
			t.Fatalf("%d driver_location frames in %v, want 2 to one a second", len(got), elapsed)
		}
		for i, m := range got {
			if m.OrderID != o.OrderID || m.DriverID != "d1" || m.UserID != "u1" || m.Lat >= northOf(berlin, 405).Lat {
				t.Fatalf("frame %d = %+v", i, m)
			}
			if i > 0 && m.UpdatedAt.Sub(got[i-1].UpdatedAt) < 900*time.Millisecond {
				t.Fatalf("frames %d and %d are %v apart", i-1, i, m.UpdatedAt.Sub(got[i-1].UpdatedAt))
			}
		}
		var done OrderCompletedMessage
		driver.next(t, TypeOrderCompleted, &done)
		if done.OrderID != o.OrderID || done.DriverID != "d1" {
			t.Fatalf("driver heard %+v", done)
		}

		// After completion, positions for longer than the gate's second
		// reach the rider no more. The driver then views another of the
		// rider's orders: its order_viewers comes after anything the
		// positions could have caused.
		start = time.Now()
		tick = time.NewTicker(100 * time.Millisecond)
		for time.Since(start) < 1500*time.Millisecond {
			<-tick.C
			driver.send(t, TypeLocation, northOf(berlin, 10))
		}
		tick.Stop()
		next := nodes[1].radiusOrder(t, "u1", berlin, 1000, 0)
		driver.send(t, TypeViewOrder, map[string]string{"order_id": next.OrderID})
		if late := rider.locationsUntil(t, TypeOrderViewers); len(late) > 0 {
			t.Fatalf("%d driver_location frames after completion: %+v", len(late), late)
		}
		var got2 Order
		if code := nodes[0].request(t, "GET", "/orders/"+o.OrderID, "", nil, &got2); code != http.StatusOK || got2.Status != StatusCompleted {
			t.Fatalf("GET the completed order: %d %+v", code, got2)
		}
	})
}

// TestSnapshotAndResumeHonourOffers: a driver's open_orders lists only the
// radius-limited orders offered to it, and a driver resuming gets only the
// events meant for it.
func TestSnapshotAndResumeHonourOffers(t *testing.T) {
	geoModes(t, nil, func(t *testing.T, nodes []*testHub) {
		a, b := mustDial(t, nodes[0].wsURL("/ws/driver/a")), mustDial(t, nodes[1].wsURL("/ws/driver/b"))
		a.next(t, TypeConnected, nil)
		b.next(t, TypeConnected, nil)
		nodes[0].locate(t, "a", northOf(berlin, 100))
		nodes[0].locate(t, "b", northOf(berlin, 5000))
		// The id to resume from: an order cancelled before the others.
		gone := nodes[0].createOrder(t, "u9")
		if code := nodes[0].request(t, "POST", "/orders/"+gone.OrderID+"/cancel", "", map[string]string{"user_id": "u9"}, nil); code != http.StatusOK {
			t.Fatalf("cancel: %d", code)
		}
		var since string
		for since == "" {
			if env := a.nextAny(t); env.Type == TypeOrderCancelled {
				since = env.ID
			}
		}
		everyone := nodes[0].createOrder(t, "u1")
		onlyA := nodes[1].radiusOrder(t, "u1", berlin, 1000, 0)
		want := map[string][]string{"a": {everyone.OrderID, onlyA.OrderID}, "b": {everyone.OrderID}}
		for _, id := range []string{"a", "b"} {
			c := mustDial(t, nodes[2].wsURL("/ws/driver/"+id))
			var hello connectedFrame
			c.next(t, TypeConnected, &hello)
			var ids []string
			for _, o := range *hello.OpenOrders {
				ids = append(ids, o.OrderID)
			}
			if !slices.Equal(ids, want[id]) {
				t.Errorf("driver %s: open_orders %v, want %v", id, ids, want[id])
			}
		}
		resumed := map[string]*wsClient{}
		for _, id := range []string{"a", "b"} {
			resumed[id] = mustDial(t, nodes[2].wsURL("/ws/driver/"+id+"?since="+since))
			var hello connectedFrame
			resumed[id].next(t, TypeConnected, &hello)
			if hello.Recovered == nil || !*hello.Recovered {
				t.Fatalf("driver %s did not resume: %+v", id, hello.ConnectedMessage)
			}
		}
		marker := nodes[1].radiusOrder(t, "u2", berlin, 50000, 0)
		for _, id := range []string{"a", "b"} {
			if got := resumed[id].newOrdersUntil(t, marker.OrderID); !slices.Equal(got, want[id]) {
				t.Errorf("driver %s resumed with %v, want %v", id, got, want[id])
			}
		}
	})
}
