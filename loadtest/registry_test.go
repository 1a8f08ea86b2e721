package loadtest

import (
	"testing"
	"time"
)

func TestRegistryHoldsEarlyDeliveries(t *testing.T) {
	r := newRegistry()
	due := monoNow()
	// Two drivers receive the order before its POST answer arrives.
	r.delivery(0, 0, []byte("o1"), due+int64(2*time.Millisecond))
	r.delivery(1, 1, []byte("o1"), due+int64(3*time.Millisecond))
	if r.measured.Load() != 0 || r.pending.Load() != 2 {
		t.Fatalf("before registration: measured %d pending %d, want 0 and 2", r.measured.Load(), r.pending.Load())
	}
	r.register(orderReg{ID: "o1", Seq: 0, DueNS: due})
	r.delivery(2, 2, []byte("o1"), due+int64(5*time.Millisecond))
	// A warm-up order is counted apart.
	r.register(orderReg{ID: "w1", Seq: 1, DueNS: due, Warm: true})
	r.delivery(0, 0, []byte("w1"), due+1)
	// Nobody registers o9: it is foreign (another client's order).
	r.delivery(0, 0, []byte("o9"), due)

	if r.measured.Load() != 3 || r.warm.Load() != 1 || r.pending.Load() != 1 {
		t.Fatalf("measured %d warm %d pending %d, want 3, 1, 1", r.measured.Load(), r.warm.Load(), r.pending.Load())
	}
	l := summarize(r.latency.snapshot())
	if l.Count != 3 || l.Max < 4.9 || l.Max > 5.1 || l.P50 < 2.9 || l.P50 > 3.1 {
		t.Errorf("latency %+v, want 3 samples of 2, 3 and 5 ms", l)
	}
	// Four drivers were connected: o1 reached three of them.
	tl := r.tally(4, nil, nil)
	if tl.Lost != 1 || tl.Duplicated != 0 || tl.Foreign != 1 {
		t.Errorf("tally %+v, want 1 lost, 1 foreign", tl)
	}
	if tl := r.tally(2, nil, nil); tl.Duplicated != 1 || tl.Lost != 0 {
		t.Errorf("tally with 2 drivers %+v, want 1 duplicated", tl)
	}
}

// Each driver's events are judged on their own: a second new_order of one
// order is a repeat, even when it arrives before the order is registered; an
// owed order neither received nor in a snapshot is missed; a snapshot that
// came after the order closed excuses it.
func TestRegistryJudgesEachDriver(t *testing.T) {
	r := newRegistry()
	t0 := monoNow()
	drivers := []clientMark{
		{greetedNS: t0},                      // 0: receives everything, o2 twice
		{greetedNS: t0},                      // 1: misses o2
		{greetedNS: t0, snapshotNS: t0 + 50}, // 2: had o2 in a snapshot, o3 closed before its snapshot
		{greetedNS: t0 + 15},                 // 3: greeted after o1 was sent: owed o2 and o3 only
		{},                                   // 4: never connected
	}
	if r.delivery(0, 0, []byte("o2"), t0+20) {
		t.Error("a first delivery is no repeat")
	}
	if !r.delivery(0, 0, []byte("o2"), t0+21) {
		t.Error("a second new_order of o2 to driver 0 is a repeat")
	}
	for _, reg := range []orderReg{{ID: "o1", Seq: 0, SentNS: t0 + 10}, {ID: "o2", Seq: 1, SentNS: t0 + 20}, {ID: "o3", Seq: 2, SentNS: t0 + 30}} {
		r.register(reg)
	}
	for _, d := range []int{0, 1, 2} {
		r.delivery(d, d, []byte("o1"), t0+11)
	}
	r.delivery(3, 3, []byte("o2"), t0+21)
	r.snapshot(2, []byte("o2"))
	for _, d := range []int{0, 1, 3} {
		r.delivery(d, d, []byte("o3"), t0+31)
	}
	if r.closing("order_accepted", 0, []byte("o3")) || !r.closing("order_accepted", 0, []byte("o3")) {
		t.Error("the second order_accepted of o3 to driver 0 is the repeat")
	}
	tl := r.tally(4, drivers, nil)
	want := []int64{0, 1, 0, 0, 0}
	for d := range want {
		if tl.Missed[d] != want[d] {
			t.Errorf("driver %d missed %d, want %d (all: %v)", d, tl.Missed[d], want[d], tl.Missed)
		}
	}
	if tl.InSnapshot != 1 {
		t.Errorf("in snapshot %d, want 1 (o2 for driver 2)", tl.InSnapshot)
	}
}

func TestBitset(t *testing.T) {
	var b bitset
	for _, i := range []int{0, 63, 64, 200} {
		if b.add(i) {
			t.Errorf("%d added twice", i)
		}
	}
	if !b.add(64) || !b.has(200) || b.has(1) || b.has(1000) {
		t.Errorf("bitset %b", b)
	}
}

func TestRacerSpread(t *testing.T) {
	// The racers of one order are distinct drivers.
	seen := map[int]bool{}
	for j := range 10 {
		g := racer(7, j, 10, 25)
		if seen[g] || g < 0 || g >= 25 {
			t.Fatalf("racer %d of order 7 is driver %d, seen before or out of range", j, g)
		}
		seen[g] = true
	}
	if raceViaWS(RaceBoth, 0) || !raceViaWS(RaceBoth, 1) || raceViaWS(RaceHTTP, 1) || !raceViaWS(RaceWS, 0) {
		t.Error("race via both alternates HTTP (even) and WebSocket (odd)")
	}
}

func TestShare(t *testing.T) {
	// 10 drivers over 3 processes: 4, 3, 3.
	got := []int{share(10, 0, 3), share(10, 1, 3), share(10, 2, 3)}
	if got[0] != 4 || got[1] != 3 || got[2] != 3 {
		t.Errorf("shares %v, want [4 3 3]", got)
	}
	if share(2, 3, 4) != 0 {
		t.Error("a process past the last driver holds none")
	}
}
