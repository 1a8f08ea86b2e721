package loadtest

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// quick returns options for a short run against targets.
func quick(targets ...string) Options {
	return Options{
		Targets:  targets,
		Drivers:  20,
		Users:    3,
		Rate:     40,
		Duration: 500 * time.Millisecond,
		WarmUp:   200 * time.Millisecond,
		Drain:    2 * time.Second,
		Timeout:  5 * time.Second,
	}
}

// runBench runs b to the end, draining progress, and returns the report.
func runBench(t *testing.T, ctx context.Context, opts Options) *Report {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	samples := 0
	for range b.Run(ctx) {
		samples++
	}
	r := b.Report()
	if r == nil {
		t.Fatal("no report after the progress channel closed")
	}
	if samples == 0 {
		t.Error("no progress sample")
	}
	return r
}

func TestFanoutCountsExactly(t *testing.T) {
	hub := newFakeHub(t, nil)
	r := runBench(t, t.Context(), quick(hub.URL()))
	d := r.Deliveries
	// 40/s over 0.2 s of warm-up and 0.5 s measured: 8 warm, 20 measured.
	if r.Orders.Created != 28 || r.Orders.Warm != 8 {
		t.Fatalf("orders created %d (warm %d), want 28 (8)", r.Orders.Created, r.Orders.Warm)
	}
	if d.Expected != 20*20 || d.Received != d.Expected || d.Lost != 0 || d.Duplicated != 0 {
		t.Fatalf("deliveries %+v, want 400 expected and received, none lost", d)
	}
	if d.Warm != 8*20 {
		t.Errorf("warm deliveries %d, want 160", d.Warm)
	}
	if d.Latency.Count != 400 || d.Latency.Max <= 0 {
		t.Errorf("latency %+v, want 400 samples", d.Latency)
	}
	if r.Connections.Connected != 23 || r.Connections.Failed != 0 {
		t.Errorf("connections %+v, want 23 connected", r.Connections)
	}
	if r.Server.ConnectionsGained != 23 || r.Server.MemoryPerConnection != 3000 {
		t.Errorf("server %+v, want 23 connections gained at 3000 B each", r.Server)
	}
	if r.Interrupted || len(r.Errors) != 0 {
		t.Errorf("interrupted %t, errors %v", r.Interrupted, r.Errors)
	}
	// The latency claim is judged, never required: its figure depends on
	// the machine's load, which a unit test does not control.
	if got := claim(r, "delivery latency").Status; got != ClaimHeld && got != ClaimNotHeld {
		t.Errorf("latency claim %q, want judged", got)
	}
	if got := claim(r, "one winner per order").Status; got != ClaimNotTested {
		t.Errorf("winner claim %q in fanout, want not tested", got)
	}
}

func claim(r *Report, name string) Claim {
	for _, c := range r.Claims {
		if c.Name == name {
			return c
		}
	}
	return Claim{}
}

func TestFanoutShowsLosses(t *testing.T) {
	hub := newFakeHub(t, func(h *fakeHub) { h.dropEvery = 7 })
	o := quick(hub.URL())
	o.Drain = 300 * time.Millisecond
	r := runBench(t, t.Context(), o)
	d := r.Deliveries
	if d.Lost == 0 || d.Received+d.Lost != d.Expected {
		t.Fatalf("deliveries %+v: want losses, received + lost = expected", d)
	}
	slos, err := ParseSLO("loss=0")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckSLOs(r, slos) {
		t.Error("loss=0 passed with losses")
	}
}

func TestAcceptDetectsTwoWinners(t *testing.T) {
	for _, via := range []string{RaceHTTP, RaceWS, RaceBoth} {
		t.Run(via, func(t *testing.T) {
			hub := newFakeHub(t, func(h *fakeHub) { h.twoWinners = true })
			o := quick(hub.URL())
			o.Scenario, o.Racers, o.RaceVia = Accept, 4, via
			r := runBench(t, t.Context(), o)
			a := r.Accepts
			// A race the run ended before every racer was answered is not
			// judged; every other one had two winners.
			if a == nil || a.Orders != r.Orders.Created || a.BadCount+a.Unfinished != a.Orders || a.BadCount == 0 {
				t.Fatalf("accepts %+v, want every one of %d orders bad", a, r.Orders.Created)
			}
			if b := a.BadOrders[0]; b.Wins != 2 || b.Losses != 2 {
				t.Errorf("bad order %+v, want 2 wins and 2 losses", b)
			}
			if got := claim(r, "one winner per order").Status; got != ClaimNotHeld {
				t.Errorf("winner claim %q, want NOT held", got)
			}
			var out bytes.Buffer
			if err := TextReporter(r)(&out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), a.BadOrders[0].OrderID+": 2 winners") {
				t.Errorf("summary does not name the bad order:\n%s", out.String())
			}
		})
	}
}

