package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taxi-hub/taxi/contract"
)

// GeoOptions are the geo scenario's own settings: where the drivers are,
// how often they report, and how orders are dispatched. The zero value of a
// field means its default.
type GeoOptions struct {
	// Center is the middle of the square area drivers and pickups are
	// spread over; default Berlin (52.52, 13.405).
	Center contract.Point `json:"center"`
	// AreaKM is the side of that square in kilometres; default 20.
	AreaKM float64 `json:"area_km"`
	// PositionEvery is how often each driver sends its position; default
	// 5 s. Drivers' sends are spread evenly over the period.
	PositionEvery time.Duration `json:"position_every"`
	// RadiusM is every order's radius_m; default 2000.
	RadiusM float64 `json:"radius_m"`
	// MaxDrivers is every order's max_drivers; 0 sends none.
	MaxDrivers int `json:"max_drivers"`
	// RideShare is the share of orders the nearest offered driver accepts
	// and drives, sending a position every RideStep until RideLength has
	// passed and then completing the order; default 0.1, negative for none.
	RideShare float64 `json:"ride_share"`
	// RideLength is how long a ride lasts; default 5 s.
	RideLength time.Duration `json:"ride_length"`
	// RideStep is the period of a driver's positions during a ride;
	// default 1.2 s, a little over the hub's one driver_location a second.
	RideStep time.Duration `json:"ride_step"`
	// Seed makes the positions and pickups of a run repeatable; 0 draws
	// one.
	Seed uint64 `json:"seed"`
}

// Defaults of GeoOptions.
const (
	DefaultGeoAreaKM        = 20
	DefaultGeoPositionEvery = 5 * time.Second
	DefaultGeoRadiusM       = 2000
	DefaultGeoRideShare     = 0.1
	DefaultGeoRideLength    = 5 * time.Second
	DefaultGeoRideStep      = 1200 * time.Millisecond
)

// geoEdgeM is how close to the edge of an order's radius (or to the
// distance of its last driver, under max_drivers) a driver may be and count
// as uncertain: neither a miss nor a stray. Redis stores positions to about
// 0.6 m.
const geoEdgeM = 2

func (g GeoOptions) withDefaults() GeoOptions {
	if g.Center == (contract.Point{}) {
		g.Center = contract.Point{Lat: 52.52, Lng: 13.405}
	}
	if g.AreaKM == 0 {
		g.AreaKM = DefaultGeoAreaKM
	}
	if g.PositionEvery == 0 {
		g.PositionEvery = DefaultGeoPositionEvery
	}
	if g.RadiusM == 0 {
		g.RadiusM = DefaultGeoRadiusM
	}
	if g.RideShare == 0 {
		g.RideShare = DefaultGeoRideShare
	}
	if g.RideLength == 0 {
		g.RideLength = DefaultGeoRideLength
	}
	if g.RideStep == 0 {
		g.RideStep = DefaultGeoRideStep
	}
	if g.Seed == 0 {
		g.Seed = rand.Uint64()
	}
	return g
}

func (g GeoOptions) validate() error {
	var errs []error
	if err := g.Center.ValidateGeo(); err != nil {
		errs = append(errs, fmt.Errorf("center: %w", err))
	}
	if g.AreaKM <= 0 || g.AreaKM > 2000 {
		errs = append(errs, fmt.Errorf("area %g km: want above 0 and at most 2000", g.AreaKM))
	}
	if g.PositionEvery < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("position every %s: want at least 10ms", g.PositionEvery))
	}
	if g.RadiusM <= 0 || g.RadiusM > 100000 {
		errs = append(errs, fmt.Errorf("radius %g m: want above 0 and at most 100000", g.RadiusM))
	}
	if g.MaxDrivers < 0 {
		errs = append(errs, fmt.Errorf("max drivers %d: want 0 (none) or more", g.MaxDrivers))
	}
	if g.RideShare > 1 {
		errs = append(errs, fmt.Errorf("ride share %g: want at most 1", g.RideShare))
	}
	if g.RideLength < 0 || g.RideStep <= 0 {
		errs = append(errs, errors.New("ride length and step must be positive"))
	}
	return errors.Join(errs...)
}

