package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/taxi-hub/taxi/contract"
	"math"
	"slices"
	"sync"
	"testing"
	"time"
)

// berlin is the centre of the test city.
var berlin = Point{Lat: 52.52, Lng: 13.405}

// northOf returns the point m metres due north of p (south when m < 0):
// along a meridian, so the great-circle distance is exactly |m|.
func northOf(p Point, m float64) Point {
	return Point{Lat: p.Lat + m/contract.EarthRadiusM*180/math.Pi, Lng: p.Lng}
}

func nearbyIDs(ds []NearbyDriver) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.DriverID
	}
	return ids
}

func testLocationStore(t *testing.T, s LocationStore) {
	ctx := context.Background()
	now := time.Now()
	since := now.Add(-2 * time.Minute)
	positions := []struct {
		id string
		m  float64 // metres north of berlin
		at time.Time
	}{
		{"a", 100, now},
		{"b", -500, now},
		{"c", 1000, now.Add(-10 * time.Minute)}, // stale
		{"d", -1500, now},
		{"e", 5000, now},
	}
	for _, p := range positions {
		if err := s.Update(ctx, p.id, northOf(berlin, p.m), p.at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Nearby(ctx, berlin, 1200, 0, since)
	if err != nil {
		t.Fatal(err)
	}
	// c is within the radius but stale; d and e are outside it.
	if ids := nearbyIDs(got); !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("Nearby(1200 m) = %v, want [a b]", ids)
	}
	if d := got[1]; math.Abs(d.DistanceM-500) > 1 || math.Abs(d.Lat-northOf(berlin, -500).Lat) > 1e-5 ||
		math.Abs(d.Lng-berlin.Lng) > 1e-5 || d.UpdatedAt.UnixMilli() != now.UnixMilli() {
		t.Fatalf("b = %+v, want 500 m away, updated at %v", d, now)
	}
	if ids := nearbyIDs(geoMust(s.Nearby(ctx, berlin, 1200, 0, now.Add(-time.Hour)))); !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Fatalf("Nearby counting old positions = %v, want [a b c]", ids)
	}
	if ids := nearbyIDs(geoMust(s.Nearby(ctx, berlin, 10000, 2, since))); !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("Nearby limit 2 = %v, want the nearest two, [a b]", ids)
	}
	if n := geoMust(s.Count(ctx, since)); n != 4 {
		t.Fatalf("Count = %d, want 4", n)
	}
	// A new position replaces the old one.
	if err := s.Update(ctx, "e", northOf(berlin, 50), now); err != nil {
		t.Fatal(err)
	}
	if ids := nearbyIDs(geoMust(s.Nearby(ctx, berlin, 1200, 0, since))); !slices.Equal(ids, []string{"e", "a", "b"}) {
		t.Fatalf("Nearby after e moved = %v, want [e a b]", ids)
	}
	if n := geoMust(s.Trim(ctx, since)); n != 1 {
		t.Fatalf("Trim forgot %d, want 1 (c)", n)
	}
	if ids := nearbyIDs(geoMust(s.Nearby(ctx, berlin, 1200, 0, time.Time{}))); slices.Contains(ids, "c") {
		t.Fatalf("c is still found after Trim: %v", ids)
	}
	if n := geoMust(s.Count(ctx, time.Time{})); n != 4 {
		t.Fatalf("Count after Trim = %d, want 4", n)
	}

	// Across the antimeridian, 0.002 degrees of longitude at the equator.
	if err := s.Update(ctx, "w", Point{Lat: 0, Lng: -179.999}, now); err != nil {
		t.Fatal(err)
	}
	got = geoMust(s.Nearby(ctx, Point{Lat: 0, Lng: 179.999}, 300, 0, since))
	if len(got) != 1 || got[0].DriverID != "w" || math.Abs(got[0].DistanceM-222.4) > 1 {
		t.Fatalf("Nearby across the antimeridian = %+v, want w at 222 m", got)
	}

	// The tracking gate opens once per period and order.
	if !geoMust(s.Track(ctx, "o1", 300*time.Millisecond)) || geoMust(s.Track(ctx, "o1", 300*time.Millisecond)) {
		t.Fatal("Track did not say true, then false, within the period")
	}
	if !geoMust(s.Track(ctx, "o2", 300*time.Millisecond)) {
		t.Fatal("Track of another order said false")
	}
	checkFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		if !geoMust(s.Track(ctx, "o1", 300*time.Millisecond)) {
			return fmt.Errorf("the gate of o1 is still shut")
		}
		return nil
	})

	// Concurrent writers, some of them for one driver: every position is
	// kept, a driver's last one wins.
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Go(func() {
			p := northOf(Point{Lat: 40, Lng: -3.7}, float64(i%100))
			if err := s.Update(ctx, fmt.Sprintf("c%d", i%100), p, now); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := geoMust(s.Nearby(ctx, Point{Lat: 40, Lng: -3.7}, 150, 0, since)); len(got) != 100 {
		t.Fatalf("after concurrent writes: %d drivers, want 100", len(got))
	}

	// More drivers within the radius than one batch of the store's reads.
	for i := range 1500 {
		if err := s.Update(ctx, fmt.Sprintf("m%d", i), northOf(Point{Lat: -33.87, Lng: 151.21}, float64(i)), now); err != nil {
			t.Fatal(err)
		}
	}
	got = geoMust(s.Nearby(ctx, Point{Lat: -33.87, Lng: 151.21}, 1510, 0, since))
	if len(got) != 1500 || got[0].DriverID != "m0" || got[1499].DriverID != "m1499" {
		t.Fatalf("Nearby of 1500 = %d drivers, first %v", len(got), nearbyIDs(got[:min(3, len(got))]))
	}
}

// geoMust returns v, failing the test on err.
func geoMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// testOrderDispatch is the store suite's part for orders with a dispatch
// and for completion.
func testOrderDispatch(t *testing.T, s OrderStore) {
	ctx := context.Background()
	o := testOrder("r1", "u1")
	n := 2
	o.RadiusM, o.MaxDrivers, o.Offered, o.OfferedTo = 1500, 2, &n, []string{"d2", "d1"}
	if err := s.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	open := geoMust(s.Open(ctx))
	if len(open) != 1 || open[0].RadiusM != 1500 || open[0].MaxDrivers != 2 || *open[0].Offered != 2 ||
		!slices.Equal(open[0].OfferedTo, []string{"d2", "d1"}) {
		t.Fatalf("Open = %+v", open)
	}
	if r := geoMust(s.Riding(ctx)); r != 0 {
		t.Fatalf("Riding with no accepted order = %d", r)
	}
	if _, err := s.Complete(ctx, "r1", "d1"); !errors.Is(err, ErrOrderNotAccepted) {
		t.Fatalf("Complete of an open order: %v", err)
	}
	acc, err := s.Accept(ctx, "r1", "d1")
	if err != nil || !slices.Equal(acc.OfferedTo, []string{"d2", "d1"}) {
		t.Fatalf("Accept = %+v, %v", acc, err)
	}
	if r := geoMust(s.Riding(ctx)); r != 1 {
		t.Fatalf("Riding after an accept = %d, want 1", r)
	}
	if _, err := s.Complete(ctx, "r1", "d2"); !errors.Is(err, ErrNotAssignedDriver) {
		t.Fatalf("Complete by another driver: %v", err)
	}
	if _, err := s.Complete(ctx, "missing", "d1"); !errors.Is(err, ErrOrderNotFound) {
		t.Fatalf("Complete of a missing order: %v", err)
	}
	done, err := s.Complete(ctx, "r1", "d1")
	if err != nil || done.Status != StatusCompleted || done.DriverID != "d1" || done.RadiusM != 1500 {
		t.Fatalf("Complete = %+v, %v", done, err)
	}
	if again, err := s.Complete(ctx, "r1", "d1"); !errors.Is(err, errCompletedAlready) || again.Status != StatusCompleted {
		t.Fatalf("Complete again = %+v, %v", again, err)
	}
	if r := geoMust(s.Riding(ctx)); r != 0 {
		t.Fatalf("Riding after completion = %d, want 0", r)
	}
	if _, err := s.Accept(ctx, "r1", "d2"); !errors.Is(err, ErrOrderTaken) {
		t.Fatalf("Accept of a completed order: %v", err)
	}
	if _, err := s.Cancel(ctx, "r1", "u1"); !errors.Is(err, ErrOrderNotOpen) {
		t.Fatalf("Cancel of a completed order: %v", err)
	}
}
