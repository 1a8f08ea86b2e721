package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// drain returns every frame c receives until none comes for quiet, within
// a bound of 20 s.
func (c *wsClient) drain(t testing.TB, quiet time.Duration) []Envelope {
	t.Helper()
	out := c.pending
	c.pending = nil
	limit := time.After(20 * time.Second)
	for {
		select {
		case env, ok := <-c.frames:
			if !ok {
				return out
			}
			out = append(out, env)
		case <-time.After(quiet):
			return out
		case <-limit:
			t.Fatal("frames never stopped coming")
		}
	}
}

// eventIDs returns the ids of the events among frames, in order.
func eventIDs(frames []Envelope) []string {
	var ids []string
	for _, f := range frames {
		if f.ID != "" {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

// logFor returns the ids of the events in ch's Redis log that a client of
// role and id receives, in order.
func logFor(t *testing.T, rdb *redis.Client, ch Channel, role Role, id string) []string {
	t.Helper()
	msgs, err := rdb.XRange(context.Background(), eventsKey(ch), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range msgs {
		ev, err := eventFromStream(ch, m)
		if err != nil {
			t.Fatal(err)
		}
		if ev.concerns(role, id) {
			ids = append(ids, ev.ID.String())
		}
	}
	return ids
}

func connectedOf(t *testing.T, frames []Envelope) connectedFrame {
	t.Helper()
	if len(frames) == 0 || frames[0].Type != TypeConnected {
		t.Fatalf("first frame is not connected: %+v", frames)
	}
	var hello connectedFrame
	if err := json.Unmarshal(frames[0].Message, &hello); err != nil {
		t.Fatal(err)
	}
	return hello
}

func TestEventsCarryIDsInOrder(t *testing.T) {
	for name, url := range map[string]string{"memory": "", "redis": redistest.Start(t).URL()} {
		t.Run(name, func(t *testing.T) {
			h := startHub(t, Config{RedisURL: url, HTTPRate: 1000, HTTPBurst: 1000})
			if url != "" {
				waitLinked(t, h)
			}
			d := mustDial(t, h.wsURL("/ws/driver/d1"))
			d.next(t, TypeConnected, nil)
			for range 5 {
				h.createOrder(t, "u1")
			}
			frames := d.drain(t, 300*time.Millisecond)
			ids := eventIDs(frames)
			if len(ids) != 5 {
				t.Fatalf("%d events with ids, want 5: %+v", len(ids), frames)
			}
			for i := 1; i < len(ids); i++ {
				a, _ := ParseEventID(ids[i-1])
				b, _ := ParseEventID(ids[i])
				if !a.Less(b) {
					t.Fatalf("ids out of order: %v", ids)
				}
			}
		})
	}
}

// TestResumeOnAnotherNode is a client that loses its node and reconnects
// to another with the last id it saw: it gets every event since, once, in
// order, then live events.
func TestResumeOnAnotherNode(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startNodes(t, srv.URL(), 2)
	rider := mustDial(t, nodes[0].wsURL("/ws/user/u1"))
	driver := mustDial(t, nodes[0].wsURL("/ws/driver/d1"))
	rider.next(t, TypeConnected, nil)
	driver.next(t, TypeConnected, nil)
	first := nodes[1].createOrder(t, "u1")
	second := nodes[1].createOrder(t, "u1")
	driverSince := driver.nextAnyOfType(t, TypeNewOrder).ID
	driver.send(t, TypeViewOrder, map[string]string{"order_id": first.OrderID})
	riderSince := rider.nextAnyOfType(t, TypeOrderViewers).ID
	rider.conn.CloseNow()
	driver.conn.CloseNow()

	// Missed while away: the second order's new_order (driver), the
	// acceptance (both), a cancel (both).
	nodes[1].request(t, "POST", "/orders/"+first.OrderID+"/accept", "", map[string]string{"driver_id": "d9"}, nil)
	nodes[1].request(t, "POST", "/orders/"+second.OrderID+"/cancel", "", map[string]string{"user_id": "u1"}, nil)

	for _, c := range []struct {
		role  Role
		path  string
		since string
	}{{RoleDriver, "/ws/driver/d1", driverSince}, {RoleUser, "/ws/user/u1", riderSince}} {
		cl := mustDial(t, nodes[1].wsURL(c.path+"?since="+url.QueryEscape(c.since)))
		frames := cl.drain(t, 300*time.Millisecond)
		hello := connectedOf(t, frames)
		if hello.Recovered == nil || !*hello.Recovered {
			t.Fatalf("%s resume from %q: recovered %v", c.role, c.since, hello.Recovered)
		}
		ch := channelOf(c.role)
		all := logFor(t, srv.Client(t), ch, c.role, map[Role]string{RoleDriver: "d1", RoleUser: "u1"}[c.role])
		var want []string
		for _, id := range all {
			a, _ := ParseEventID(id)
			b, _ := ParseEventID(c.since)
			if b.Less(a) {
				want = append(want, id)
			}
		}
		if got := eventIDs(frames); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s resumed with %v, log after %s has %v", c.role, got, c.since, want)
		}
		// Then live events, none repeated.
		third := nodes[0].createOrder(t, "u1")
		nodes[0].request(t, "POST", "/orders/"+third.OrderID+"/cancel", "", map[string]string{"user_id": "u1"}, nil)
		live := eventIDs(cl.drain(t, 300*time.Millisecond))
		if len(live) == 0 || live[0] == want[len(want)-1] {
			t.Fatalf("%s live events after resume: %v", c.role, live)
		}
	}
}

// nextAnyOfType is next for tests that need the whole envelope.
func (c *wsClient) nextAnyOfType(t testing.TB, typ string) Envelope {
	t.Helper()
	for {
		if env := c.nextAny(t); env.Type == typ {
			return env
		}
	}
}

func TestResumeOutsideTheLogGetsASnapshot(t *testing.T) {
	for name, since := range map[string]string{"unknown": "1-0", "malformed": "yesterday", "trimmed": ""} {
		t.Run(name, func(t *testing.T) {
			srv := redistest.Start(t)
			h := startHub(t, Config{RedisURL: srv.URL(), EventRetentionMax: 5, HTTPRate: 1000, HTTPBurst: 1000})
			waitLinked(t, h)
			d := mustDial(t, h.wsURL("/ws/driver/d1"))
			d.next(t, TypeConnected, nil)
			o := h.createOrder(t, "u1")
			seen := d.nextAnyOfType(t, TypeNewOrder).ID
			if since == "" {
				since = seen
				// Push it out of the capped log.
				for range 300 {
					h.createOrder(t, "u2")
				}
			}
			r := mustDial(t, h.wsURL("/ws/driver/d2?since="+url.QueryEscape(since)))
			hello := connectedOf(t, r.drain(t, 200*time.Millisecond))
			if hello.Recovered == nil || *hello.Recovered {
				t.Fatalf("recovered = %v for since %q", hello.Recovered, since)
			}
			if hello.OpenOrders == nil || len(*hello.OpenOrders) == 0 || (*hello.OpenOrders)[0].OrderID != o.OrderID {
				t.Fatalf("snapshot %+v", hello.OpenOrders)
			}
			if hello.LastEventID == "" {
				t.Fatal("snapshot without last_event_id")
			}
		})
	}
}

// TestRandomizedDeliveryMatchesLog runs orders, accepts, cancels and views
// through three nodes while their subscriptions are killed at random, and
// checks that every client received exactly the log filtered to it: nothing
// missing, nothing twice, nothing out of order.
func TestRandomizedDeliveryMatchesLog(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	nodes := startNodes(t, srv.URL(), 3)
	rng := rand.New(rand.NewPCG(7, 11))
	type member struct {
		role Role
		id   string
		c    *wsClient
	}
	var clients []member
	for i, h := range nodes {
		for j := range 3 {
			id := fmt.Sprintf("d%d%d", i, j)
			clients = append(clients, member{RoleDriver, id, mustDial(t, h.wsURL("/ws/driver/"+id))})
			uid := fmt.Sprintf("u%d", j)
			clients = append(clients, member{RoleUser, uid, mustDial(t, h.wsURL("/ws/user/"+uid))})
		}
	}
	var starts []string
	for _, m := range clients {
		hello := m.c.nextAnyOfType(t, TypeConnected)
		var msg ConnectedMessage
		_ = json.Unmarshal(hello.Message, &msg)
		starts = append(starts, msg.LastEventID)
	}
	var open []Order
	for step := range 120 {
		h := nodes[rng.IntN(len(nodes))]
		switch k := rng.IntN(10); {
		case k < 4 || len(open) == 0:
			open = append(open, h.createOrder(t, fmt.Sprintf("u%d", rng.IntN(3))))
		case k < 6:
			o := open[rng.IntN(len(open))]
			h.request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": fmt.Sprintf("d%d", step)}, nil)
		case k < 7:
			o := open[rng.IntN(len(open))]
			h.request(t, "POST", "/orders/"+o.OrderID+"/cancel", "", map[string]string{"user_id": o.UserID}, nil)
		case k < 9:
			m := clients[2*rng.IntN(len(clients)/2)]
			m.c.send(t, TypeViewOrder, map[string]string{"order_id": open[rng.IntN(len(open))].OrderID})
		default:
			// A gap: every subscription of every node is cut.
			if err := rdb.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, h := range nodes {
		waitLinked(t, h)
	}
	for i, m := range clients {
		got := eventIDs(m.c.drain(t, 500*time.Millisecond))
		all := logFor(t, rdb, channelOf(m.role), m.role, m.id)
		var want []string
		after, _ := ParseEventID(starts[i])
		for _, id := range all {
			if e, _ := ParseEventID(id); after.Less(e) {
				want = append(want, id)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s %s received %d events %v\nlog has %d %v", m.role, m.id, len(got), got, len(want), want)
		}
	}
}

// TestRejoinDoesNotRepeatOutageEvents is a node that served from memory
// during an outage: when it rejoins, its outage events are logged in Redis
// for the other nodes, and its own clients do not get them a second time.
func TestRejoinDoesNotRepeatOutageEvents(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.StartProxy(t, srv.Addr())
	cfg := Config{RedisTimeout: 500 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond, ProbeInterval: 200 * time.Millisecond, HTTPRate: 1000, HTTPBurst: 1000}
	cfg.NodeID, cfg.RedisURL = "a", proxy.URL()
	a := startHub(t, cfg)
	cfg.NodeID, cfg.RedisURL = "b", srv.URL()
	b := startHub(t, cfg)
	nodes := []*testHub{a, b}
	waitLinked(t, a)
	waitLinked(t, b)
	da := mustDial(t, a.wsURL("/ws/driver/da"))
	rider := mustDial(t, a.wsURL("/ws/user/u2"))
	da.next(t, TypeConnected, nil)
	rider.next(t, TypeConnected, nil)

	// A loses Redis (B keeps it), makes and accepts orders in memory.
	proxy.Cut()
	during := a.createOrder(t, "u2")
	if a.mode() != "memory" {
		t.Fatalf("mode %s during the outage", a.mode())
	}
	open := a.createOrder(t, "u2")
	da.send(t, TypeAcceptOrder, map[string]string{"order_id": during.OrderID})
	var res AcceptResultMessage
	da.next(t, TypeAcceptResult, &res)
	if !res.Accepted {
		t.Fatalf("accept in memory: %+v", res)
	}
	da.drain(t, 200*time.Millisecond)
	rider.drain(t, 200*time.Millisecond)
	proxy.Restore()
	for _, n := range nodes {
		checkFor(t, 15*time.Second, 20*time.Millisecond, func() error {
			if n.mode() != "redis" {
				return fmt.Errorf("node %s still %s", n.NodeID(), n.mode())
			}
			return nil
		})
	}
	// B learns of the outage's orders from A's rejoin, and A's own
	// clients get nothing from the outage again.
	var got Order
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if code := b.request(t, "GET", "/orders/"+open.OrderID, "", nil, &got); code != 200 {
			return fmt.Errorf("outage order on B: %d", code)
		}
		return nil
	})
	b.createOrder(t, "u2")
	for name, c := range map[string]*wsClient{"driver": da, "rider": rider} {
		for _, f := range c.drain(t, 500*time.Millisecond) {
			var m struct {
				OrderID string `json:"order_id"`
			}
			_ = json.Unmarshal(f.Message, &m)
			if f.ID != "" && (m.OrderID == during.OrderID || m.OrderID == open.OrderID) {
				t.Fatalf("%s on A got %s for %s again after the rejoin", name, f.Type, m.OrderID)
			}
		}
	}
	// The other nodes' view: the outage's events are in the log, once.
	drivers := logFor(t, srv.Client(t), ChannelDrivers, RoleDriver, "x")
	if len(drivers) < 3 {
		t.Fatalf("drivers log after the rejoin has %d events, want the outage's 3 and more", len(drivers))
	}
}

// TestResumeInMemoryMode is resume on one node without Redis: the node's own
// log serves it, with the same contract.
func TestResumeInMemoryMode(t *testing.T) {
	h := startHub(t, Config{HTTPRate: 1000, HTTPBurst: 1000})
	d := mustDial(t, h.wsURL("/ws/driver/d1"))
	d.next(t, TypeConnected, nil)
	a := h.createOrder(t, "u1")
	since := d.nextAnyOfType(t, TypeNewOrder).ID
	d.conn.CloseNow()
	b := h.createOrder(t, "u1")
	h.request(t, "POST", "/orders/"+a.OrderID+"/accept", "", map[string]string{"driver_id": "d2"}, nil)

	r := mustDial(t, h.wsURL("/ws/driver/d1?since="+url.QueryEscape(since)))
	frames := r.drain(t, 300*time.Millisecond)
	hello := connectedOf(t, frames)
	if hello.Recovered == nil || !*hello.Recovered || hello.OpenOrders != nil {
		t.Fatalf("resume in memory mode: %+v", hello)
	}
	var types []string
	for _, f := range frames[1:] {
		types = append(types, f.Type)
	}
	if fmt.Sprint(types) != "[new_order order_accepted]" || !strings.Contains(string(frames[1].Message), b.OrderID) {
		t.Fatalf("replayed %v: %+v", types, frames)
	}
}
