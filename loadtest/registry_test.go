package loadtest

import (
	"testing"
	"time"
)

func TestRegistryHoldsEarlyDeliveries(t *testing.T) {
	r := newRegistry()
	due := monoNow()
	// Two drivers receive the order before its POST answer arrives.
	r.delivery(0, []byte("o1"), due+int64(2*time.Millisecond))
	r.delivery(1, []byte("o1"), due+int64(3*time.Millisecond))
	if r.measured.Load() != 0 || r.pending.Load() != 2 {
		t.Fatalf("before registration: measured %d pending %d, want 0 and 2", r.measured.Load(), r.pending.Load())
	}
	r.register(orderReg{ID: "o1", Seq: 0, DueNS: due})
	r.delivery(2, []byte("o1"), due+int64(5*time.Millisecond))
	// A warm-up order is counted apart.
	r.register(orderReg{ID: "w1", Seq: 1, DueNS: due, Warm: true})
	r.delivery(0, []byte("w1"), due+1)
	// Nobody registers o9: it is foreign (another client's order).
	r.delivery(0, []byte("o9"), due)

	if r.measured.Load() != 3 || r.warm.Load() != 1 || r.pending.Load() != 1 {
		t.Fatalf("measured %d warm %d pending %d, want 3, 1, 1", r.measured.Load(), r.warm.Load(), r.pending.Load())
	}
	l := summarize(r.latency.snapshot())
	if l.Count != 3 || l.Max < 4.9 || l.Max > 5.1 || l.P50 < 2.9 || l.P50 > 3.1 {
		t.Errorf("latency %+v, want 3 samples of 2, 3 and 5 ms", l)
	}
	// Four drivers were connected: o1 reached three of them.
	tl := r.tally(4)
	if tl.Lost != 1 || tl.Duplicated != 0 || tl.Foreign != 1 {
		t.Errorf("tally %+v, want 1 lost, 1 foreign", tl)
	}
	if tl := r.tally(2); tl.Duplicated != 1 || tl.Lost != 0 {
		t.Errorf("tally with 2 drivers %+v, want 1 duplicated", tl)
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
