package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// startNodes starts n nodes on the Redis at url and waits until each one is
// in Redis mode with its subscription up.
func startNodes(t *testing.T, url string, n int) []*testHub {
	t.Helper()
	nodes := make([]*testHub, n)
	for i := range nodes {
		nodes[i] = startHub(t, Config{
			NodeID:            fmt.Sprintf("n%d", i),
			RedisURL:          url,
			RedisTimeout:      500 * time.Millisecond,
			HeartbeatInterval: 200 * time.Millisecond,
			ProbeInterval:     200 * time.Millisecond,
			HTTPRate:          1000,
			HTTPBurst:         1000,
		})
	}
	for _, h := range nodes {
		waitLinked(t, h)
	}
	return nodes
}

func waitLinked(t *testing.T, h *testHub) {
	t.Helper()
	checkFor(t, 15*time.Second, 20*time.Millisecond, func() error {
		if h.mode() != "redis" || !h.cluster.delivery.subscribed() {
			return fmt.Errorf("node %s: mode %s, subscribed %v", h.NodeID(), h.mode(), h.cluster.delivery.subscribed())
		}
		return nil
	})
}

func TestCrossNodeFanoutExactlyOnce(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startNodes(t, srv.URL(), 3)
	var drivers []*wsClient
	for i, h := range nodes {
		drivers = append(drivers, dialMany(t, h, fmt.Sprintf("n%d-d", i), 10)...)
	}
	rider := mustDial(t, nodes[0].wsURL("/ws/user/u1"))
	rider.next(t, TypeConnected, nil)

	first := nodes[1].createOrder(t, "u1")
	second := nodes[2].createOrder(t, "u1")
	for i, d := range drivers {
		// Each order once, in order: a duplicate of the first would come
		// before the second.
		for _, want := range []string{first.OrderID, second.OrderID} {
			var o Order
			d.next(t, TypeNewOrder, &o)
			if o.OrderID != want {
				t.Fatalf("driver %d: new_order %s, want %s", i, o.OrderID, want)
			}
		}
	}

	if code := nodes[2].request(t, "POST", "/orders/"+first.OrderID+"/accept", "", map[string]string{"driver_id": "n2-d0"}, nil); code != 200 {
		t.Fatalf("accept on node 2: %d", code)
	}
	var acc OrderAcceptedMessage
	rider.next(t, TypeOrderAccepted, &acc)
	if acc.OrderID != first.OrderID || acc.DriverID != "n2-d0" {
		t.Fatalf("rider on node 0 got %+v", acc)
	}
	for _, d := range drivers {
		d.next(t, TypeOrderAccepted, &acc)
	}
	// Any node serves any order.
	var got Order
	if code := nodes[0].request(t, "GET", "/orders/"+first.OrderID, "", nil, &got); code != 200 || got.DriverID != "n2-d0" {
		t.Fatalf("GET on node 0: %d %+v", code, got)
	}
}

func TestOneWinnerAcrossNodes(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startNodes(t, srv.URL(), 3)
	for round := range 3 {
		o := nodes[round].createOrder(t, "u1")
		var won atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				h := nodes[i%3]
				var e errorBody
				switch code := h.request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": fmt.Sprintf("d%d", i)}, &e); code {
				case http.StatusOK:
					won.Add(1)
				case http.StatusConflict:
				default:
					t.Errorf("accept: %d %+v", code, e)
				}
			}()
		}
		close(start)
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("round %d: %d winners among 100 accepts on 3 nodes", round, won.Load())
		}
	}
}

func TestAcceptWhenLockExpiresMidway(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startNodes(t, srv.URL(), 2)
	ctx := context.Background()
	b := nodes[0].cluster.failover.redis
	o := testOrder("slow-accept", "u1")
	if err := b.orders.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	// Driver A took the lock, stalled past its expiry; driver B then locked
	// and won. A's late state change must lose.
	if ok, _, _ := b.locks.Acquire(ctx, o.OrderID, "A", time.Second); !ok {
		t.Fatal("A could not lock")
	}
	srv.Client(t).Del(ctx, lockKey(o.OrderID)) // the lock expires
	if code := nodes[1].request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": "B"}, nil); code != 200 {
		t.Fatalf("B: %d", code)
	}
	if _, err := b.orders.Accept(ctx, o.OrderID, "A"); !errors.Is(err, ErrOrderTaken) {
		t.Fatalf("A's late accept: %v, want ErrOrderTaken", err)
	}
}

