package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/contract"
	"github.com/taxi-hub/taxi/internal/hubtest"
	"github.com/taxi-hub/taxi/internal/redistest"
)

func nodeByID(t *testing.T, s Snapshot, id string) Node {
	t.Helper()
	for _, n := range s.Nodes {
		if n.NodeID == id {
			return n
		}
	}
	t.Fatalf("node %s not in snapshot: %+v", id, s.Nodes)
	return Node{}
}

func TestCollectorReadsRedisAndNodes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createOrder(t)
	snap := e.collector(t, Options{}).Collect(context.Background())

	r := snap.Redis
	if r == nil || r.Error != "" || len(r.Warnings) > 0 {
		t.Fatalf("redis part: %+v", r)
	}
	if r.ActiveDrivers != 3 || r.ActiveUsers != 1 || snap.DriversOnline() != 3 {
		t.Errorf("presence: %d drivers, %d users; want 3 and 1", r.ActiveDrivers, r.ActiveUsers)
	}
	for _, c := range r.Channels {
		if c.Subscribers != 1 {
			t.Errorf("channel %s has %d subscribers, want the hub's 1", c.Name, c.Subscribers)
		}
	}
	if r.Server.Version == "" || r.Server.UsedMemoryBytes == 0 || r.Server.ConnectedClients == 0 || r.Server.Masters != 1 {
		t.Errorf("INFO not read: %+v", r.Server)
	}
	if r.LatencyMs <= 0 {
		t.Errorf("latency %v, want a measured round trip", r.LatencyMs)
	}
	if l := r.Locks; l.Total != 2 || l.Stale != 1 || len(l.Items) != 2 || !l.Items[0].Stale() || l.Items[0].OrderID != "ord-1001" || l.Items[0].Owner != "d7" {
		t.Errorf("locks: %+v; want ord-1001 (stale, d7) first of 2", l)
	}
	want := []ViewedOrder{
		{OrderID: "ord-1001", Viewers: 3, Status: "open", UserID: "u1", LockOwner: "d7"},
		{OrderID: "ord-1002", Viewers: 1, Status: "accepted", UserID: "u2", DriverID: "d2", LockOwner: "d2"},
	}
	if v := r.Viewed; v.Orders != 2 || v.Viewers != 4 || len(v.Top) != 2 || v.Top[0] != want[0] || v.Top[1] != want[1] {
		t.Errorf("viewed: %+v\nwant top %+v", v, want)
	}

	n1 := nodeByID(t, snap, "n1")
	if !n1.Up || n1.Stats == nil || n1.Heartbeat == nil || n1.Mode() != "redis" || n1.StatsURL != e.hub.URL+"/ws/stats" {
		t.Errorf("n1: %+v", n1)
	}
	if d, u := n1.Conns(); d != 3 || u != 1 || n1.Stats.Counters.OrdersCreated != 1 {
		t.Errorf("n1 stats: %d drivers, %d users, counters %+v", d, u, n1.Stats.Counters)
	}
	n2 := nodeByID(t, snap, "n2")
	if n2.Up || n2.Stats != nil || !strings.Contains(n2.Error, "connection refused") {
		t.Errorf("n2 (heartbeat but no process) should be down with the dial error: %+v", n2)
	}
	if snap.NodesUp() != 1 {
		t.Errorf("%d nodes up, want 1", snap.NodesUp())
	}
}

