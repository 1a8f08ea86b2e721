package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// TestRedisRestartedEmptyLeavesEveryClientCorrect kills Redis with SIGKILL
// and starts it again empty while drivers and riders are connected to two
// nodes: every client ends with the state Redis holds (snapshots replace
// what the restart lost), events after the restart reach each client once
// and in order, and a client resuming with an id from before the restart
// gets "recovered": false and a snapshot.
func TestRedisRestartedEmptyLeavesEveryClientCorrect(t *testing.T) {
	for _, tc := range []struct {
		name string
		// noticed waits until both nodes serve from memory before Redis
		// comes back, and makes an order during the outage; otherwise
		// Redis is back before the next heartbeat.
		noticed bool
	}{
		{"after the nodes noticed", true},
		{"between heartbeats", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t)
			nodes := startNodes(t, srv.URL(), 2)
			a, b := nodes[0], nodes[1]
			ctx := context.Background()
			truth := a.cluster.failover.redis.orders

			gone := a.createOrder(t, "u0") // open, then lost with Redis
			taken := b.createOrder(t, "u1")
			b.request(t, "POST", "/orders/"+taken.OrderID+"/accept", "", map[string]string{"driver_id": "dz"}, nil)

			var feeds []*feed
			for _, f := range []struct {
				h    *testHub
				role Role
				id   string
			}{
				{a, RoleDriver, "d0"}, {a, RoleDriver, "d1"}, {b, RoleDriver, "d2"}, {b, RoleDriver, "d3"},
				{a, RoleUser, "u0"}, {b, RoleUser, "u0"}, {b, RoleUser, "u1"},
			} {
				feeds = append(feeds, openFeed(t, f.h, f.role, f.id, ""))
			}
			cancelled := a.createOrder(t, "u0")
			b.request(t, "POST", "/orders/"+cancelled.OrderID+"/cancel", "", map[string]string{"user_id": "u0"}, nil)
			waitViews(t, feeds, truth)
			for _, f := range feeds {
				if f.id != "u1" && !f.view.has(gone.OrderID) {
					t.Fatalf("%s: the order to be lost is not in its view before the restart", f)
				}
			}

			for _, f := range feeds {
				f.lastBefore = f.hello.LastEventID
				if ids := eventIDs(f.view.frames); len(ids) > 0 {
					f.lastBefore = ids[len(ids)-1]
				}
			}
			srv.Kill()
			var during Order
			if tc.noticed {
				for _, n := range nodes {
					checkFor(t, 10*time.Second, pollEvery, func() error {
						if n.mode() != "memory" {
							return fmt.Errorf("node %s still in %s mode with Redis killed", n.NodeID(), n.mode())
						}
						return nil
					})
				}
				during = a.createOrder(t, "u0")
				checkFor(t, defaultWait, pollEvery, func() error {
					for _, f := range feeds {
						if f.take(t); f.node == a.NodeID() && f.role == RoleDriver && !f.view.has(during.OrderID) {
							return fmt.Errorf("%s has not heard of the order made during the outage", f)
						}
					}
					return nil
				})
			}
			for _, f := range feeds {
				f.take(t)
				f.restart = len(f.view.frames) // frames up to here came before the restart
			}
			srv.Restart(t)
			for _, n := range nodes {
				waitLinked(t, n)
			}
			waitViews(t, feeds, truth)
			if tc.noticed {
				for _, f := range feeds {
					if f.role == RoleDriver && !f.view.has(during.OrderID) {
						t.Fatalf("%s: the order made during the outage is not open in its view", f)
					}
				}
			}

			// Events after the restart: each reaches each client once.
			x := b.createOrder(t, "u1")
			a.request(t, "POST", "/orders/"+x.OrderID+"/accept", "", map[string]string{"driver_id": "dq"}, nil)
			y := a.createOrder(t, "u0")
			b.request(t, "POST", "/orders/"+y.OrderID+"/cancel", "", map[string]string{"user_id": "u0"}, nil)
			want := map[Role]map[string][]string{
				RoleDriver: {"": {TypeNewOrder + " " + x.OrderID, TypeOrderAccepted + " " + x.OrderID, TypeNewOrder + " " + y.OrderID, TypeOrderCancelled + " " + y.OrderID}},
				RoleUser:   {"u0": {TypeOrderCancelled + " " + y.OrderID}, "u1": {TypeOrderAccepted + " " + x.OrderID}},
			}
			checkFor(t, 10*time.Second, pollEvery, func() error {
				for _, f := range feeds {
					f.take(t)
					key := f.id
					if f.role == RoleDriver {
						key = ""
					}
					for _, w := range want[f.role][key] {
						if n := f.view.count(w, f.restart); n != 1 {
							return fmt.Errorf("%s received %q %d times since the restart", f, w, n)
						}
					}
				}
				return nil
			})
			waitViews(t, feeds, truth)
			for _, f := range feeds {
				f.take(t)
				if err := f.view.eventsOnceInOrder(f.restart); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
			}

			// A client that resumes with an id from before the restart
			// gets the snapshot, which is what Redis holds now.
			for _, f := range feeds {
				if f.id != "d0" && f.id != "u1" {
					continue
				}
				r := openFeed(t, b, f.role, f.id, f.lastBefore)
				if r.hello.Recovered == nil || *r.hello.Recovered {
					t.Fatalf("%s resuming from %s across a Redis restart: recovered %v", f, f.lastBefore, r.hello.Recovered)
				}
				if err := r.view.matches(ctx, truth, r.role, r.id); err != nil {
					t.Fatalf("%s resumed across a Redis restart: %v", r, err)
				}
			}
			for _, n := range nodes {
				if st := statsOf(t, n); st.Mode != "redis" {
					t.Fatalf("node %s ends in %s mode", n.NodeID(), st.Mode)
				}
			}
		})
	}
}

