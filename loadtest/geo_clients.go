package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/taxi-hub/taxi/contract"
)

// geoDriver is one simulated driver of the geo scenario.
type geoDriver struct {
	index int
	id    string
	base  string
	conn  atomic.Pointer[client]
	// riding is set while the driver serves a ride: its positions then
	// come from the ride, not from the periodic sender.
	riding atomic.Bool

	mu  sync.Mutex
	pos contract.Point
}

func (d *geoDriver) feed() *client { return d.conn.Load() }

func (d *geoDriver) position() contract.Point {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pos
}

// send writes one frame on the driver's feed.
func (d *geoDriver) send(ctx context.Context, frame []byte, timeout time.Duration) error {
	c := d.feed()
	if c == nil {
		return fmt.Errorf("driver %s: no feed", d.id)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, frame); err != nil {
		return fmt.Errorf("send as %s: %w", d.id, err)
	}
	return nil
}

// geoRider is one simulated rider: orders are created in its name and its
// feed receives the tracking of its rides.
type geoRider struct {
	index int
	id    string
	base  string
	conn  atomic.Pointer[client]
}

func (r *geoRider) feed() *client { return r.conn.Load() }

// geoOrder is what bench knows of one order: whom it must reach (want),
// who may or may not get it (edge: drivers within geoEdgeM of the cut), and
// who got it when.
type geoOrder struct {
	id string

	mu         sync.Mutex
	registered bool  // its creation answered
	due        int64 // monotonic ns it was due at
	base       string
	rider      *geoRider
	offered    int // as the hub answered
	want, edge map[int]struct{}
	got        map[int]int64 // driver index → arrival, monotonic ns
	duplicates int
}

// geoRide is one order driven from accept to completion.
type geoRide struct {
	order  *geoOrder
	driver *geoDriver

	mu sync.Mutex
	// sent maps each position of the ride to when it was sent.
	sent map[string]int64
	// updated holds the updated_at of each driver_location received.
	updated   []time.Time
	completed bool // order_completed reached the rider
	late      int  // driver_location frames after order_completed
	done      bool // the ride's goroutine has ended
	failure   string
}

func (r *geoRide) ended() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done && (r.completed || r.failure != "")
}

func positionKey(lat, lng float64) string {
	return strconv.FormatFloat(lat, 'g', -1, 64) + "," + strconv.FormatFloat(lng, 'g', -1, 64)
}

func locationFrame(p contract.Point) []byte {
	return []byte(`{"type":"` + contract.TypeLocation + `","message":{"lat":` + strconv.FormatFloat(p.Lat, 'g', -1, 64) +
		`,"lng":` + strconv.FormatFloat(p.Lng, 'g', -1, 64) + `}}`)
}

// connectDriver opens d's feed, starts its reader and sends its first
// position.
func (b *GeoBench) connectDriver(ctx context.Context, d *geoDriver) {
	c := b.dial(ctx, roleDriver, d.id, d.base, d.index)
	if c == nil {
		return
	}
	d.conn.Store(c)
	b.wg.Go(func() { b.readFeed(c, func(fr frame, data []byte, at int64) { b.driverFrame(d, fr, data, at) }) })
	b.sendPosition(d, d.position())
}

func (b *GeoBench) connectRider(ctx context.Context, r *geoRider) {
	c := b.dial(ctx, roleUser, r.id, r.base, b.opts.Drivers+r.index)
	if c == nil {
		return
	}
	r.conn.Store(c)
	b.wg.Go(func() { b.readFeed(c, func(fr frame, data []byte, at int64) { b.riderFrame(fr, data, at) }) })
}

// dial opens one feed; nil when it failed, which is counted.
func (b *GeoBench) dial(ctx context.Context, role contract.Role, id, base string, g int) *client {
	token, err := b.api.minter.token(role, id)
	if err != nil {
		b.errors.addErr(err)
		return nil
	}
	ws, _, err := dialClient(ctx, b.dialer, base, role, id, token, "", b.opts.Timeout)
	if err != nil {
		b.errors.add("dial_"+errorKind(err), 1)
		return nil
	}
	return &client{global: g, id: id, role: role, conn: ws}
}

