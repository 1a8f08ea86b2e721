package loadtest

import (
	"io"
	"time"
)

// GeoReport is every figure of a geo run: what --json writes for it;
// docs/bench.md documents each field. Latencies are in milliseconds, CPU in
// seconds, rates per second over the measured part (from the first order to
// the end of the drain).
type GeoReport struct {
	RunID       string     `json:"run_id"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  time.Time  `json:"finished_at"`
	Seconds     float64    `json:"seconds"`
	Interrupted bool       `json:"interrupted"`
	Machine     Machine    `json:"machine"`
	Options     Options    `json:"options"`
	Geo         GeoOptions `json:"geo"`
	// MeasuredSeconds is the measured part's length.
	MeasuredSeconds float64 `json:"measured_seconds"`

	Drivers   GeoFeeds     `json:"drivers"`
	Riders    GeoFeeds     `json:"riders"`
	Positions GeoPositions `json:"positions"`
	Orders    GeoOrders    `json:"orders"`
	Dispatch  GeoDispatch  `json:"dispatch"`
	Rides     GeoRides     `json:"rides"`
	Server    GeoServer    `json:"server"`

	BenchCPUSeconds float64          `json:"bench_cpu_seconds"`
	FileLimit       FileLimit        `json:"file_limit"`
	Errors          map[string]int64 `json:"errors"`
	// Held is true when the run measured what it checks and found no miss,
	// stray, duplicate, late or too frequent frame.
	Held  bool     `json:"held"`
	Notes []string `json:"notes,omitempty"`
}

// GeoFeeds counts one kind of feed.
type GeoFeeds struct {
	Planned   int64 `json:"planned"`
	Connected int64 `json:"connected"` // open at the end of the ramp
	Dropped   int64 `json:"dropped"`   // closed by a hub during the run
}

// GeoPositions counts drivers' positions.
type GeoPositions struct {
	Sent    int64   `json:"sent"` // the first ones, before the orders, included
	Failed  int64   `json:"failed"`
	PerSec  float64 `json:"per_second"`    // sent during the measured part
	Every   float64 `json:"every_seconds"` // GeoOptions.PositionEvery
	Rides   int64   `json:"in_rides"`      // sent by drivers serving a ride (in Sent)
	Hub     int64   `json:"hub_recorded"`  // the hubs' positions_received over the measured part
	HubRate float64 `json:"hub_recorded_per_second"`
}

// GeoOrders counts orders and what the hubs answered.
type GeoOrders struct {
	Created int64 `json:"created"`
	Failed  int64 `json:"failed"`
	// OfferedMean is the mean of the hubs' offered; OfferedOff counts
	// orders whose offered lies outside what bench expects.
	OfferedMean float64 `json:"offered_mean"`
	OfferedOff  int64   `json:"offered_off"`
}

// GeoDispatch is who got which new_order.
type GeoDispatch struct {
	// Expected deliveries: drivers within the radius (and among the
	// nearest max_drivers) of each order, bench's own reckoning.
	Expected int64 `json:"expected"`
	Received int64 `json:"received"` // new_order frames received
	// Missed: expected and never received. Strays: received by a driver
	// outside the radius. Duplicates: received twice. Edge: drivers too
	// close to the radius (or the max_drivers cut) to call, either way.
	Missed     int64   `json:"missed"`
	Strays     int64   `json:"strays"`
	Duplicates int64   `json:"duplicates"`
	Edge       int64   `json:"edge"`
	PerOrder   float64 `json:"deliveries_per_order"`
	// NewOrder is new_order delivery latency from the instant the order
	// was due (open loop).
	NewOrder Latency `json:"new_order_latency"`
}

// GeoRides is the tracking of the orders driven to completion.
type GeoRides struct {
	Started   int64 `json:"started"`
	Completed int64 `json:"completed"` // order_completed reached the rider
	Failed    int64 `json:"failed"`
	// Frames counts driver_location frames riders received; Untracked
	// rides got none; Late frames came after order_completed; TooFrequent
	// counts pairs of frames of one ride under 900 ms apart.
	Frames      int64 `json:"driver_location_frames"`
	Untracked   int64 `json:"untracked"`
	Late        int64 `json:"late"`
	TooFrequent int64 `json:"too_frequent"`
	// DriverLocation is the delivery latency of driver_location, from the
	// driver's location frame to the rider.
	DriverLocation Latency `json:"driver_location_latency"`
}

// GeoServer is the hubs' side, summed over the targets, over the measured
// part.
type GeoServer struct {
	CPUSeconds float64 `json:"cpu_seconds"`
	// CPUPerOrderMs is CPUSeconds per order created, in milliseconds: the
	// positions the hubs absorbed meanwhile included.
	CPUPerOrderMs float64 `json:"cpu_per_order_ms"`
	FramesSent    int64   `json:"frames_sent"`
	Tracking      int64   `json:"tracking_frames"`
	Targets       int     `json:"targets_read"`
}

// fill computes the report from what the run recorded.
func (b *GeoBench) fill(r *GeoReport, stats0, stats1 map[string]*HubStats, cpu time.Duration) {
	o, g := b.opts, b.geo
	secs := b.measured.Seconds()
	r.MeasuredSeconds = secs
	r.BenchCPUSeconds = cpu.Seconds()
	r.FileLimit = b.limit
	r.Drivers = GeoFeeds{Planned: int64(o.Drivers), Dropped: b.dropped.Load()}
	for _, d := range b.drivers {
		if d.feed() != nil {
			r.Drivers.Connected++
		}
	}
	r.Riders.Planned = int64(len(b.riders))
	for _, rd := range b.riders {
		if rd.feed() != nil {
			r.Riders.Connected++
		}
	}
	r.Positions = GeoPositions{Sent: b.positionsSent.Load(), Failed: b.positionErr.Load(), Every: g.PositionEvery.Seconds()}
	for base, s1 := range stats1 {
		s0 := stats0[base]
		if s0 == nil {
			continue
		}
		r.Server.Targets++
		r.Positions.Hub += s1.Counters.PositionsReceived - s0.Counters.PositionsReceived
		r.Server.CPUSeconds += s1.CPUSeconds - s0.CPUSeconds
		r.Server.FramesSent += s1.Counters.FramesSent - s0.Counters.FramesSent
		r.Server.Tracking += s1.Counters.TrackingFrames - s0.Counters.TrackingFrames
	}
	r.Positions.Rides = b.ridePositions.Load()
	if secs > 0 {
		r.Positions.PerSec = float64(r.Positions.Sent-b.sentAtStart) / secs
		r.Positions.HubRate = float64(r.Positions.Hub) / secs
	}
	r.Orders = GeoOrders{Created: b.created.Load(), Failed: b.failed.Load()}
	if r.Orders.Created > 0 {
		r.Server.CPUPerOrderMs = r.Server.CPUSeconds * 1000 / float64(r.Orders.Created)
	}
	b.fillDispatch(r)
	b.fillRides(r)
	r.Errors = b.errors.snapshot()
	if r.Errors == nil {
		r.Errors = map[string]int64{}
	}
	d, rides := r.Dispatch, r.Rides
	r.Held = !r.Interrupted && r.Orders.Created > 0 && d.Received > 0 && d.Missed == 0 && d.Strays == 0 &&
		d.Duplicates == 0 && rides.Late == 0 && rides.TooFrequent == 0 && rides.Untracked == 0 && rides.Failed == 0
}

func (b *GeoBench) fillDispatch(r *GeoReport) {
	b.mu.Lock()
	orders := make([]*geoOrder, 0, len(b.orders))
	for _, ord := range b.orders {
		orders = append(orders, ord)
	}
	b.mu.Unlock()
	d := &r.Dispatch
	var offered int64
	for _, ord := range orders {
		ord.mu.Lock()
		if !ord.registered {
			// Delivered, but its creation never answered: bench cannot
			// say to whom it was due.
			d.Received += int64(len(ord.got))
			ord.mu.Unlock()
			continue
		}
		offered += int64(ord.offered)
		if ord.offered < len(ord.want) || ord.offered > len(ord.want)+len(ord.edge) {
			r.Orders.OfferedOff++
		}
		d.Expected += int64(len(ord.want))
		d.Edge += int64(len(ord.edge))
		d.Duplicates += int64(ord.duplicates)
		d.Received += int64(len(ord.got)) + int64(ord.duplicates)
		for idx := range ord.want {
			if _, ok := ord.got[idx]; !ok {
				d.Missed++
			}
		}
		for idx := range ord.got {
			_, w := ord.want[idx]
			_, e := ord.edge[idx]
			if !w && !e {
				d.Strays++
			}
		}
		ord.mu.Unlock()
	}
	if n := r.Orders.Created; n > 0 {
		r.Orders.OfferedMean = float64(offered) / float64(n)
		d.PerOrder = float64(d.Received) / float64(n)
	}
	d.NewOrder = summarize(b.newOrderLat.snapshot())
}

func (b *GeoBench) fillRides(r *GeoReport) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rs := &r.Rides
	for _, rd := range b.rides {
		rd.mu.Lock()
		rs.Started++
		switch {
		case rd.failure != "":
			rs.Failed++
			b.errors.add("ride_"+rd.failure, 1)
		case rd.completed:
			rs.Completed++
		default:
			rs.Failed++
			b.errors.add("ride_completion_not_heard", 1)
		}
		rs.Frames += int64(len(rd.updated))
		rs.Late += int64(rd.late)
		if len(rd.updated) == 0 && rd.failure == "" {
			rs.Untracked++
		}
		for i := 1; i < len(rd.updated); i++ {
			if rd.updated[i].Sub(rd.updated[i-1]) < 900*time.Millisecond {
				rs.TooFrequent++
			}
		}
		rd.mu.Unlock()
	}
	rs.DriverLocation = summarize(b.trackLat.snapshot())
}

// GeoJSONReporter writes r as indented JSON.
func GeoJSONReporter(r *GeoReport) Reporter { return jsonReporter(r) }

// GeoTextReporter writes the summary a person reads at the end of a geo
// run.
func GeoTextReporter(r *GeoReport) Reporter {
	return func(w io.Writer) error {
		ew := &errWriter{w: w}
		o, g := r.Options, r.Geo
		verdict := "HELD: every order reached exactly the drivers within its radius, once; tracking stopped at completion"
		if !r.Held {
			verdict = "NOT HELD"
		}
		ew.printf("geo: %s drivers over %g × %g km around %.4f,%.4f, a position every %s, %g orders/s with radius %g m",
			count(r.Drivers.Connected), g.AreaKM, g.AreaKM, g.Center.Lat, g.Center.Lng, g.PositionEvery, o.Rate, g.RadiusM)
		if g.MaxDrivers > 0 {
			ew.printf(" and max_drivers %d", g.MaxDrivers)
		}
		ew.printf(", %d target(s), %.1f s measured\n", len(o.Targets), r.MeasuredSeconds)
		ew.printf("%s\n", verdict)
		ew.printf("  feeds        drivers %s/%s, riders %s/%s, dropped %s\n", count(r.Drivers.Connected), count(r.Drivers.Planned),
			count(r.Riders.Connected), count(r.Riders.Planned), count(r.Drivers.Dropped+r.Riders.Dropped))
		p := r.Positions
		ew.printf("  positions    sent %s (%s in rides, %s failed); hubs recorded %s/s over the measured part\n",
			count(p.Sent), count(p.Rides), count(p.Failed), count(int64(p.HubRate)))
		d := r.Dispatch
		ew.printf("  orders       created %s, failed %s; offered %.1f drivers on average (%s outside bench's reckoning)\n",
			count(r.Orders.Created), count(r.Orders.Failed), r.Orders.OfferedMean, count(r.Orders.OfferedOff))
		ew.printf("  new_order    expected %s, received %s (%.1f per order), missed %s, strays %s, duplicates %s, at the edge %s\n",
			count(d.Expected), count(d.Received), d.PerOrder, count(d.Missed), count(d.Strays), count(d.Duplicates), count(d.Edge))
		ew.printf("               latency p50 %s ms, p99 %s ms, max %s ms\n", ms(d.NewOrder.P50), ms(d.NewOrder.P99), ms(d.NewOrder.Max))
		rs := r.Rides
		ew.printf("  rides        started %s, completed %s, failed %s; driver_location %s, untracked %s, late %s, too frequent %s\n",
			count(rs.Started), count(rs.Completed), count(rs.Failed), count(rs.Frames), count(rs.Untracked), count(rs.Late), count(rs.TooFrequent))
		ew.printf("               latency p50 %s ms, p99 %s ms, max %s ms\n", ms(rs.DriverLocation.P50), ms(rs.DriverLocation.P99), ms(rs.DriverLocation.Max))
		s := r.Server
		ew.printf("  hub CPU      %.2f s over %d target(s): %s ms per order (positions included)\n", s.CPUSeconds, s.Targets, ms(s.CPUPerOrderMs))
		ew.printf("  bench CPU    %.2f s\n", r.BenchCPUSeconds)
		ew.printf("  errors       %s\n", errorLine(r.Errors))
		for _, n := range r.Notes {
			ew.printf("  note: %s\n", n)
		}
		return ew.err
	}
}
