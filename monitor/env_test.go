package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taxi-hub/taxi/contract"
	"github.com/taxi-hub/taxi/internal/eventually"
	"github.com/taxi-hub/taxi/internal/hubtest"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// testEnv is a small live cluster: a real redis-server, one real hub "n1"
// with three drivers and a rider, a node "n2" whose heartbeat is fresh but
// whose process is gone (its stats port refuses connections), a stuck lock
// and a live one, and two orders being viewed.
type testEnv struct {
	redis   *redistest.Server
	rdb     *redis.Client
	hub     *hubtest.Hub
	deadURL string // n2's stats URL: nothing listens there
	drivers []*hubtest.Client
	rider   *hubtest.Client
	orders  int
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	rs := redistest.Start(t)
	e := &testEnv{redis: rs, rdb: rs.Client(t)}
	e.hub = hubtest.Start(t, hubtest.Redis(rs.URL()), hubtest.NodeID("n1"))
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		e.drivers = append(e.drivers, e.hub.Feed(t, contract.RoleDriver, fmt.Sprintf("d%d", i)))
	}
	e.rider = e.hub.Feed(t, contract.RoleUser, "u1")
	eventually.Check(t, 10*time.Second, func() error {
		d, _ := e.rdb.SCard(ctx, contract.KeyActiveDrivers).Result()
		u, _ := e.rdb.SCard(ctx, contract.KeyActiveUsers).Result()
		if d != 3 || u != 1 {
			return fmt.Errorf("presence: %d drivers, %d users", d, u)
		}
		return nil
	})

	e.deadURL = "http://" + hubtest.DeadAddr(t) + "/ws/stats"
	hb, _ := json.Marshal(contract.NodeHeartbeat{
		NodeID: "n2", StatsURL: e.deadURL, Version: "dev", Mode: "redis",
		Hostname: "gone", PID: 2, StartedAt: time.Now(), UpdatedAt: time.Now(), Drivers: 4,
	})
	seed := []func(p redis.Pipeliner){
		func(p redis.Pipeliner) { p.Set(ctx, contract.NodeKey("n2"), hb, time.Hour) },
		func(p redis.Pipeliner) { p.SAdd(ctx, contract.KeyNodes, "n2") },
		func(p redis.Pipeliner) { p.Set(ctx, "order_lock:ord-1001", "d7", 0) },
		func(p redis.Pipeliner) { p.Set(ctx, "order_lock:ord-1002", "d2", time.Hour) },
		func(p redis.Pipeliner) { p.SAdd(ctx, "order_viewers:ord-1001", "d1", "d2", "d3") },
		func(p redis.Pipeliner) { p.SAdd(ctx, "order_viewers:ord-1002", "d2") },
		func(p redis.Pipeliner) {
			p.HSet(ctx, "order:ord-1001", "status", "open", "user_id", "u1", "driver_id", "")
		},
		func(p redis.Pipeliner) {
			p.HSet(ctx, "order:ord-1002", "status", "accepted", "user_id", "u2", "driver_id", "d2")
		},
		func(p redis.Pipeliner) { p.ZAdd(ctx, contract.KeyRidingOrders, redis.Z{Score: 1, Member: "ord-1002"}) },
		func(p redis.Pipeliner) {
			now := float64(time.Now().UnixMilli())
			p.ZAdd(ctx, contract.KeyDriverLocationTimes, redis.Z{Score: now, Member: "d1"}, redis.Z{Score: now, Member: "d2"})
		},
	}
	if _, err := e.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, s := range seed {
			s(p)
		}
		return nil
	}); err != nil {
		t.Fatalf("seed redis: %v", err)
	}
	e.settle(t)
	return e
}

// createOrder creates an order on the hub and waits until every driver has
// it and the hub's counters agree with what the clients received, so a
// snapshot taken next is the same on every run.
func (e *testEnv) createOrder(t testing.TB) {
	t.Helper()
	e.hub.CreateOrder(t, "u1")
	e.orders++
	e.settle(t)
}