func TestPresetLockRefusesAccept(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startNodes(t, srv.URL(), 2)
	o := nodes[0].createOrder(t, "u1")
	rdb := srv.Client(t)
	if err := rdb.SetArgs(context.Background(), "order_lock:"+o.OrderID, "d-other", redis.SetArgs{Mode: "NX", TTL: 5 * time.Second}).Err(); err != nil {
		t.Fatal(err)
	}
	var e errorBody
	if code := nodes[1].request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": "d1"}, &e); code != http.StatusConflict || e.Error != "order_locked" {
		t.Fatalf("accept under a held lock: %d %+v", code, e)
	}
	if v, _ := rdb.Get(context.Background(), "order_lock:"+o.OrderID).Result(); v != "d-other" {
		t.Fatalf("someone else's lock was touched: %q", v)
	}
	rdb.Del(context.Background(), "order_lock:"+o.OrderID)
	if code := nodes[1].request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": "d1"}, nil); code != http.StatusOK {
		t.Fatalf("accept after the lock was cleared: %d", code)
	}
	if n, _ := rdb.Exists(context.Background(), "order_lock:"+o.OrderID).Result(); n != 0 {
		t.Fatal("the winner's lock was left behind")
	}
}

func members(t *testing.T, rdb *redis.Client, key string) map[string]bool {
	t.Helper()
	ids, err := rdb.SMembers(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

func TestPresenceAcrossNodes(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	nodes := startNodes(t, srv.URL(), 2)
	a := mustDial(t, nodes[0].wsURL("/ws/driver/d1"))
	b := mustDial(t, nodes[1].wsURL("/ws/driver/d1"))
	u := mustDial(t, nodes[1].wsURL("/ws/user/u1"))
	for _, c := range []*wsClient{a, b, u} {
		c.next(t, TypeConnected, nil)
	}
	present := func(key, id string, want bool) func() error {
		return func() error {
			if got := members(t, rdb, key)[id]; got != want {
				return fmt.Errorf("%s in %s: %v, want %v", id, key, got, want)
			}
			return nil
		}
	}
	checkFor(t, defaultWait, pollEvery, present("active_drivers", "d1", true))
	checkFor(t, defaultWait, pollEvery, present("active_users", "u1", true))
	a.conn.Close(websocket.StatusNormalClosure, "")
	checkFor(t, defaultWait, pollEvery, func() error {
		if n := nodes[0].hub.drivers.Load(); n != 0 {
			return fmt.Errorf("node 0 still has %d drivers", n)
		}
		return nil
	})
	checkFor(t, defaultWait, pollEvery, present("active_drivers", "d1", true))
	b.conn.Close(websocket.StatusNormalClosure, "")
	checkFor(t, defaultWait, pollEvery, present("active_drivers", "d1", false))
	u.conn.Close(websocket.StatusNormalClosure, "")
	checkFor(t, defaultWait, pollEvery, present("active_users", "u1", false))
}

func TestDeadNodeIsReaped(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	// A node that registered its drivers and a heartbeat, then died without
	// a goodbye: its heartbeat expires and nothing else changes.
	ghost := &redisPresence{rdb: rdb, nodeID: "ghost"}
	for _, id := range []string{"g1", "shared"} {
		if err := ghost.Join(ctx, RoleDriver, id); err != nil {
			t.Fatal(err)
		}
	}
	rdb.Set(ctx, nodeKey("ghost"), "{}", 300*time.Millisecond)
	rdb.SAdd(ctx, keyNodes, "ghost")

	nodes := startNodes(t, srv.URL(), 1)
	live := mustDial(t, nodes[0].wsURL("/ws/driver/shared"))
	live.next(t, TypeConnected, nil)

	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		m := members(t, rdb, "active_drivers")
		if m["g1"] || !m["shared"] {
			return fmt.Errorf("active_drivers = %v, want shared only", m)
		}
		if members(t, rdb, keyNodes)["ghost"] {
			return errors.New("ghost still listed in taxi:nodes")
		}
		return nil
	})
	// The live node's heartbeat is there for taxi monitor.
	if n, _ := rdb.Exists(ctx, nodeKey("n0")).Result(); n != 1 {
		t.Fatal("no heartbeat for the live node")
	}
}