func TestCollectorNodeWithoutHeartbeatIsDown(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	// No hub runs here, so nobody reaps the entry: a node listed in
	// taxi:nodes whose heartbeat expired.
	if err := rdb.SAdd(context.Background(), contract.KeyNodes, "ghost").Err(); err != nil {
		t.Fatal(err)
	}
	c, err := newCollector(Options{RedisURL: rs.URL()}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	snap := c.Collect(context.Background())
	n := nodeByID(t, snap, "ghost")
	if n.Up || !strings.Contains(n.Error, "no heartbeat") {
		t.Fatalf("ghost: %+v, want down for want of a heartbeat", n)
	}
}

func TestCollectorWithoutRedis(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	// Base URLs are accepted as well as /ws/stats ones.
	c := e.collector(t, Options{NoRedis: true, StatsURLs: []string{e.hub.URL, e.deadURL}})
	snap := c.Collect(context.Background())
	if snap.Redis != nil {
		t.Fatalf("redis read with NoRedis: %+v", snap.Redis)
	}
	if len(snap.Nodes) != 2 {
		t.Fatalf("nodes %+v, want n1 and the dead URL", snap.Nodes)
	}
	n1 := nodeByID(t, snap, "n1")
	if !n1.Up || n1.Stats == nil || n1.Heartbeat != nil {
		t.Errorf("n1 from its stats URL: %+v", n1)
	}
	dead := strings.TrimSuffix(strings.TrimPrefix(e.deadURL, "http://"), "/ws/stats")
	if n := nodeByID(t, snap, dead); n.Up || n.Error == "" {
		t.Errorf("dead URL should be a down node named by its address: %+v", n)
	}
	if snap.DriversOnline() != 3 {
		t.Errorf("drivers online %d, want the nodes' sum 3", snap.DriversOnline())
	}
}

// TestCollectorRedisDown: Redis stops answering; the snapshot says so
// within the timeouts and the nodes seen before are still read.
func TestCollectorRedisDown(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.collector(t, Options{Timeout: 300 * time.Millisecond})
	if snap := c.Collect(context.Background()); !snap.RedisOK() || !nodeByID(t, snap, "n1").Up {
		t.Fatalf("before the outage: %+v", snap)
	}
	e.redis.Kill()

	start := time.Now()
	snap := c.Collect(context.Background())
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("collect took %v with Redis down, want it bounded by the timeouts", took)
	}
	if snap.Redis == nil || snap.Redis.Error == "" || snap.RedisOK() {
		t.Fatalf("redis down not reported: %+v", snap.Redis)
	}
	n1 := nodeByID(t, snap, "n1")
	if !n1.Up || n1.Stats == nil {
		t.Errorf("n1 still serves and should still be read: %+v", n1)
	}
	if snap.DriversOnline() != 3 {
		t.Errorf("drivers online %d from the nodes, want 3", snap.DriversOnline())
	}
}

func TestRunOnceJSON(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	var out bytes.Buffer
	err := runOnce(context.Background(), e.collector(t, Options{}), &out, true)
	if err != nil {
		t.Fatalf("once: %v", err)
	}
	var doc struct {
		Redis struct {
			ActiveDrivers int64 `json:"active_drivers"`
			Locks         struct {
				Stale int `json:"stale"`
				Items []struct {
					OrderID string `json:"order_id"`
					TTLMs   int64  `json:"ttl_ms"`
				} `json:"items"`
			} `json:"locks"`
		} `json:"redis"`
		Nodes []struct {
			NodeID string `json:"node_id"`
			Up     bool   `json:"up"`
			Stats  *struct {
				Connections struct {
					Drivers int64 `json:"drivers"`
				} `json:"connections"`
			} `json:"stats"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if doc.Redis.ActiveDrivers != 3 || doc.Redis.Locks.Stale != 1 || doc.Redis.Locks.Items[0].TTLMs != -1 {
		t.Errorf("redis fields: %+v", doc.Redis)
	}
	if len(doc.Nodes) != 2 || doc.Nodes[0].NodeID != "n1" || !doc.Nodes[0].Up || doc.Nodes[0].Stats.Connections.Drivers != 3 || doc.Nodes[1].Up {
		t.Errorf("nodes: %+v", doc.Nodes)
	}
}

func TestRunOnceText(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	var out bytes.Buffer
	if err := runOnce(context.Background(), e.collector(t, Options{}), &out, false); err != nil {
		t.Fatalf("once: %v", err)
	}
	text := out.String()
	for _, want := range []string{
		"drivers online  3", "nodes           1 up of 2", "locks           2, 1 without expiry",
		"n1    redis  up", "n2    redis  DOWN", "connection refused",
		"ord-1001  d7", "NO EXPIRY", "stuck: never expires — taxi lock clear ord-1001 --owner d7", "ord-1001  3        open",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}

func TestRunOnceRedisUnreachable(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := Run(context.Background(), Options{RedisURL: "redis://" + hubtest.DeadAddr(t) + "/0", Once: true, Out: &out, Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err %v, want ErrUnreachable", err)
	}
	if !strings.Contains(out.String(), "UNREACHABLE") {
		t.Errorf("the snapshot should still be printed:\n%s", out.String())
	}

	// JSON has empty lists, not nulls, for scripts to iterate.
	out.Reset()
	err = Run(context.Background(), Options{RedisURL: "redis://" + hubtest.DeadAddr(t) + "/0", Once: true, JSON: true, Out: &out, Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err %v, want ErrUnreachable", err)
	}
	for _, want := range []string{`"nodes": []`, `"channels": []`, `"items": []`, `"top": []`, `"error": "ping: dial tcp`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("JSON lacks %s:\n%s", want, out.String())
		}
	}
}