func (e *testEnv) settle(t testing.TB) {
	t.Helper()
	eventually.Check(t, 10*time.Second, func() error {
		received := 0
		for i, d := range e.drivers {
			n, total := d.Count(contract.TypeNewOrder)
			if n != e.orders {
				return fmt.Errorf("driver %d has %d new_order frames, want %d", i+1, n, e.orders)
			}
			received += total
		}
		_, total := e.rider.Count("")
		received += total
		st := e.hub.Stats(t)
		if st.Counters.FramesSent != int64(received) || st.Counters.OrdersCreated != int64(e.orders) {
			return fmt.Errorf("hub counted %d frames and %d orders; clients received %d frames",
				st.Counters.FramesSent, st.Counters.OrdersCreated, received)
		}
		return nil
	})
}

// collector returns a collector over the environment, closed at cleanup.
func (e *testEnv) collector(t testing.TB, opts Options) *collector {
	t.Helper()
	if opts.RedisURL == "" && !opts.NoRedis {
		opts.RedisURL = e.redis.URL()
	}
	c, err := newCollector(opts.withDefaults())
	if err != nil {
		t.Fatalf("new collector: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close collector: %v", err)
		}
	})
	return c
}

// stableSource wraps a real collector and replaces what changes from run
// to run — times, ports, memory, latencies, TTLs — with fixed values, so
// that screens fed by a live cluster can be compared with golden files.
// Counts, ids, states, errors and counters stay as read.
type stableSource struct {
	src  source
	mask *strings.Replacer
	n    int
}

var stableEpoch = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

func (e *testEnv) stable(src source) *stableSource {
	return &stableSource{src: src, mask: strings.NewReplacer(
		strings.TrimPrefix(e.hub.URL, "http://"), "hub-n1:8080",
		strings.TrimSuffix(strings.TrimPrefix(e.deadURL, "http://"), "/ws/stats"), "hub-n2:8080",
		e.redis.Addr(), "redis:6379",
	)}
}

func (s *stableSource) Collect(ctx context.Context) Snapshot {
	snap := s.src.Collect(ctx)
	s.n++
	snap.Time = stableEpoch.Add(time.Duration(s.n) * time.Second)
	if r := snap.Redis; r != nil {
		r.URL, r.Error = s.mask.Replace(r.URL), s.mask.Replace(r.Error)
		if r.Error == "" {
			r.LatencyMs = 0.25
			r.Server = ServerInfo{Version: "7.2.4", UsedMemoryBytes: 1_468_006, ConnectedClients: 9, OpsPerSec: 57, Masters: 1}
		}
		for i, l := range r.Locks.Items {
			if !l.Stale() {
				r.Locks.Items[i].TTL = 3200 * time.Millisecond
			}
		}
	}
	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		n.StatsURL, n.Error = s.mask.Replace(n.StatsURL), s.mask.Replace(n.Error)
		if n.Heartbeat != nil {
			hb := *n.Heartbeat
			hb.StatsURL = s.mask.Replace(hb.StatsURL)
			hb.Hostname, hb.PID, hb.StartedAt, hb.UpdatedAt = "host-"+hb.NodeID, 4242, stableEpoch.Add(-time.Hour), snap.Time
			n.Heartbeat = &hb
		}
		if n.Stats != nil {
			st := *n.Stats
			st.StartedAt, st.UptimeSeconds = stableEpoch.Add(-time.Hour), 3723+float64(s.n)
			st.RSSBytes, st.HeapBytes, st.Goroutines = 25_165_824, 8_388_608, 42
			st.CPUSeconds, st.CPUUserSeconds, st.CPUSystemSeconds = 1.5, 1.0, 0.5
			if st.Redis != nil {
				rs := *st.Redis
				if rs.Status == "degraded" {
					// Which error the node met last depends on when it
					// last retried.
					rs.DegradedSince, rs.DegradedSeconds, rs.LastError = snap.Time.Add(-12*time.Second), 12, "<last error>"
				}
				st.Redis = &rs
			}
			n.Stats = &st
		}
	}
	return snap
}