func TestRedisOutageAndRecovery(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startNodes(t, srv.URL(), 2)
	a, b := nodes[0], nodes[1]
	before := a.createOrder(t, "u1")
	da := mustDial(t, a.wsURL("/ws/driver/da"))
	db := mustDial(t, b.wsURL("/ws/driver/db"))
	rider := mustDial(t, a.wsURL("/ws/user/u2"))
	for _, c := range []*wsClient{da, db, rider} {
		c.next(t, TypeConnected, nil)
	}

	srv.Kill()
	// The first request that meets the outage still succeeds: the order is
	// made in memory.
	during := a.createOrder(t, "u2")
	if a.mode() != "memory" {
		t.Fatalf("mode %s during the outage", a.mode())
	}
	var o Order
	da.next(t, TypeNewOrder, &o)
	if o.OrderID != during.OrderID {
		t.Fatalf("driver on A did not get the outage order: %s", o.OrderID)
	}
	var e errorBody
	if code := a.request(t, "POST", "/orders/"+before.OrderID+"/accept", "", map[string]string{"driver_id": "da"}, &e); code != http.StatusServiceUnavailable || e.Error != "degraded" {
		t.Fatalf("accept of a pre-outage order during the outage: %d %+v", code, e)
	}
	if code := a.request(t, "GET", "/readyz", "", nil, nil); code != http.StatusOK {
		t.Fatalf("readyz during outage: %d", code)
	}
	var st Stats
	a.request(t, "GET", "/ws/stats", "", nil, &st)
	if st.Mode != "memory" || st.Redis == nil || st.Redis.Status != "degraded" || st.Redis.Outages != 1 {
		t.Fatalf("stats during outage: mode %s redis %+v", st.Mode, st.Redis)
	}
	da.send(t, TypeAcceptOrder, map[string]string{"order_id": during.OrderID})
	var res AcceptResultMessage
	da.next(t, TypeAcceptResult, &res)
	if !res.Accepted {
		t.Fatalf("accept of an outage order on its own node: %+v", res)
	}
	var acc OrderAcceptedMessage
	rider.next(t, TypeOrderAccepted, &acc)
	open := a.createOrder(t, "u2") // stays open through recovery

	srv.Restart(t)
	// Node B notices at its next heartbeat; both rejoin by themselves.
	waitLinked(t, a)
	waitLinked(t, b)
	for _, n := range nodes {
		checkFor(t, 15*time.Second, 20*time.Millisecond, func() error {
			if n.mode() != "redis" {
				return fmt.Errorf("node %s still %s", n.NodeID(), n.mode())
			}
			return nil
		})
	}
	// The outage orders are in Redis, with their final state.
	var got Order
	if code := b.request(t, "GET", "/orders/"+during.OrderID, "", nil, &got); code != 200 || got.Status != StatusAccepted || got.DriverID != "da" {
		t.Fatalf("outage order on B after recovery: %d %+v", code, got)
	}
	if code := b.request(t, "POST", "/orders/"+during.OrderID+"/accept", "", map[string]string{"driver_id": "db"}, nil); code != http.StatusConflict {
		t.Fatalf("second winner after recovery: %d", code)
	}
	// Drivers on both nodes learn of the order still open from the outage:
	// in the open orders resent after the gap, or as a new_order that node
	// A publishes when it rejoins.
	for name, d := range map[string]*wsClient{"A": da, "B": db} {
		if !sawOrder(t, d, open.OrderID) {
			t.Fatalf("driver on %s never learnt of %s", name, open.OrderID)
		}
	}
	a.request(t, "GET", "/ws/stats", "", nil, &st)
	if st.Redis.Status != "connected" || st.Redis.DegradedSeconds <= 0 {
		t.Fatalf("stats after recovery: %+v", st.Redis)
	}
}