// With Redis unreachable and no node named, the monitor finds a local
// memory-mode hub (as make run starts one) at LocalHubURL and shows it;
// Redis is then no part of what it watches, so --once succeeds.
func TestRunOnceFindsLocalMemoryHub(t *testing.T) {
	t.Parallel()
	hub := hubtest.Start(t, hubtest.NodeID("local-hub"))
	var out bytes.Buffer
	opts := Options{RedisURL: "redis://" + hubtest.DeadAddr(t) + "/0", LocalHubURL: hub.URL, Once: true, JSON: true, Out: &out, Timeout: 300 * time.Millisecond}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	var snap Snapshot
	if err := json.Unmarshal(out.Bytes(), &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Nodes) != 1 || snap.Nodes[0].NodeID != "local-hub" || !snap.Nodes[0].Up || snap.Nodes[0].Mode() != "memory" || snap.RedisOK() {
		t.Fatalf("snapshot:\n%s", out.String())
	}

	// Nothing there: no node is made up, and Redis being down is the news.
	out.Reset()
	opts.LocalHubURL = "http://" + hubtest.DeadAddr(t)
	if err := Run(context.Background(), opts); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err %v, want ErrUnreachable", err)
	}
	if !strings.Contains(out.String(), `"nodes": []`) {
		t.Errorf("a hub that does not answer is listed:\n%s", out.String())
	}
}

// A node named otherwise keeps the monitor from looking for a local hub.
func TestLocalHubOnlyWhenNothingElse(t *testing.T) {
	t.Parallel()
	local := hubtest.Start(t, hubtest.NodeID("local-hub"))
	named := hubtest.Start(t, hubtest.NodeID("named"))
	var out bytes.Buffer
	opts := Options{RedisURL: "redis://" + hubtest.DeadAddr(t) + "/0", StatsURLs: []string{named.URL}, LocalHubURL: local.URL,
		Once: true, JSON: true, Out: &out, Timeout: 300 * time.Millisecond}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if strings.Contains(out.String(), "local-hub") || !strings.Contains(out.String(), `"node_id": "named"`) {
		t.Fatalf("snapshot:\n%s", out.String())
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"json without once", Options{RedisURL: "redis://x:1", JSON: true}},
		{"no redis, no stats", Options{NoRedis: true}},
		{"no redis url", Options{RedisURL: " "}},
		{"interval too short", Options{RedisURL: "redis://x:1", Interval: time.Millisecond}},
		{"bad stats url", Options{RedisURL: "redis://x:1", StatsURLs: []string{"n1:8080"}}},
		{"bad redis url", Options{RedisURL: "mysql://x"}},
		{"bad local hub url", Options{RedisURL: "redis://x:1", LocalHubURL: "127.0.0.1:8080"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(context.Background(), tc.opts)
			if !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("Run(%+v) = %v, want ErrInvalidOptions", tc.opts, err)
			}
		})
	}
}