// GeoBench runs the geo scenario: drivers at random positions over an area
// send positions at a set rate; orders at random pickups go out with a
// radius; bench knows every driver's position, so it knows which drivers
// each order must reach and checks that exactly those got it, once. A share
// of the orders is driven to completion while the rider times its
// driver_location frames. It runs in one process.
type GeoBench struct {
	opts Options
	geo  GeoOptions
	api  *hubAPI
	// dialer opens the feeds; WebSocket dials take their connections over.
	dialer *http.Client

	drivers []*geoDriver
	riders  []*geoRider
	grid    *driverGrid

	life   context.Context // ends every feed's reader and sender
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	orders map[string]*geoOrder
	rides  map[string]*geoRide

	newOrderLat, trackLat      *recorder
	positionsSent, positionErr atomic.Int64
	ridePositions              atomic.Int64
	sentAtStart                int64 // positionsSent when the measured part began
	created, failed, frames    atomic.Int64
	dropped                    atomic.Int64
	errors                     errorCounts
	limit                      FileLimit
	measured                   time.Duration // the orders' part of the run
	phase                      atomic.Value  // string: what the run is doing now

	report *GeoReport
}

// NewGeo checks opts and geo and prepares a geo run; nothing is contacted
// yet. Of opts it uses Targets, OrdersVia, Drivers, Users, Rate, Duration,
// Drain, ConnectRate, Timeout, MaxInFlight, AuthSecret, RunID and Logger.
func NewGeo(opts Options, geo GeoOptions) (*GeoBench, error) {
	opts.Scenario = Geo
	opts = opts.withDefaults()
	geo = geo.withDefaults()
	if opts.RunID == "" {
		opts.RunID = newRunID()
	}
	errs := []error{geo.validate()}
	if opts.Drivers < 1 || opts.Drivers+opts.riders() > maxClients {
		errs = append(errs, fmt.Errorf("drivers %d and users %d: want at least 1 driver and at most %d clients", opts.Drivers, opts.Users, maxClients))
	}
	if opts.Users < 1 {
		errs = append(errs, errors.New("users: the geo scenario needs rider feeds"))
	}
	if opts.Procs > 1 {
		errs = append(errs, errors.New("procs: the geo scenario runs in one process"))
	}
	for _, t := range opts.Targets {
		if _, err := parseTarget(t); err != nil {
			errs = append(errs, err)
		}
	}
	if opts.Rate < 0 || opts.Rate > 10000 || opts.Duration <= 0 {
		errs = append(errs, fmt.Errorf("rate %g for %s: want 0 to 10000 orders/s for a positive duration", opts.Rate, opts.Duration))
	}
	if opts.AuthSecret != "" {
		if err := contract.CheckSecret(opts.AuthSecret); err != nil {
			errs = append(errs, fmt.Errorf("auth secret: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("geo bench options: %w", err)
	}
	for i, t := range opts.Targets {
		u, _ := parseTarget(t)
		opts.Targets[i] = u.String()
	}
	m := newMinter(opts.AuthSecret, tokenTTL(opts))
	b := &GeoBench{
		opts:        opts,
		geo:         geo,
		api:         newHubAPI(m, opts.Timeout, min(opts.MaxInFlight, 512)),
		dialer:      dialClientFor(nil, opts.Timeout),
		orders:      make(map[string]*geoOrder),
		rides:       make(map[string]*geoRide),
		newOrderLat: newRecorder(),
		trackLat:    newRecorder(),
	}
	b.phase.Store(PhasePrepare)
	b.place()
	return b, nil
}

// Options returns the run's options with every default filled in.
func (b *GeoBench) Options() (Options, GeoOptions) { return b.opts, b.geo }

// Report returns the report of a finished Run; nil before.
func (b *GeoBench) Report() *GeoReport { return b.report }

// GeoProgress is a running geo run's counters, for progress lines.
type GeoProgress struct {
	Phase     string // PhasePrepare, PhaseRamp, PhaseRun, PhaseDrain or PhaseFinish
	Drivers   int64  // driver feeds open
	Positions int64  // positions sent
	Orders    int64  // orders created
	Frames    int64  // frames received
}

// Progress returns the run's counters now; safe while Run runs.
func (b *GeoBench) Progress() GeoProgress {
	p := GeoProgress{Positions: b.positionsSent.Load(), Orders: b.created.Load(), Frames: b.frames.Load()}
	p.Phase, _ = b.phase.Load().(string)
	for _, d := range b.drivers {
		if d.feed() != nil {
			p.Drivers++
		}
	}
	return p
}

// Run runs the scenario to its end, or until ctx ends, and returns its
// report (also kept for Report). Every goroutine it starts has ended when it
// returns, and the orders it created are completed or cancelled.
func (b *GeoBench) Run(ctx context.Context) *GeoReport {
	o, g := b.opts, b.geo
	r := &GeoReport{RunID: o.RunID, StartedAt: time.Now(), Options: o.redacted(), Geo: g, Machine: machine(1), Errors: map[string]int64{}}
	cpu0 := cpuTime()
	var err error
	if b.limit, err = raiseFileLimit(o.Drivers + o.riders()); err != nil {
		r.Notes = append(r.Notes, err.Error())
	} else if b.limit.Warning != "" {
		r.Notes = append(r.Notes, b.limit.Warning)
	}
	before := b.readStats(ctx)
	b.life, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	b.phase.Store(PhaseRamp)
	b.ramp(ctx)
	if err := b.waitPositions(ctx, before); err != nil {
		r.Notes = append(r.Notes, err.Error())
	}
	// Positions flow from here to the end, for the whole measured part.
	var senders sync.WaitGroup
	sendCtx, stopSending := context.WithCancel(ctx)
	senders.Go(func() { b.sendPositions(sendCtx) })
	stats0 := b.readStats(ctx)
	start := time.Now()
	b.sentAtStart = b.positionsSent.Load()
	b.phase.Store(PhaseRun)
	b.sendOrders(ctx)
	b.phase.Store(PhaseDrain)
	b.drain(ctx)
	b.measured = time.Since(start)
	stats1 := b.readStats(context.WithoutCancel(ctx))
	stopSending()
	senders.Wait()
	b.phase.Store(PhaseFinish)
	b.closeFeeds()
	b.cleanup(context.WithoutCancel(ctx))
	r.FinishedAt = time.Now()
	r.Seconds = r.FinishedAt.Sub(r.StartedAt).Seconds()
	r.Interrupted = ctx.Err() != nil
	b.fill(r, stats0, stats1, cpuTime()-cpu0)
	b.report = r
	return r
}

// readStats reads every target's /ws/stats; a target that does not answer
// is missing from the result.
func (b *GeoBench) readStats(ctx context.Context) map[string]*HubStats {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out := make(map[string]*HubStats, len(b.opts.Targets))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, base := range b.opts.Targets {
		wg.Go(func() {
			s, err := fetchStats(ctx, b.api.client, base)
			if err != nil {
				b.errors.add(kindStats, 1)
				return
			}
			mu.Lock()
			out[base] = s
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// place gives every driver its position, uniformly over the area, and
// indexes them for the expected sets.
func (b *GeoBench) place() {
	o, g := b.opts, b.geo
	rng := rand.New(rand.NewPCG(g.Seed, 1))
	b.drivers = make([]*geoDriver, o.Drivers)
	for i := range b.drivers {
		b.drivers[i] = &geoDriver{index: i, id: driverID(o.RunID, i), base: o.Targets[i%len(o.Targets)],
			pos: b.randomPoint(rng)}
	}
	b.riders = make([]*geoRider, o.riders())
	for i := range b.riders {
		b.riders[i] = &geoRider{index: i, id: userID(o.RunID, i), base: o.Targets[(o.Drivers+i)%len(o.Targets)]}
	}
	b.grid = newDriverGrid(b.drivers, g.Center, g.RadiusM)
}

// randomPoint is a uniform point of the area.
func (b *GeoBench) randomPoint(rng *rand.Rand) contract.Point {
	half := b.geo.AreaKM * 500
	return offsetPoint(b.geo.Center, (rng.Float64()*2-1)*half, (rng.Float64()*2-1)*half)
}

// offsetPoint returns the point north and east metres from p.
func offsetPoint(p contract.Point, north, east float64) contract.Point {
	const degPerM = 180 / math.Pi / contract.EarthRadiusM
	lat := p.Lat + north*degPerM
	return contract.Point{Lat: lat, Lng: p.Lng + east*degPerM/math.Cos(lat*math.Pi/180)}
}

// ramp opens every driver's and rider's feed at ConnectRate; each driver
// sends its first position as soon as its feed is open.
func (b *GeoBench) ramp(ctx context.Context) {
	total := len(b.drivers) + len(b.riders)
	start := time.Now()
	sem := make(chan struct{}, maxDialsInFlight)
	var dials sync.WaitGroup
	defer dials.Wait()
	for k := range total {
		if wait := time.Duration(float64(k)/b.opts.ConnectRate*1e9) - time.Since(start); wait > 0 {
			sleep(ctx, wait)
		}
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		dials.Go(func() {
			defer func() { <-sem }()
			if k < len(b.drivers) {
				b.connectDriver(ctx, b.drivers[k])
			} else {
				b.connectRider(ctx, b.riders[k-len(b.drivers)])
			}
		})
	}
}

// waitPositions waits until the hubs have recorded a position for every
// connected driver, so that the first order finds them all.
func (b *GeoBench) waitPositions(ctx context.Context, before map[string]*HubStats) error {
	var want int64
	for _, d := range b.drivers {
		if d.feed() != nil {
			want++
		}
	}
	deadline := time.Now().Add(30*time.Second + time.Duration(want)*time.Millisecond)
	for {
		var got int64
		for base, s := range b.readStats(ctx) {
			got += s.Counters.PositionsReceived
			if s0 := before[base]; s0 != nil {
				got -= s0.Counters.PositionsReceived
			}
		}
		if got >= want {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("the hubs recorded %d of %d first positions before the orders began", got, want)
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

// sendPositions sends each free driver's position every PositionEvery,
// spread evenly over the period, until ctx ends.
func (b *GeoBench) sendPositions(ctx context.Context) {
	every := b.geo.PositionEvery
	n := len(b.drivers)
	const tick = 20 * time.Millisecond
	work := make(chan *geoDriver, 1024)
	var senders sync.WaitGroup
	for range 32 {
		senders.Go(func() {
			for d := range work {
				b.sendPosition(d, d.position())
			}
		})
	}
	defer senders.Wait()
	defer close(work)
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	next := 0 // drivers due so far, over every period
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		due := int(float64(time.Since(start)) / float64(every) * float64(n))
		for ; next < due; next++ {
			d := b.drivers[next%n]
			if d.feed() == nil || d.riding.Load() {
				continue
			}
			select {
			case work <- d:
			case <-ctx.Done():
				return
			}
		}
	}
}

// sendPosition sends p on d's feed.
func (b *GeoBench) sendPosition(d *geoDriver, p contract.Point) {
	if err := d.send(b.life, locationFrame(p), b.opts.Timeout); err != nil {
		b.positionErr.Add(1)
		b.errors.addErr(err)
		return
	}
	b.positionsSent.Add(1)
}

// sendOrders creates orders at Rate for Duration, open loop: order i is
// sent at start+i/Rate whatever became of the orders before it.
func (b *GeoBench) sendOrders(ctx context.Context) {
	o := b.opts
	total := int64(o.Rate * o.Duration.Seconds())
	rng := rand.New(rand.NewPCG(b.geo.Seed, 2))
	pickups := make([]contract.Point, total)
	for i := range pickups {
		pickups[i] = b.randomPoint(rng)
	}
	var reqs sync.WaitGroup
	defer reqs.Wait()
	var inFlight atomic.Int64
	start := time.Now()
	startNS := monoNow()
	for i := range total {
		at := time.Duration(float64(i) / o.Rate * float64(time.Second))
		if wait := at - time.Since(start); wait > 0 {
			sleep(ctx, wait)
		}
		if ctx.Err() != nil {
			return
		}
		if inFlight.Load() >= int64(o.MaxInFlight) {
			b.failed.Add(1)
			b.errors.add(kindSaturated, 1)
			continue
		}
		inFlight.Add(1)
		reqs.Go(func() {
			defer inFlight.Add(-1)
			b.createOrder(ctx, i, startNS+int64(at), pickups[i])
		})
	}
}

// createOrder creates order i at pickup, due at due (monotonic ns), and
// records whom it must reach.
func (b *GeoBench) createOrder(ctx context.Context, i, due int64, pickup contract.Point) {
	o, g := b.opts, b.geo
	rider := b.riders[i%int64(len(b.riders))]
	base := o.Targets[0]
	if o.OrdersVia == OrdersViaAll {
		base = o.Targets[i%int64(len(o.Targets))]
	}
	body := map[string]any{"user_id": rider.id, "pickup": pickup, "dropoff": offsetPoint(pickup, 1500, 1500), "radius_m": g.RadiusM}
	if g.MaxDrivers > 0 {
		body["max_drivers"] = g.MaxDrivers
	}
	var out struct {
		OrderID string `json:"order_id"`
		Offered *int   `json:"offered"`
	}
	if err := b.api.do(ctx, "create order", base+"/orders", roleUser, rider.id, body, &out); err != nil {
		b.failed.Add(1)
		b.errors.addErr(err)
		return
	}
	b.created.Add(1)
	want, edge := b.grid.expected(pickup, g.RadiusM, g.MaxDrivers)
	ord := b.order(out.OrderID)
	ord.mu.Lock()
	ord.registered, ord.due, ord.base, ord.rider = true, due, base, rider
	ord.want, ord.edge = want, edge
	if out.Offered != nil {
		ord.offered = *out.Offered
	}
	for idx, at := range ord.got {
		if _, ok := want[idx]; ok {
			b.newOrderLat.record(idx, time.Duration(at-due))
		}
	}
	ord.mu.Unlock()
	if g.RideShare > 0 && i%int64(math.Round(1/g.RideShare)) == 0 {
		b.startRide(ord, pickup)
	}
}

// order returns the record of order id, made by whichever of its creation
// and its first delivery comes first.
func (b *GeoBench) order(id string) *geoOrder {
	b.mu.Lock()
	defer b.mu.Unlock()
	ord := b.orders[id]
	if ord == nil {
		ord = &geoOrder{id: id, got: make(map[int]int64)}
		b.orders[id] = ord
	}
	return ord
}

// delivered records that driver d received new_order id at at.
func (b *GeoBench) delivered(d *geoDriver, id string, at int64) {
	ord := b.order(id)
	ord.mu.Lock()
	defer ord.mu.Unlock()
	if _, dup := ord.got[d.index]; dup {
		ord.duplicates++
		return
	}
	ord.got[d.index] = at
	if _, ok := ord.want[d.index]; ok && ord.registered {
		b.newOrderLat.record(d.index, time.Duration(at-ord.due))
	}
}

// drain waits, at most Options.Drain after the last order (and the rides'
// length), until every expected delivery has arrived and every ride ended.
func (b *GeoBench) drain(ctx context.Context) {
	deadline := time.Now().Add(b.opts.Drain + b.geo.RideLength + b.opts.Timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if b.pending() == 0 {
			return
		}
		sleep(ctx, 20*time.Millisecond)
	}
}

// pending counts the expected deliveries not yet received and the rides
// not yet ended.
func (b *GeoBench) pending() int {
	b.mu.Lock()
	orders := make([]*geoOrder, 0, len(b.orders))
	for _, ord := range b.orders {
		orders = append(orders, ord)
	}
	n := 0
	for _, rd := range b.rides {
		if !rd.ended() {
			n++
		}
	}
	b.mu.Unlock()
	for _, ord := range orders {
		ord.mu.Lock()
		for idx := range ord.want {
			if _, ok := ord.got[idx]; !ok && b.drivers[idx].feed() != nil {
				n++
			}
		}
		ord.mu.Unlock()
	}
	return n
}

// closeFeeds ends every feed and waits for their readers.
func (b *GeoBench) closeFeeds() {
	closeClients(b.allFeeds())
	b.cancel()
	b.wg.Wait()
}

// allFeeds returns every open feed of the run.
func (b *GeoBench) allFeeds() []*client {
	var out []*client
	for _, d := range b.drivers {
		if c := d.feed(); c != nil {
			out = append(out, c)
		}
	}
	for _, r := range b.riders {
		if c := r.feed(); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// cleanup cancels the run's orders nobody accepted, so that no hub offers
// them to drivers who connect later.
func (b *GeoBench) cleanup(ctx context.Context) {
	b.mu.Lock()
	byRider := make(map[string][]createdOrder)
	for _, ord := range b.orders {
		if ord.registered && b.rides[ord.id] == nil {
			byRider[ord.rider.id] = append(byRider[ord.rider.id], createdOrder{id: ord.id, user: ord.rider.id, base: ord.base})
		}
	}
	b.mu.Unlock()
	cancelAll(ctx, b.api, byRider, func(cancelled bool) {
		if !cancelled {
			b.errors.add("left_open", 1)
		}
	})
}