func TestAcceptOneWinner(t *testing.T) {
	hub := newFakeHub(t, nil)
	o := quick(hub.URL())
	o.Scenario, o.Racers = Accept, 4
	r := runBench(t, t.Context(), o)
	a := r.Accepts
	if a.BadCount != 0 || a.OneWinner != r.Orders.Created || a.Losses != 3*a.Orders {
		t.Fatalf("accepts %+v, want one winner and 3 losers for each of %d orders", a, r.Orders.Created)
	}
	if a.Latency.Count != a.Attempts {
		t.Errorf("accept latency samples %d, want %d", a.Latency.Count, a.Attempts)
	}
	if got := claim(r, "one winner per order").Status; got != ClaimHeld {
		t.Errorf("winner claim %q, want held", got)
	}
}

func TestConnectMeasuresMemory(t *testing.T) {
	hub := newFakeHub(t, nil)
	o := quick(hub.URL())
	o.Scenario, o.Drivers, o.Users, o.Duration = Connect, 30, -1, 100*time.Millisecond
	r := runBench(t, t.Context(), o)
	if r.Connections.Connected != 30 || r.Server.PeakConnections != 30 {
		t.Fatalf("connections %+v, peak %d; want 30", r.Connections, r.Server.PeakConnections)
	}
	if r.Server.MemoryPerConnection != 3000 {
		t.Errorf("memory per connection %g, want 3000", r.Server.MemoryPerConnection)
	}
	if r.Orders.Created != 0 || r.Connections.Latency.Count != 30 {
		t.Errorf("orders %d, connect samples %d", r.Orders.Created, r.Connections.Latency.Count)
	}
}

func TestInterruptedRunReportsPartial(t *testing.T) {
	hub := newFakeHub(t, nil)
	o := quick(hub.URL())
	o.Duration = time.Minute
	ctx, cancel := context.WithCancel(t.Context())
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for p := range b.Run(ctx) {
		if p.Phase == PhaseRun && p.OrdersCreated > 10 {
			cancel()
		}
	}
	cancel()
	r := b.Report()
	if !r.Interrupted || r.Orders.Created < 10 || r.Orders.Created > 100 {
		t.Fatalf("interrupted %t with %d orders, want a partial run", r.Interrupted, r.Orders.Created)
	}
	if time.Since(start) > 15*time.Second {
		t.Errorf("stopping took %s", time.Since(start))
	}
	if r.Deliveries.Received == 0 {
		t.Error("partial report has no deliveries")
	}
}

func TestUnreachableTargetCountsFailures(t *testing.T) {
	hub := newFakeHub(t, nil)
	url := hub.URL()
	hub.close()
	o := quick(url)
	o.Drivers, o.Users, o.Rate, o.Duration, o.WarmUp = 5, 1, 10, 100*time.Millisecond, -1
	r := runBench(t, t.Context(), o)
	if r.Connections.Failed != 6 || r.Connections.FailuresBy[kindRefused] != 6 {
		t.Fatalf("connections %+v, want 6 refused", r.Connections)
	}
	if r.Orders.Failed != r.Orders.Sent || r.Errors[kindStats] == 0 {
		t.Errorf("orders %+v, errors %v", r.Orders, r.Errors)
	}
}

// runBenchWatching runs b like runBench and calls on with every progress
// sample, so a test can act on the hub mid-run.
func runBenchWatching(t *testing.T, opts Options, on func(Progress)) *Report {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for p := range b.Run(t.Context()) {
		on(p)
	}
	return b.Report()
}

// once returns a progress callback that calls act the first time the run
// has created n measured and warm-up orders.
func once(n int64, act func()) func(Progress) {
	done := false
	return func(p Progress) {
		if !done && p.OrdersCreated >= n {
			done = true
			act()
		}
	}
}

