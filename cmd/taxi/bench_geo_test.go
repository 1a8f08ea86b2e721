package main

import (
	"encoding/json"
	"github.com/taxi-hub/taxi/internal/hubtest"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/contract"
	"github.com/taxi-hub/taxi/loadtest"
)

func TestBenchGeoFlags(t *testing.T) {
	o, err := parseBench(t, "geo", "--center", "48.85, 2.35", "--area-km", "12", "--position-every", "2s",
		"--radius", "1500", "--max-drivers", "8", "--ride-share", "0.5", "--ride-length", "3s", "--ride-step", "1s", "--seed", "9")
	if err != nil {
		t.Fatal(err)
	}
	g, err := o.geo.geoOptions()
	want := loadtest.GeoOptions{Center: contract.Point{Lat: 48.85, Lng: 2.35}, AreaKM: 12, PositionEvery: 2 * time.Second,
		RadiusM: 1500, MaxDrivers: 8, RideShare: 0.5, RideLength: 3 * time.Second, RideStep: time.Second, Seed: 9}
	if err != nil || o.lib.Scenario != loadtest.Geo || g != want {
		t.Fatalf("geo options %+v, %v; want %+v", g, err, want)
	}
}

func TestBenchGeoRefuses(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"geo", "--center", "north"}, "--center"},
		{[]string{"geo", "--slo", "p99<10ms"}, "--slo"},
		{[]string{"geo", "--markdown", "-"}, "--markdown"},
		{[]string{"geo", "--procs", "2"}, "one process"},
	} {
		code, _, errOut := execBench(t, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("bench %v: exit %d, %q; want 2 naming %s", tt.args, code, errOut, tt.want)
		}
	}
}

// TestBenchGeoRuns runs the geo scenario against a real hub and reads its
// JSON report.
func TestBenchGeoRuns(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	url := hubtest.Start(t).URL
	code, out, errOut := execBench(t, "geo", "--target", url, "--drivers", "60", "--users", "2", "--rate", "10",
		"--duration", "1s", "--drain", "2s", "--area-km", "5", "--position-every", "1s", "--ride-share", "0.5",
		"--ride-length", "1500ms", "--ride-step", "1100ms", "--seed", "3", "--json", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r loadtest.GeoReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	if !r.Held || r.Orders.Created != 10 || r.Dispatch.Received == 0 || !strings.Contains(errOut, "HELD") {
		t.Fatalf("report %+v; stderr %s", r, errOut)
	}
}
