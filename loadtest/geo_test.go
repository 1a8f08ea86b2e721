package loadtest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/contract"
	"github.com/taxi-hub/taxi/internal/redistest"
	"github.com/taxi-hub/taxi/server"
)

// quickGeo is a geo run of a few seconds over a small city.
func quickGeo(urls ...string) (Options, GeoOptions) {
	o := Options{Targets: urls, OrdersVia: OrdersViaAll, Drivers: 150, Users: 4, Rate: 15, Duration: 2 * time.Second,
		Drain: 3 * time.Second, ConnectRate: 2000, Timeout: 5 * time.Second}
	g := GeoOptions{AreaKM: 8, PositionEvery: time.Second, RadiusM: 1500, RideShare: 0.25,
		RideLength: 2500 * time.Millisecond, RideStep: 1100 * time.Millisecond, Seed: 7}
	return o, g
}

func runGeo(t *testing.T, o Options, g GeoOptions) *GeoReport {
	t.Helper()
	b, err := NewGeo(o, g)
	if err != nil {
		t.Fatal(err)
	}
	r := b.Run(t.Context())
	var text bytes.Buffer
	if err := GeoTextReporter(r)(&text); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + text.String())
	return r
}

// checkGeo asserts that the run held: every order reached exactly the
// drivers within its radius, rides were tracked at most once a second and
// not after completion.
func checkGeo(t *testing.T, r *GeoReport) {
	t.Helper()
	d, rides := r.Dispatch, r.Rides
	if !r.Held || r.Orders.Created == 0 || r.Orders.Failed != 0 || d.Expected == 0 || d.Missed != 0 || d.Strays != 0 || d.Duplicates != 0 {
		t.Fatalf("orders %+v, dispatch %+v: want every expected delivery and no other (errors %v)", r.Orders, d, r.Errors)
	}
	if r.Orders.OfferedOff != 0 {
		t.Errorf("%d orders offered to another number of drivers than bench reckons", r.Orders.OfferedOff)
	}
	if d.PerOrder >= float64(r.Drivers.Connected)/2 {
		t.Errorf("%.1f deliveries per order among %d drivers: radius orders should reach few", d.PerOrder, r.Drivers.Connected)
	}
	if rides.Started == 0 || rides.Completed != rides.Started || rides.Frames == 0 || rides.Late != 0 || rides.TooFrequent != 0 {
		t.Errorf("rides %+v: want every ride tracked and completed", rides)
	}
	if d.NewOrder.Count != d.Expected || rides.DriverLocation.Count == 0 {
		t.Errorf("latencies: new_order %d of %d, driver_location %d", d.NewOrder.Count, d.Expected, rides.DriverLocation.Count)
	}
	if r.Positions.Hub == 0 || r.Server.CPUSeconds <= 0 || r.Server.CPUPerOrderMs <= 0 {
		t.Errorf("positions %+v, server %+v: want the hubs' side measured", r.Positions, r.Server)
	}
	if len(r.Errors) != 0 {
		t.Errorf("errors %v", r.Errors)
	}
}

func TestGeoMemory(t *testing.T) {
	url := startNode(t, server.Config{NodeID: "n1", AuthSecret: testSecret})
	o, g := quickGeo(url)
	o.AuthSecret = testSecret
	checkGeo(t, runGeo(t, o, g))
}

func TestGeoThreeNodesOnRedis(t *testing.T) {
	rds := redistest.Start(t)
	var urls []string
	for _, id := range []string{"n1", "n2", "n3"} {
		urls = append(urls, startNode(t, server.Config{NodeID: id, Insecure: true, RedisURL: rds.URL()}))
	}
	o, g := quickGeo(urls...)
	g.MaxDrivers = 4
	r := runGeo(t, o, g)
	checkGeo(t, r)
	if r.Orders.OfferedMean > 4 {
		t.Errorf("offered %.1f on average with max_drivers 4", r.Orders.OfferedMean)
	}
}

// TestGeoCountsMissesAndStrays: the accounting is not a rubber stamp.
func TestGeoCountsMissesAndStrays(t *testing.T) {
	b, err := NewGeo(Options{Drivers: 4, Users: 1}, GeoOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b.drivers = nil
	at := func(north float64) *geoDriver {
		d := &geoDriver{index: len(b.drivers), pos: offsetPoint(b.geo.Center, north, 0)}
		b.drivers = append(b.drivers, d)
		return d
	}
	// Drivers 100 m, 1999 m (at the edge), 900 m and 3 km north; radius 2 km.
	near, edge, mid, far := at(100), at(1999), at(900), at(3000)
	b.grid = newDriverGrid(b.drivers, b.geo.Center, b.geo.RadiusM)
	want, onEdge := b.grid.expected(b.geo.Center, b.geo.RadiusM, 0)
	if len(want) != 2 || len(onEdge) != 1 {
		t.Fatalf("want %v, edge %v: want near and mid, and the driver at 1999 m on the edge", want, onEdge)
	}
	if w, _ := b.grid.expected(b.geo.Center, b.geo.RadiusM, 1); len(w) != 1 {
		t.Fatalf("max_drivers 1: want %v", w)
	}
	ord := b.order("o1")
	ord.registered, ord.want, ord.edge, ord.offered = true, want, onEdge, 2
	b.delivered(near, "o1", 1)
	b.delivered(near, "o1", 2) // a duplicate
	b.delivered(edge, "o1", 3) // either way
	b.delivered(far, "o1", 4)  // a stray
	_ = mid                    // missed
	b.created.Store(1)
	r := &GeoReport{}
	b.fill(r, nil, nil, 0)
	d := r.Dispatch
	if d.Expected != 2 || d.Missed != 1 || d.Strays != 1 || d.Duplicates != 1 || d.Edge != 1 || r.Held {
		t.Fatalf("dispatch %+v, held %v", d, r.Held)
	}
}

func TestGeoOptionsRefused(t *testing.T) {
	for _, tt := range []struct {
		o    Options
		g    GeoOptions
		want string
	}{
		{Options{Users: -1}, GeoOptions{}, "rider feeds"},
		{Options{Procs: 2}, GeoOptions{}, "one process"},
		{Options{}, GeoOptions{RadiusM: -1}, "radius"},
		{Options{}, GeoOptions{Center: contract.Point{Lat: 89, Lng: 0}}, "center"},
		{Options{}, GeoOptions{RideShare: 2}, "ride share"},
	} {
		if _, err := NewGeo(tt.o, tt.g); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewGeo(%+v, %+v) = %v, want an error about %s", tt.o, tt.g, err, tt.want)
		}
	}
	if _, err := New(Options{Scenario: Geo}); err == nil {
		t.Error("New runs the geo scenario")
	}
}