// feed is one test connection with the view its frames build.
type feed struct {
	role  Role
	id    string
	node  string
	c     *wsClient
	hello connectedFrame
	view  *view
	// restart is how many frames came before Redis restarted.
	restart int
	// lastBefore is the last event id the feed saw before the restart.
	lastBefore string
}

func (f *feed) String() string { return fmt.Sprintf("%s %s on %s", f.role, f.id, f.node) }

// openFeed connects role id to h (resuming from since when not empty) and
// applies its connected frame.
func openFeed(t *testing.T, h *testHub, role Role, id, since string) *feed {
	t.Helper()
	path := "/ws/driver/" + id
	if role == RoleUser {
		path = "/ws/user/" + id
	}
	if since != "" {
		path += "?since=" + url.QueryEscape(since)
	}
	f := &feed{role: role, id: id, node: h.NodeID(), c: mustDial(t, h.wsURL(path)), view: newView(role)}
	env := f.c.nextAnyOfType(t, TypeConnected)
	if err := json.Unmarshal(env.Message, &f.hello); err != nil {
		t.Fatal(err)
	}
	f.view.apply(t, env)
	return f
}

// take applies every frame that has arrived, without waiting.
func (f *feed) take(t *testing.T) {
	t.Helper()
	for len(f.c.pending) > 0 {
		env := f.c.pending[0]
		f.c.pending = f.c.pending[1:]
		f.view.apply(t, env)
	}
	for {
		select {
		case env, ok := <-f.c.frames:
			if !ok {
				t.Fatalf("%s: connection closed: %v", f, f.c.err)
			}
			f.view.apply(t, env)
		default:
			return
		}
	}
}

// waitViews waits until every feed's view is what Redis holds.
func waitViews(t *testing.T, feeds []*feed, truth OrderStore) {
	t.Helper()
	checkFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		for _, f := range feeds {
			f.take(t)
			if err := f.view.matches(context.Background(), truth, f.role, f.id); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
		return nil
	})
}

// view is a client's idea of the orders, built from its frames as
// docs/api.md tells clients to: a driver's open orders, a rider's orders
// and their status. Snapshots replace it.
type view struct {
	role   Role
	orders map[string]string // order id → status
	frames []Envelope
}

func newView(role Role) *view { return &view{role: role, orders: map[string]string{}} }

func (v *view) has(orderID string) bool { _, ok := v.orders[orderID]; return ok }

func (v *view) replace(orders []Order) {
	v.orders = map[string]string{}
	for _, o := range orders {
		v.orders[o.OrderID] = string(o.Status)
	}
}

func (v *view) apply(t *testing.T, env Envelope) {
	t.Helper()
	v.frames = append(v.frames, env)
	var m struct {
		OrderID    string   `json:"order_id"`
		OpenOrders *[]Order `json:"open_orders"`
		Orders     *[]Order `json:"orders"`
	}
	if err := json.Unmarshal(env.Message, &m); err != nil {
		t.Fatalf("decode %s frame: %v", env.Type, err)
	}
	switch env.Type {
	case TypeConnected, TypeOpenOrders, TypeRiderOrders:
		if m.OpenOrders != nil {
			v.replace(*m.OpenOrders)
		}
		if m.Orders != nil {
			v.replace(*m.Orders)
		}
	case TypeNewOrder:
		v.orders[m.OrderID] = string(StatusOpen)
	case TypeOrderAccepted, TypeOrderCancelled:
		if v.role == RoleDriver {
			delete(v.orders, m.OrderID)
			return
		}
		v.orders[m.OrderID] = map[string]string{TypeOrderAccepted: string(StatusAccepted), TypeOrderCancelled: string(StatusCancelled)}[env.Type]
	}
}