// checkEvents asserts that every client got every event it was owed, once
// and in order.
func checkEvents(t *testing.T, r *Report) {
	t.Helper()
	e := r.Events
	if e.Missed != 0 || e.Repeated != 0 || e.OutOfOrder != 0 || e.WithoutID != 0 || e.FaultyClients != 0 {
		t.Errorf("events %+v: want none missed, repeated or out of order", e)
	}
	if e.Received < r.Deliveries.Received {
		t.Errorf("events received %d, fewer than the %d new_order frames", e.Received, r.Deliveries.Received)
	}
	if f := RunFailures(r); len(f) != 0 {
		t.Errorf("run failures %v", f)
	}
}

func TestEventsCountFaults(t *testing.T) {
	for _, tt := range []struct {
		name      string
		configure func(*fakeHub)
		// want returns the missed, repeated and out-of-order counts the
		// hub's misbehaviour must show as.
		want func(h *fakeHub, r *Report) (missed, repeated, outOfOrder int64)
	}{
		{"dropped frames are missed", func(h *fakeHub) { h.dropEvery = 7 },
			func(h *fakeHub, r *Report) (int64, int64, int64) { return h.dropped.Load(), 0, 0 }},
		// A frame sent twice carries its id twice: the second is not
		// greater than the previous one.
		{"frames sent twice are repeated", func(h *fakeHub) { h.repeatEvery = 7 },
			func(h *fakeHub, r *Report) (int64, int64, int64) { return 0, h.repeated.Load(), h.repeated.Load() }},
		{"lower ids are out of order", func(h *fakeHub) { h.staleEvery = 5 },
			func(h *fakeHub, r *Report) (int64, int64, int64) { return 0, 0, r.Orders.Created / 5 * 20 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hub := newFakeHub(t, tt.configure)
			o := quick(hub.URL())
			o.Drain = 300 * time.Millisecond
			r := runBench(t, t.Context(), o)
			e := r.Events
			missed, repeated, outOfOrder := tt.want(hub, r)
			if missed+repeated+outOfOrder == 0 {
				t.Fatal("the fake hub did not misbehave")
			}
			if e.Missed != missed || e.Repeated != repeated || e.OutOfOrder != outOfOrder {
				t.Fatalf("events %+v: want %d missed, %d repeated, %d out of order", e, missed, repeated, outOfOrder)
			}
			if e.FaultyClients == 0 || len(e.Faults) == 0 || !e.Faults[0].faulty() {
				t.Errorf("faults %+v: want the clients listed", e.Faults)
			}
			f := RunFailures(r)
			if len(f) != 1 || !strings.Contains(f[0], "events not delivered exactly once and in order") {
				t.Errorf("run failures %q: want the events named", f)
			}
			var out bytes.Buffer
			if err := TextReporter(r)(&out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), e.Faults[0].Client+": ") {
				t.Errorf("summary does not name the worst client:\n%s", out.String())
			}
		})
	}
}

// Kicked off mid-run (as a node's shutdown does), every client reconnects
// with ?since= and the hub replays what it missed.
func TestReconnectRecovers(t *testing.T) {
	hub := newFakeHub(t, nil)
	o := quick(hub.URL())
	o.Scenario, o.Racers = Accept, 2 // riders are owed their orders' order_accepted
	on := true
	o.Reconnect = &on
	r := runBenchWatching(t, o, once(12, hub.kick))
	checkEvents(t, r)
	rc := r.Reconnects
	if !rc.Enabled || rc.Reconnected != 23 || rc.Recovered != 23 || rc.GaveUp != 0 || r.Connections.Dropped != 23 {
		t.Fatalf("reconnects %+v, dropped %d: want all 23 clients back and recovered", rc, r.Connections.Dropped)
	}
	if rc.Latency.Count != 23 {
		t.Errorf("reconnect latency %+v, want 23 samples", rc.Latency)
	}
	if r.Accepts.BadCount != 0 {
		t.Errorf("accepts %+v", r.Accepts)
	}
}

// A hub that cannot replay sends a snapshot: orders listed in it count as
// received.
func TestReconnectSnapshot(t *testing.T) {
	hub := newFakeHub(t, func(h *fakeHub) { h.noResume = true })
	o := quick(hub.URL())
	r := runBenchWatching(t, o, once(12, hub.kick))
	checkEvents(t, r)
	if rc := r.Reconnects; rc.Reconnected != 23 || rc.Snapshot != 23 || rc.Recovered != 0 {
		t.Fatalf("reconnects %+v: want 23 snapshots", rc)
	}
}

