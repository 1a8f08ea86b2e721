package loadtest

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/redistest"
	"github.com/taxi-hub/taxi/server"
)

// These tests run bench against the real hub, in process: one node in
// memory mode, and two nodes sharing a real redis-server.

const testSecret = "a-test-secret-of-32-bytes-length"

// startNode serves one hub node on a loopback port until the test ends.
func startNode(t *testing.T, cfg server.Config) string {
	t.Helper()
	url, _ := startStoppableNode(t, cfg)
	return url
}

// startStoppableNode is startNode that also returns a function that stops
// the node at once, as SIGTERM does: its clients are closed with 1001 and
// its port stops answering.
func startStoppableNode(t *testing.T, cfg server.Config) (string, func()) {
	t.Helper()
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("new hub: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start hub: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	stop := sync.OnceFunc(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown hub: %v", err)
		}
		ts.Close()
		cancel()
	})
	t.Cleanup(stop)
	return ts.URL, stop
}

// checkExact asserts that nothing was lost and every count adds up.
func checkExact(t *testing.T, r *Report, drivers int64) {
	t.Helper()
	d := r.Deliveries
	measured := r.Orders.Created - r.Orders.Warm
	if r.Orders.Failed != 0 || measured == 0 {
		t.Fatalf("orders %+v, errors %v: want all created", r.Orders, r.Errors)
	}
	if r.Connections.DriversAtStart != drivers || d.Expected != measured*drivers ||
		d.Received != d.Expected || d.Lost != 0 || d.Duplicated != 0 {
		t.Fatalf("deliveries %+v with %d drivers: want every one received once (errors %v)", d, r.Connections.DriversAtStart, r.Errors)
	}
	if d.Warm != r.Orders.Warm*drivers {
		t.Errorf("warm deliveries %d, want %d", d.Warm, r.Orders.Warm*drivers)
	}
	if len(r.Errors) != 0 {
		t.Errorf("errors %v", r.Errors)
	}
	checkEvents(t, r)
	if r.Events.Received < d.Received+d.Warm {
		t.Errorf("events received %d, want at least the %d new_order frames", r.Events.Received, d.Received+d.Warm)
	}
	if r.Orders.LeftOpen != 0 {
		t.Errorf("%d orders left open", r.Orders.LeftOpen)
	}
}

func TestHubMemoryFanout(t *testing.T) {
	url := startNode(t, server.Config{NodeID: "n1", AuthSecret: testSecret})
	o := quick(url)
	o.AuthSecret = testSecret
	r := runBench(t, t.Context(), o)
	checkExact(t, r, 20)
	tr := r.Server.Targets[0]
	if tr.NodeID != "n1" || tr.Mode != "memory" || tr.After == nil || r.Server.ConnectionsGained != 23 {
		t.Errorf("server report %+v, gained %d: want n1 in memory mode with 23 new connections", tr, r.Server.ConnectionsGained)
	}
	if r.Server.CPUSeconds <= 0 || r.Server.CPUPerDeliveryUS <= 0 {
		t.Errorf("server CPU %g s, %g µs per delivery: want both measured", r.Server.CPUSeconds, r.Server.CPUPerDeliveryUS)
	}
}

func TestHubMemoryAccept(t *testing.T) {
	url := startNode(t, server.Config{NodeID: "n1", Insecure: true})
	o := quick(url)
	o.Scenario, o.Racers, o.RaceVia = Accept, 4, RaceBoth
	r := runBench(t, t.Context(), o)
	checkExact(t, r, 20)
	a := r.Accepts
	if a.BadCount != 0 || a.OneWinner != r.Orders.Created || a.Attempts != 4*a.Orders {
		t.Fatalf("accepts %+v: want one winner among 4 answered racers for each of %d orders", a, r.Orders.Created)
	}
}

func TestHubMemoryWrongSecret(t *testing.T) {
	url := startNode(t, server.Config{NodeID: "n1", AuthSecret: testSecret})
	o := quick(url)
	o.AuthSecret = "another-secret-of-32-bytes-long!"
	o.Drivers, o.Users, o.Duration, o.WarmUp = 3, 1, 100*time.Millisecond, -1
	r := runBench(t, t.Context(), o)
	if r.Connections.Failed != 4 || r.Connections.FailuresBy["http_401"] != 4 {
		t.Fatalf("connections %+v: want 4 dials refused with 401", r.Connections)
	}
	if r.Errors["http_401"] < r.Orders.Sent+4 {
		t.Errorf("errors %v: want the order calls refused with 401 too", r.Errors)
	}
}

func TestHubTwoNodesOnRedis(t *testing.T) {
	rds := redistest.Start(t)
	urls := []string{
		startNode(t, server.Config{NodeID: "n1", Insecure: true, RedisURL: rds.URL()}),
		startNode(t, server.Config{NodeID: "n2", Insecure: true, RedisURL: rds.URL()}),
	}
	o := quick(urls...)
	o.Scenario, o.Racers, o.RaceVia = Accept, 4, RaceBoth
	r := runBench(t, t.Context(), o)
	checkExact(t, r, 20)
	if a := r.Accepts; a.BadCount != 0 || a.OneWinner != r.Orders.Created {
		t.Fatalf("accepts %+v: want exactly one winner per order across both nodes", a)
	}
	for i, tr := range r.Server.Targets {
		if tr.Mode != "redis" || tr.Ramped == nil || tr.Ramped.Connections.Drivers != 10 {
			t.Errorf("target %d: %+v; want redis mode with 10 of the 20 drivers", i, tr)
		}
	}
}