// matches compares the view with the store: a driver's with every open
// order, a rider's with its recent orders, except open ones it never heard
// of on its feed.
func (v *view) matches(ctx context.Context, store OrderStore, role Role, id string) error {
	var orders []Order
	var err error
	if role == RoleDriver {
		orders, err = store.Open(ctx)
	} else {
		orders, _, err = store.ByUser(ctx, id, riderOrdersLimit, "")
	}
	if err != nil {
		return fmt.Errorf("read the truth: %w", err)
	}
	want := newView(role)
	want.replace(orders)
	if role == RoleUser {
		// A rider learns of the orders it makes from POST /orders, not
		// from its feed: an open order may be missing from its view.
		for id, status := range want.orders {
			if _, ok := v.orders[id]; !ok && status == string(StatusOpen) {
				delete(want.orders, id)
			}
		}
	}
	if !maps.Equal(v.orders, want.orders) {
		return fmt.Errorf("view %v, store %v", sortedPairs(v.orders), sortedPairs(want.orders))
	}
	return nil
}

func sortedPairs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// count returns how many event frames "type order_id" arrived from frame
// index from on.
func (v *view) count(what string, from int) int {
	n := 0
	for _, env := range v.frames[from:] {
		var m struct {
			OrderID string `json:"order_id"`
		}
		_ = json.Unmarshal(env.Message, &m)
		if env.ID != "" && env.Type+" "+m.OrderID == what {
			n++
		}
	}
	return n
}

// eventsOnceInOrder checks the event frames from index from on: no event
// twice, and ids increasing after the last snapshot (ids before it may
// belong to the log Redis lost).
func (v *view) eventsOnceInOrder(from int) error {
	seen := map[string]bool{}
	var last EventID
	for _, env := range v.frames[from:] {
		switch {
		case env.Type == TypeOpenOrders || env.Type == TypeRiderOrders:
			last = EventID{}
		case env.ID != "":
			key := env.Type + string(env.Message)
			if seen[key] {
				return fmt.Errorf("event %s %s delivered twice", env.Type, env.Message)
			}
			seen[key] = true
			id, err := ParseEventID(env.ID)
			if err != nil {
				return err
			}
			if !last.Less(id) {
				return fmt.Errorf("event %s after %s", id, last)
			}
			last = id
		}
	}
	return nil
}

// reply is an HTTP answer as a test goroutine sees it.
type reply struct {
	status     int
	retryAfter string
	body       []byte
	took       time.Duration
}

// errorCode returns the error code of an error reply.
func (r reply) errorCode() string {
	var e errorBody
	_ = json.Unmarshal(r.body, &e)
	return e.Error
}

// call is testHub.request for goroutines other than the test's own: it
// returns what went wrong instead of failing the test.
func call(h *testHub, method, path string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		return reply{}, err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return reply{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: raw, took: time.Since(start)}, nil
}

// tryRequest is call that decodes a JSON answer into out, when not nil.
func tryRequest(h *testHub, method, path string, body, out any) (int, error) {
	r, err := call(h, method, path, body)
	if err != nil {
		return 0, err
	}
	if out != nil && r.status < 300 {
		if err := json.Unmarshal(r.body, out); err != nil {
			return r.status, fmt.Errorf("%s %s: decode %q: %w", method, path, r.body, err)
		}
	}
	return r.status, nil
}

func statsOf(t testing.TB, h *testHub) Stats {
	t.Helper()
	var st Stats
	if code := h.request(t, "GET", "/ws/stats", "", nil, &st); code != http.StatusOK {
		t.Fatalf("stats: %d", code)
	}
	return st
}

// untilClosed returns every frame c receives until its connection ends,
// and the close code the server sent (-1 for none).
func (c *wsClient) untilClosed(t testing.TB) ([]Envelope, websocket.StatusCode) {
	t.Helper()
	out := c.pending
	c.pending = nil
	limit := time.NewTimer(defaultWait)
	defer limit.Stop()
	for {
		select {
		case env, ok := <-c.frames:
			if !ok {
				return out, websocket.CloseStatus(c.err)
			}
			out = append(out, env)
		case <-limit.C:
			t.Fatalf("connection not closed within %v", defaultWait)
		}
	}
}

// idsAfter returns the ids of all that come after since.
func idsAfter(t *testing.T, all []string, since string) []string {
	t.Helper()
	from, err := ParseEventID(since)
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(slices.Clone(all), func(id string) bool {
		e, err := ParseEventID(id)
		return err != nil || !from.Less(e)
	})
}