// Without --reconnect a client the hub closed misses what follows, and the
// run fails.
func TestNoReconnectMisses(t *testing.T) {
	hub := newFakeHub(t, nil)
	o := quick(hub.URL())
	off := false
	o.Reconnect = &off
	o.Drain = 300 * time.Millisecond
	r := runBenchWatching(t, o, once(12, hub.kick))
	if r.Reconnects.Enabled || r.Reconnects.Attempts != 0 {
		t.Errorf("reconnects %+v with --reconnect=false", r.Reconnects)
	}
	if e := r.Events; e.Missed == 0 || e.FaultyClients != 20 {
		t.Fatalf("events %+v: want every driver missing the orders after the kick", e)
	}
	if len(RunFailures(r)) == 0 {
		t.Error("the run did not fail")
	}
}

// stormOptions is a small storm against targets.
func stormOptions(targets ...string) Options {
	return Options{Scenario: Storm, Targets: targets, Drivers: 20, Orders: 30, Rate: 500,
		Duration: 10 * time.Second, Timeout: 5 * time.Second}
}

// Greetings the hub refuses with 1013 are retried until they succeed.
func TestStormRetriesRefusedGreetings(t *testing.T) {
	hub := newFakeHub(t, func(h *fakeHub) { h.refuse = 25 })
	r := runBench(t, t.Context(), stormOptions(hub.URL()))
	st := r.Storm
	if st == nil || st.Orders != 30 || st.OpenOrders != 30 || st.Greeted != 20 || st.Wrong != 0 {
		t.Fatalf("storm %+v: want 20 drivers greeted with 30 open orders", st)
	}
	// The probe was the first greeting refused, and retried by nobody.
	if st.Closed1013 != 24 || st.FailuresBy["closed_1013"] != 24 || st.Attempts != 44 {
		t.Errorf("storm %+v: want 24 greetings refused with 1013 and retried, 44 dials", st)
	}
	if st.AllGreetedMS <= 0 || st.Latency.Count != 20 || st.AllGreetedMS < st.Latency.Max-1 {
		t.Errorf("storm %+v: want every greeting timed, the last one the time until all greeted", st)
	}
	if f := RunFailures(r); len(f) != 0 {
		t.Errorf("run failures %v", f)
	}
	if r.Orders.Created != 30 || r.Orders.Cancelled != 30 {
		t.Errorf("orders %+v: want the 30 open orders created, then cancelled", r.Orders)
	}
}

// A hub that greets drivers with an empty list while orders are open fails
// the storm.
func TestStormCatchesWrongGreetings(t *testing.T) {
	hub := newFakeHub(t, func(h *fakeHub) { h.emptyGreet = true })
	o := stormOptions(hub.URL())
	o.Drivers = 5
	r := runBench(t, t.Context(), o)
	st := r.Storm
	if st.Greeted != 0 || st.Wrong != 5 || st.WrongBy[wrongEmpty] != 5 || st.AllGreetedMS != 0 {
		t.Fatalf("storm %+v: want 5 wrong (empty) greetings", st)
	}
	want := "storm: 5 of 5 drivers not greeted with the 30 open orders: 5 wrongly greeted, mostly empty (5)"
	if f := RunFailures(r); !slices.ContainsFunc(f, func(s string) bool { return strings.HasPrefix(s, want) }) {
		t.Errorf("run failures %q, want %q", f, want)
	}
}

// Drivers the hub keeps refusing retry until --duration, then count as not
// greeted; Ctrl-C stops their retries at once.
func TestStormEndsRetries(t *testing.T) {
	hub := newFakeHub(t, func(h *fakeHub) { h.refuse = 1 << 40 })
	o := stormOptions(hub.URL())
	o.Drivers, o.Duration = 5, time.Second
	start := time.Now()
	r := runBench(t, t.Context(), o)
	if st := r.Storm; st.NotGreeted != 5 || st.Greeted != 0 || st.Closed1013 < 10 {
		t.Fatalf("storm %+v: want 5 drivers refused again and again, then not greeted", st)
	}
	if len(RunFailures(r)) == 0 {
		t.Error("the run did not fail")
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	o.Duration = time.Hour
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	for p := range b.Run(ctx) {
		if p.Phase == PhaseStorm {
			cancel()
		}
	}
	if !b.Report().Interrupted || time.Since(start) > 20*time.Second {
		t.Errorf("interrupted %t after %s: want the storm stopped at once", b.Report().Interrupted, time.Since(start))
	}
}