func TestPubSubConnectionKilledIsRecovered(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	nodes := startNodes(t, srv.URL(), 2)
	d := mustDial(t, nodes[0].wsURL("/ws/driver/d1"))
	d.next(t, TypeConnected, nil)

	if err := rdb.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	// Published while the subscriptions are being rebuilt: the catch-up
	// from the event log delivers it, once.
	inGap := nodes[1].createOrder(t, "u1")
	checkFor(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n := nodes[0].cluster.delivery.stats.resubscribes.Load(); n < 1 {
			return fmt.Errorf("%d resubscribes", n)
		}
		return nil
	})
	waitLinked(t, nodes[0])
	o := nodes[1].createOrder(t, "u1")
	for _, want := range []string{inGap.OrderID, o.OrderID} {
		var got Order
		d.next(t, TypeNewOrder, &got)
		if got.OrderID != want {
			t.Fatalf("after resubscribe: new_order %s, want %s", got.OrderID, want)
		}
	}
}

func TestProbeCatchesSilentSubscription(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startNodes(t, srv.URL(), 1)
	n := nodes[0]
	d := mustDial(t, n.wsURL("/ws/driver/d1"))
	d.next(t, TypeConnected, nil)
	// The connection stays up but stops delivering the node's messages.
	ps := n.cluster.delivery.subs[0].ps.Load()
	if err := ps.Unsubscribe(context.Background(), n.cluster.delivery.subs[0].channels...); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n.cluster.delivery.stats.probeFailures.Load() < 1 {
			return errors.New("probe has not fired")
		}
		return nil
	})
	waitLinked(t, n)
	var st Stats
	n.request(t, "GET", "/ws/stats", "", nil, &st)
	if st.Redis.ProbeFailures < 1 {
		t.Fatalf("stats do not show the probe failure: %+v", st.Redis)
	}
	o := n.createOrder(t, "u1")
	var got Order
	d.next(t, TypeNewOrder, &got)
	if got.OrderID != o.OrderID {
		t.Fatalf("after the probe rebuilt the subscription: %s", got.OrderID)
	}
}

func TestStartsInMemoryModeWhenRedisIsDown(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	srv.Kill()
	h := startHub(t, Config{NodeID: "lonely", RedisURL: url, RedisTimeout: 300 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond, ProbeInterval: 200 * time.Millisecond})
	if h.mode() != "memory" {
		t.Fatalf("mode %s with Redis down at start", h.mode())
	}
	o := h.createOrder(t, "u1")
	srv.Restart(t)
	waitLinked(t, h)
	var got Order
	if code := h.request(t, "GET", "/orders/"+o.OrderID, "", nil, &got); code != 200 {
		t.Fatalf("order made before Redis came: %d", code)
	}
	if n, _ := srv.Client(t).Exists(context.Background(), orderKey(o.OrderID)).Result(); n != 1 {
		t.Fatal("order not written to Redis")
	}
}

func TestClusterFanoutAndOneWinner(t *testing.T) {
	cl := redistest.StartCluster(t)
	nodes := startNodes(t, cl.URL(), 2)
	if !nodes[0].cluster.sharded {
		t.Fatal("cluster URL did not select sharded Pub/Sub")
	}
	d0 := dialMany(t, nodes[0], "a", 5)
	d1 := dialMany(t, nodes[1], "b", 5)
	o := nodes[0].createOrder(t, "u1")
	for _, d := range append(d0, d1...) {
		var got Order
		d.next(t, TypeNewOrder, &got)
		if got.OrderID != o.OrderID {
			t.Fatalf("new_order %s", got.OrderID)
		}
	}
	var won atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if nodes[i%2].request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": fmt.Sprintf("d%d", i)}, nil) == 200 {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d winners on the cluster", won.Load())
	}
	for _, d := range append(d0, d1...) {
		d.next(t, TypeOrderAccepted, nil)
	}
}

// sawOrder reads frames until one carries orderID as an open order, as a
// new_order or inside open_orders. It reports false at the deadline.
func sawOrder(t *testing.T, d *wsClient, orderID string) bool {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		var env Envelope
		if len(d.pending) > 0 {
			env, d.pending = d.pending[0], d.pending[1:]
		} else {
			select {
			case e, ok := <-d.frames:
				if !ok {
					return false
				}
				env = e
			case <-deadline:
				return false
			}
		}
		switch env.Type {
		case TypeNewOrder:
			var o Order
			if json.Unmarshal(env.Message, &o) == nil && o.OrderID == orderID {
				return true
			}
		case TypeOpenOrders:
			var m OpenOrdersMessage
			if json.Unmarshal(env.Message, &m) == nil {
				for _, o := range m.OpenOrders {
					if o.OrderID == orderID {
						return true
					}
				}
			}
		}
	}
}
