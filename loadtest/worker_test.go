package loadtest

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// workerOptions makes bench start this test binary as its workers.
func workerOptions(t *testing.T, o Options, procs int) Options {
	t.Setenv("LOADTEST_WORKER", "1")
	o.Procs = procs
	o.WorkerCommand = []string{os.Args[0], "-test.run=^$"}
	return o
}

func TestProcsMergeCounts(t *testing.T) {
	hub := newFakeHub(t, nil)
	o := workerOptions(t, quick(hub.URL()), 3)
	o.Scenario, o.Racers, o.RaceVia = Accept, 3, RaceBoth
	r := runBench(t, t.Context(), o)
	d := r.Deliveries
	if r.Connections.Connected != 23 || r.Connections.DriversAtStart != 20 {
		t.Fatalf("connections %+v, want 23 over 3 processes, 20 drivers", r.Connections)
	}
	if d.Expected != 20*20 || d.Received != d.Expected || d.Lost != 0 {
		t.Fatalf("deliveries %+v, want 400 expected and received", d)
	}
	if a := r.Accepts; a.BadCount != 0 || a.OneWinner != r.Orders.Created || a.Attempts != 3*a.Orders {
		t.Fatalf("accepts %+v, want one winner of 3 answered racers per order", a)
	}
	if len(r.Limits) != 3 || r.Machine.Procs != 3 {
		t.Errorf("file limits of %d processes, machine %+v; want 3", len(r.Limits), r.Machine)
	}
	if r.BenchCPU.Seconds <= 0 {
		t.Errorf("bench CPU %+v, want the workers' CPU counted", r.BenchCPU)
	}
}

func TestWorkerProtocol(t *testing.T) {
	hub := newFakeHub(t, nil)
	o := quick(hub.URL()).withDefaults()
	o.Drivers, o.Users, o.RunID = 4, -1, "proto"
	o = o.withDefaults()
	// Worker 1 of 2 holds drivers 1 and 3.
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, m := range []workerMsg{
		{Kind: msgStart, Spec: &fleetSpec{Options: o, Index: 1, Count: 2}},
		{Kind: msgOrders},
		{Kind: msgOrder, Order: &orderReg{ID: "o1", Seq: 0, DueNS: monoNow()}},
		{Kind: "unknown kinds are ignored"},
		{Kind: msgFinish},
	} {
		if err := enc.Encode(m); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := RunWorker(t.Context(), &in, &out, nil); err != nil {
		t.Fatalf("RunWorker: %v", err)
	}
	var kinds []string
	var res *fleetResult
	for line := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
		var m workerMsg
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		if m.Kind != msgProgress {
			kinds = append(kinds, m.Kind)
		}
		if m.Result != nil {
			res = m.Result
		}
	}
	if strings.Join(kinds, ",") != "ready,result" || res == nil {
		t.Fatalf("messages %v, want ready then result", kinds)
	}
	if res.Progress.Planned != 2 || res.DriversAtStart != 2 {
		t.Errorf("worker 1 of 2 with 4 drivers holds %d and started orders with %d, want 2",
			res.Progress.Planned, res.DriversAtStart)
	}
	// o1 was never fanned out by the fake hub: both drivers lost it.
	if res.Tally.Lost != 2 {
		t.Errorf("tally %+v, want 2 lost", res.Tally)
	}
}

func TestWorkerRejectsBadStart(t *testing.T) {
	for _, in := range []string{"", "not json\n", `{"kind":"order"}` + "\n"} {
		var out bytes.Buffer
		if err := RunWorker(t.Context(), strings.NewReader(in), &out, nil); err == nil {
			t.Errorf("RunWorker(%q) = nil, want an error", in)
		}
	}
}

func TestHistogramSnapshotsMerge(t *testing.T) {
	a, b := newRecorder(), newRecorder()
	for i := range 100 {
		a.record(i, time.Duration(i+1)*time.Millisecond)
		b.record(i, time.Duration(i+101)*time.Millisecond)
	}
	// Across processes the snapshots travel as JSON.
	merged := newHist()
	for _, r := range []*recorder{a, b} {
		data, err := json.Marshal(exportHist(r.snapshot()))
		if err != nil {
			t.Fatal(err)
		}
		var snap workerMsg
		if err := json.Unmarshal([]byte(`{"kind":"result","result":{"delivery":`+string(data)+`}}`), &snap); err != nil {
			t.Fatal(err)
		}
		if err := importHist(merged, snap.Result.Delivery); err != nil {
			t.Fatal(err)
		}
	}
	l := summarize(merged)
	if l.Count != 200 || l.Max < 199.9 || l.Max > 200.2 || l.P50 < 99.9 || l.P50 > 100.1 {
		t.Errorf("merged %+v, want 200 samples from 1 to 200 ms", l)
	}
	bad := exportHist(newHist())
	bad.Counts = []int64{-1}
	if err := importHist(newHist(), bad); err == nil {
		t.Error("a snapshot with a negative count was imported")
	}
}

// The storm's drivers are spread over worker processes like any others.
func TestProcsStorm(t *testing.T) {
	hub := newFakeHub(t, func(h *fakeHub) { h.refuse = 7 })
	o := workerOptions(t, stormOptions(hub.URL()), 3)
	r := runBench(t, t.Context(), o)
	st := r.Storm
	if st.Greeted != 20 || st.OpenOrders != 30 || st.Closed1013 != 6 || st.Latency.Count != 20 || st.AllGreetedMS <= 0 {
		t.Fatalf("storm %+v: want 20 drivers over 3 processes greeted, 6 refusals retried", st)
	}
	if r.Machine.Procs != 3 || len(r.Limits) != 3 {
		t.Errorf("machine %+v, %d file limits: want 3 processes", r.Machine, len(r.Limits))
	}
}