// A node shut down mid-run (SIGTERM closes its feeds with 1001): its clients
// reconnect to the other node with ?since= and get what they missed from the
// event log; every client still has every event once, in order.
func TestHubNodeShutdownResume(t *testing.T) {
	rds := redistest.Start(t)
	first := startNode(t, server.Config{NodeID: "n1", Insecure: true, RedisURL: rds.URL()})
	second, stop := startStoppableNode(t, server.Config{NodeID: "n2", Insecure: true, RedisURL: rds.URL()})
	o := quick(first, second)
	o.Duration = time.Second
	r := runBenchWatching(t, o, once(12, stop))
	checkEvents(t, r)
	// Drivers 1, 3, ... 19 and rider 1 were on n2. The drivers resume
	// from the last event they saw; the rider, owed no event in a fan-out
	// run and greeted before any rider event was logged, has no id to
	// resume from and gets its snapshot.
	rc := r.Reconnects
	if rc.Reconnected != 11 || rc.Recovered != 10 || rc.Snapshot != 1 || rc.GaveUp != 0 || r.Connections.Dropped != 11 {
		t.Fatalf("reconnects %+v, %d dropped: want the 11 clients of n2 back, the drivers recovered (errors %v)", rc, r.Connections.Dropped, r.Errors)
	}
	if d := r.Deliveries; d.Lost != 0 || d.Duplicated != 0 || d.Received != d.Expected {
		t.Errorf("deliveries %+v: want every one received once", d)
	}
}

// Redis killed mid-run and restarted empty: nodes serve from memory, then
// rejoin a Redis without the event log, and repair their clients with
// snapshots. Every driver still has every order once, as an event or in a
// snapshot, and ids stay in order.
func TestHubRedisRestart(t *testing.T) {
	rds := redistest.Start(t)
	urls := []string{
		startNode(t, server.Config{NodeID: "n1", Insecure: true, RedisURL: rds.URL()}),
		startNode(t, server.Config{NodeID: "n2", Insecure: true, RedisURL: rds.URL()}),
	}
	o := quick(urls...)
	o.Duration, o.Drain = 1500*time.Millisecond, 10*time.Second
	killed, restarted := once(12, rds.Kill), once(28, func() { rds.Restart(t) })
	r := runBenchWatching(t, o, func(p Progress) {
		killed(p)
		restarted(p)
	})
	checkEvents(t, r)
	if r.Server.Outages == 0 {
		t.Errorf("outages %d: the nodes did not notice Redis go", r.Server.Outages)
	}
	if r.Orders.Failed != 0 {
		t.Errorf("orders %+v: want every one created (in memory during the outage)", r.Orders)
	}
}

// 200 drivers connect at once to a Redis-mode node holding 300 open orders:
// every one is greeted with all 300 (after retries if the node asks for
// them), and the node does not mistake the storm for an outage.
func TestHubStorm(t *testing.T) {
	rds := redistest.Start(t)
	url := startNode(t, server.Config{NodeID: "n1", Insecure: true, RedisURL: rds.URL()})
	o := stormOptions(url)
	o.Drivers, o.Orders, o.Rate, o.Duration, o.Timeout = 200, 300, 1000, 30*time.Second, 10*time.Second
	r := runBench(t, t.Context(), o)
	st := r.Storm
	if st.Orders != 300 || st.OpenOrders != 300 || st.Greeted != 200 || st.Wrong != 0 || st.NotGreeted != 0 {
		t.Fatalf("storm %+v (notes %v): want 200 drivers greeted with the 300 open orders", st, r.Notes)
	}
	var failed int64
	for _, n := range st.FailuresBy {
		failed += n
	}
	if st.AllGreetedMS <= 0 || st.Latency.Count != 200 || st.Attempts != 200+failed || st.Closed1013 > failed {
		t.Errorf("storm %+v: want every greeting timed, one dial each plus one per failure", st)
	}
	if st.Outages != 0 || r.Server.Outages != 0 {
		t.Errorf("outages %d: a connect storm is not an outage", st.Outages)
	}
	if tr := r.Server.Targets[0]; tr.Ramped == nil || tr.Ramped.Connections.Drivers != 200 {
		t.Errorf("target after the storm %+v: want 200 drivers connected", tr.Ramped)
	}
	if f := RunFailures(r); len(f) != 0 {
		t.Errorf("run failures %v", f)
	}
	if r.Orders.Cancelled != 300 || r.Orders.LeftOpen != 0 {
		t.Errorf("orders %+v: want the 300 cancelled at the end", r.Orders)
	}
}