func TestOptionsDefaultTimeout(t *testing.T) {
	t.Parallel()
	for interval, want := range map[time.Duration]time.Duration{
		0:                      time.Second, // the default interval, 2s
		500 * time.Millisecond: time.Second,
		6 * time.Second:        3 * time.Second,
		time.Minute:            5 * time.Second,
	} {
		if got := (Options{Interval: interval}).withDefaults().Timeout; got != want {
			t.Errorf("interval %v: timeout %v, want %v", interval, got, want)
		}
	}
	if got := (Options{Interval: time.Minute, Timeout: 200 * time.Millisecond}).withDefaults().Timeout; got != 200*time.Millisecond {
		t.Errorf("a given timeout was replaced: %v", got)
	}
}

func TestStatsURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://h:8080":             "http://h:8080/ws/stats",
		"http://h:8080/":            "http://h:8080/ws/stats",
		"https://h/ws/stats":        "https://h/ws/stats",
		"http://h:8080/taxi":        "http://h:8080/taxi/ws/stats",
		" http://h:8080/ws/stats  ": "http://h:8080/ws/stats",
	} {
		if got, err := statsURL(in); err != nil || got != want {
			t.Errorf("statsURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestCollectorOnCluster: on a 3-master Redis Cluster the keyspace walks
// and INFO cover every master, and subscribers are counted with sharded
// Pub/Sub.
func TestCollectorOnCluster(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t)
	rdb := cl.Client(t)
	ctx := context.Background()
	// Enough keys that every master holds some.
	for i := range 30 {
		id := fmt.Sprintf("ord-%d", i)
		ttl := time.Hour
		if i%10 == 0 {
			ttl = 0
		}
		if err := rdb.Set(ctx, "order_lock:"+id, "d1", ttl).Err(); err != nil {
			t.Fatal(err)
		}
		if err := rdb.SAdd(ctx, "order_viewers:"+id, "d1", "d2").Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.SAdd(ctx, contract.KeyActiveDrivers, "d1", "d2").Err(); err != nil {
		t.Fatal(err)
	}
	c, err := newCollector(Options{RedisURL: cl.URL()}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	snap := c.Collect(ctx)
	r := snap.Redis
	if !snap.RedisOK() || len(r.Warnings) > 0 {
		t.Fatalf("cluster read: %+v", r)
	}
	if r.Server.Masters != 3 || r.ActiveDrivers != 2 {
		t.Errorf("INFO over %d masters, %d drivers; want 3 and 2", r.Server.Masters, r.ActiveDrivers)
	}
	if r.Locks.Total != 30 || r.Locks.Stale != 3 {
		t.Errorf("locks %d (%d stale), want 30 (3)", r.Locks.Total, r.Locks.Stale)
	}
	if r.Viewed.Orders != 30 || r.Viewed.Viewers != 60 || len(r.Viewed.Top) != 30 || r.Viewed.Top[0].LockOwner != "d1" {
		t.Errorf("viewed: %d orders, %d viewers, top %d", r.Viewed.Orders, r.Viewed.Viewers, len(r.Viewed.Top))
	}
	if len(r.Channels) != 2 {
		t.Errorf("channels: %+v", r.Channels)
	}
}

// TestCollectorFollowsNodesLeaving: a node that leaves the registry and no
// longer answers is dropped; one that answers stays, listed or not (Redis
// lost its data, say, and the node has not beaten yet).
func TestCollectorFollowsNodesLeaving(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.collector(t, Options{})
	ctx := context.Background()
	if snap := c.Collect(ctx); len(snap.Nodes) != 2 {
		t.Fatalf("nodes %+v, want n1 and n2", snap.Nodes)
	}
	// What a graceful shutdown of n2 and a wiped registry look like.
	if err := e.rdb.Del(ctx, contract.NodeKey("n2"), contract.NodeKey("n1"), contract.KeyNodes).Err(); err != nil {
		t.Fatal(err)
	}
	snap := c.Collect(ctx)
	if n := nodeByID(t, snap, "n1"); !n.Up || n.Stats == nil {
		t.Errorf("n1 still answers and should still be shown up: %+v", n)
	}
	for _, n := range snap.Nodes {
		if n.NodeID == "n2" {
			t.Errorf("n2 left the registry and does not answer; still shown: %+v", n)
		}
	}
}