// readFeed hands every frame of c to handle until the feed ends; a feed
// the hub closed is counted as dropped.
func (b *GeoBench) readFeed(c *client, handle func(frame, []byte, int64)) {
	ctx := context.WithoutCancel(b.life)
	for {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			if !c.closing.Load() && b.life.Err() == nil {
				b.dropped.Add(1)
				b.errors.add("dropped_"+errorKind(err), 1)
			}
			return
		}
		at := monoNow()
		b.frames.Add(1)
		fr, ok := parseFrame(data)
		if !ok {
			b.errors.add(kindBadFrame, 1)
			continue
		}
		handle(fr, data, at)
	}
}

// driverFrame handles a frame on d's feed.
func (b *GeoBench) driverFrame(d *geoDriver, fr frame, _ []byte, at int64) {
	switch string(fr.Type) {
	case contract.TypeNewOrder:
		b.delivered(d, string(fr.OrderID), at)
	case contract.TypeAcceptResult:
		b.mu.Lock()
		rd := b.rides[string(fr.OrderID)]
		b.mu.Unlock()
		if rd != nil && rd.driver == d {
			b.accepted(rd, fr)
		}
	case contract.TypeError:
		b.errors.add(kindErrorFrame, 1)
	}
}

// riderFrame handles a frame on a rider's feed: the tracking of its rides.
func (b *GeoBench) riderFrame(fr frame, data []byte, at int64) {
	typ := string(fr.Type)
	if typ != contract.TypeDriverLocation && typ != contract.TypeOrderCompleted {
		if typ == contract.TypeError {
			b.errors.add(kindErrorFrame, 1)
		}
		return
	}
	var env struct {
		Message contract.DriverLocationMessage `json:"message"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		b.errors.add(kindBadFrame, 1)
		return
	}
	m := env.Message
	b.mu.Lock()
	rd := b.rides[m.OrderID]
	b.mu.Unlock()
	if rd == nil {
		b.errors.add("tracking_of_unknown_ride", 1)
		return
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if typ == contract.TypeOrderCompleted {
		rd.completed = true
		return
	}
	if rd.completed {
		rd.late++
		return
	}
	rd.updated = append(rd.updated, m.UpdatedAt)
	if sent, ok := rd.sent[positionKey(m.Lat, m.Lng)]; ok {
		b.trackLat.record(rd.driver.index, time.Duration(at-sent))
	}
}

// startRide has the nearest free driver the order must reach accept it.
func (b *GeoBench) startRide(ord *geoOrder, pickup contract.Point) {
	ord.mu.Lock()
	candidates := make([]int, 0, len(ord.want))
	for idx := range ord.want {
		candidates = append(candidates, idx)
	}
	ord.mu.Unlock()
	slices.SortFunc(candidates, func(a, c int) int {
		return cmpFloat(contract.DistanceM(pickup, b.drivers[a].position()), contract.DistanceM(pickup, b.drivers[c].position()))
	})
	for _, idx := range candidates {
		d := b.drivers[idx]
		if d.feed() == nil || !d.riding.CompareAndSwap(false, true) {
			continue
		}
		rd := &geoRide{order: ord, driver: d, sent: make(map[string]int64)}
		b.mu.Lock()
		b.rides[ord.id] = rd
		b.mu.Unlock()
		msg := []byte(`{"type":"` + contract.TypeAcceptOrder + `","message":{"order_id":"` + ord.id + `"}}`)
		if err := d.send(b.life, msg, b.opts.Timeout); err != nil {
			b.errors.addErr(err)
			b.endRide(rd, "accept not sent")
		}
		return
	}
}

func cmpFloat(a, c float64) int {
	switch {
	case a < c:
		return -1
	case a > c:
		return 1
	}
	return 0
}

// accepted runs the ride once its accept is answered.
func (b *GeoBench) accepted(rd *geoRide, fr frame) {
	if !fr.Accepted {
		b.endRide(rd, "accept refused: "+fr.Reason)
		return
	}
	b.wg.Go(func() { b.drive(rd) })
}

// drive sends the ride's positions, a centimetre apart, every RideStep for
// RideLength, then completes the order.
func (b *GeoBench) drive(rd *geoRide) {
	d, g := rd.driver, b.geo
	t := time.NewTicker(g.RideStep)
	defer t.Stop()
	steps := max(int(g.RideLength/g.RideStep), 1)
	for range steps {
		d.mu.Lock()
		d.pos.Lat += 1e-7
		p := d.pos
		d.mu.Unlock()
		rd.mu.Lock()
		rd.sent[positionKey(p.Lat, p.Lng)] = monoNow()
		rd.mu.Unlock()
		b.sendPosition(d, p)
		b.ridePositions.Add(1)
		select {
		case <-b.life.Done():
			b.endRide(rd, "interrupted")
			return
		case <-t.C:
		}
	}
	err := b.api.do(b.life, "complete order", d.base+"/orders/"+rd.order.id+"/complete", roleDriver, d.id,
		map[string]string{"driver_id": d.id}, nil)
	if err != nil {
		b.errors.addErr(err)
		b.endRide(rd, "complete failed")
		return
	}
	b.endRide(rd, "")
}

// endRide frees the driver; failure is empty for a ride that completed.
func (b *GeoBench) endRide(rd *geoRide, failure string) {
	rd.mu.Lock()
	rd.done, rd.failure = true, failure
	rd.mu.Unlock()
	rd.driver.riding.Store(false)
}

// driverGrid buckets drivers by cells about a radius wide, so that an
// order's expected set is found among the drivers of nine cells.
type driverGrid struct {
	drivers    []*geoDriver
	origin     contract.Point
	dLat, dLng float64
	cells      map[[2]int][]int
}

func newDriverGrid(drivers []*geoDriver, center contract.Point, radiusM float64) *driverGrid {
	corner := offsetPoint(center, radiusM, radiusM)
	g := &driverGrid{drivers: drivers, origin: center, dLat: corner.Lat - center.Lat,
		dLng: corner.Lng - center.Lng, cells: make(map[[2]int][]int)}
	for _, d := range drivers {
		c := g.cell(d.pos)
		g.cells[c] = append(g.cells[c], d.index)
	}
	return g
}

func (g *driverGrid) cell(p contract.Point) [2]int {
	return [2]int{int(math.Floor((p.Lat - g.origin.Lat) / g.dLat)), int(math.Floor((p.Lng - g.origin.Lng) / g.dLng))}
}

// expected returns the drivers an order at pickup must reach (want) and
// those too close to the cut to say (edge). Drivers move at most
// centimetres during the run, so their cells stay right.
func (g *driverGrid) expected(pickup contract.Point, radiusM float64, maxDrivers int) (want, edge map[int]struct{}) {
	type near struct {
		idx int
		d   float64
	}
	var in []near
	c := g.cell(pickup)
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			for _, idx := range g.cells[[2]int{c[0] + dy, c[1] + dx}] {
				d := contract.DistanceM(pickup, g.drivers[idx].position())
				if d <= radiusM+geoEdgeM {
					in = append(in, near{idx, d})
				}
			}
		}
	}
	slices.SortFunc(in, func(a, b near) int { return cmpFloat(a.d, b.d) })
	// Under max_drivers the cut lies between the last driver in and the
	// first one out.
	cut := radiusM
	if maxDrivers > 0 && len(in) > maxDrivers {
		cut = min(cut, (in[maxDrivers-1].d+in[maxDrivers].d)/2)
	}
	want, edge = make(map[int]struct{}), make(map[int]struct{})
	for _, n := range in {
		switch {
		case math.Abs(n.d-cut) < geoEdgeM || math.Abs(n.d-radiusM) < geoEdgeM:
			edge[n.idx] = struct{}{}
		case n.d < cut:
			want[n.idx] = struct{}{}
		}
	}
	return want, edge
}
