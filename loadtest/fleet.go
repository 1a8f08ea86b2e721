package loadtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/taxi-hub/taxi/contract"
)

// A fleet is the share of a run's simulated clients one process holds: the
// drivers and riders whose global index i has i%count == index. The whole run
// lives in one fleet unless Options.Procs spreads it over worker processes.
type fleet struct {
	opts         Options
	index, count int
	minter       *minter
	log          *slog.Logger
	dialers      []*http.Client // one per source address, round-robin

	life   context.Context // ends every read loop and accept sender
	cancel context.CancelFunc
	// dialing ends the dials that follow the ramp (reconnects, the
	// storm's greetings) when the fleet begins to finish.
	dialing     context.Context
	stopDialing context.CancelFunc
	wg          sync.WaitGroup

	mu      sync.Mutex
	drivers []*client // by global index / count; nil until connected
	users   []*client

	reg        *registry
	connectLat *recorder
	acceptLat  *recorder
	reconnects reconnects
	st         storm
	stormed    atomic.Bool // the storm scenario started
	errors     errorCounts
	dialErrors errorCounts // failed dials by cause, also counted in errors

	planned, failed, dropped, frames atomic.Int64
	open, openDrivers                atomic.Int64
	driversAtStart                   atomic.Int64
	cpuStart                         time.Duration
	limit                            FileLimit

	p99mu   sync.Mutex
	p99     float64
	p99when time.Time
}

// fleetSpec is what a worker process is told at start.
type fleetSpec struct {
	Options Options `json:"options"`
	Index   int     `json:"index"`
	Count   int     `json:"count"`
}

// fleetProgress is a fleet's live counters.
type fleetProgress struct {
	Planned        int64   `json:"planned"`         // feeds this fleet opens
	Open           int64   `json:"open"`            // feeds open now
	OpenDrivers    int64   `json:"open_drivers"`    // driver feeds open now
	Failed         int64   `json:"failed"`          // dials that failed
	Dropped        int64   `json:"dropped"`         // feeds the hub closed
	Delivered      int64   `json:"delivered"`       // new_order of measured orders
	Warm           int64   `json:"warm"`            // new_order of warm-up orders
	Reached        int64   `json:"reached"`         // (driver, order) pairs reached by new_order or a snapshot
	Frames         int64   `json:"frames"`          // every frame received
	Errors         int64   `json:"errors"`          // every error counted
	AcceptsPending int64   `json:"accepts_pending"` // accept_order without answer
	Reconnected    int64   `json:"reconnected"`     // feeds reopened after the hub ended them
	Settled        int64   `json:"settled"`         // storm: drivers greeted, wrongly greeted or out of time
	P99            float64 `json:"p99_ms"`          // delivery p99 so far
}

// fleetResult is everything a fleet measured, as sent to the parent.
type fleetResult struct {
	Progress       fleetProgress          `json:"progress"`
	DriversAtStart int64                  `json:"drivers_at_start"`
	Tally          tally                  `json:"tally"`
	Delivery       *hdrhistogram.Snapshot `json:"delivery,omitempty"`
	Connect        *hdrhistogram.Snapshot `json:"connect,omitempty"`
	Accept         *hdrhistogram.Snapshot `json:"accept,omitempty"`
	Errors         map[string]int64       `json:"errors,omitempty"`
	DialErrors     map[string]int64       `json:"dial_errors,omitempty"`
	CPUSeconds     float64                `json:"cpu_seconds"`
	FileLimit      FileLimit              `json:"file_limit"`
	EarlyArrivals  int64                  `json:"early_arrivals"`
	Events         eventTally             `json:"events"`
	Reconnects     reconnectTally         `json:"reconnects"`
	Storm          *stormTally            `json:"storm,omitempty"`
}

// newFleet prepares the share index of count; opts must have its defaults.
func newFleet(ctx context.Context, opts Options, index, count int) (*fleet, error) {
	ips, err := parseSourceIPs(opts.SourceIPs)
	if err != nil {
		return nil, err
	}
	f := &fleet{
		opts:       opts,
		index:      index,
		count:      count,
		minter:     newMinter(opts.AuthSecret, tokenTTL(opts)),
		log:        opts.Logger,
		reg:        newRegistry(),
		connectLat: newRecorder(),
		acceptLat:  newRecorder(),
		reconnects: reconnects{latency: newRecorder()},
		st:         storm{latency: newRecorder()},
		cpuStart:   cpuTime(),
	}
	f.drivers = make([]*client, share(opts.Drivers, index, count))
	f.users = make([]*client, share(opts.riders(), index, count))
	f.planned.Store(int64(len(f.drivers) + len(f.users)))
	f.limit, err = raiseFileLimit(len(f.drivers) + len(f.users))
	if err != nil {
		return nil, err
	}
	if f.limit.Warning != "" {
		f.log.Warn(f.limit.Warning)
	}
	if len(ips) == 0 {
		f.dialers = []*http.Client{dialClientFor(nil, opts.Timeout)}
	}
	for _, ip := range ips {
		f.dialers = append(f.dialers, dialClientFor(net.IP(ip.AsSlice()), opts.Timeout))
	}
	f.life, f.cancel = context.WithCancel(ctx)
	f.dialing, f.stopDialing = context.WithCancel(f.life)
	return f, nil
}

// share is how many of n items i%count == index picks.
func share(n, index, count int) int {
	if index >= n {
		return 0
	}
	return (n-index-1)/count + 1
}

// tokenTTL outlives the run by a margin so no feed is cut by its token.
func tokenTTL(o Options) time.Duration {
	return o.WarmUp + o.Duration + o.Drain + 15*time.Minute
}

// dialClientFor returns an HTTP client whose connections leave from ip (nil
// for the system's choice). WebSocket dials take over the connection, so the
// transport pools nothing.
func dialClientFor(ip net.IP, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if ip != nil {
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	return &http.Client{Transport: &http.Transport{
		DialContext:         d.DialContext,
		TLSHandshakeTimeout: timeout,
		DisableKeepAlives:   true,
	}}
}

// driverID and userID name the run's clients; the run id keeps two runs on
// one hub apart.
func driverID(run string, g int) string { return fmt.Sprintf("bench-%s-d%d", run, g) }
func userID(run string, g int) string   { return fmt.Sprintf("bench-%s-u%d", run, g) }

// maxDialsInFlight bounds concurrent handshakes so a ramp cannot exhaust
// file descriptors on half-open dials.
const maxDialsInFlight = 256

// ramp opens this fleet's feeds, paced at its share of ConnectRate, and
// returns once every dial has succeeded or failed, or ctx ends. The storm
// scenario has no ramp: its drivers dial at once (see storm).
func (f *fleet) ramp(ctx context.Context) {
	if f.opts.Scenario == Storm {
		return
	}
	rate := f.opts.ConnectRate / float64(f.count)
	total := len(f.drivers) + len(f.users)
	start := time.Now()
	sem := make(chan struct{}, maxDialsInFlight)
	var dials sync.WaitGroup
	defer dials.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for k := range total {
		if wait := time.Duration(float64(k)/rate*1e9) - time.Since(start); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		dials.Go(func() {
			defer func() { <-sem }()
			f.connect(ctx, k)
		})
	}
}

// connect opens the k-th feed of this fleet: drivers first, then riders.
func (f *fleet) connect(ctx context.Context, k int) {
	role, local := roleDriver, k
	if k >= len(f.drivers) {
		role, local = roleUser, k-len(f.drivers)
	}
	g := local*f.count + f.index
	id := driverID(f.opts.RunID, g)
	conn := g // every connection of the run counts once in the target and address rotation
	if role == roleUser {
		id = userID(f.opts.RunID, g)
		conn = f.opts.Drivers + g
	}
	token, err := f.minter.token(role, id)
	if err != nil {
		f.failed.Add(1)
		f.errors.addErr(err)
		return
	}
	target := conn % len(f.opts.Targets)
	hc := f.dialers[conn%len(f.dialers)]
	start := time.Now()
	ws, hello, err := dialClient(ctx, hc, f.opts.Targets[target], role, id, token, "", f.opts.Timeout)
	if err != nil {
		f.failed.Add(1)
		kind := errorKind(err)
		if errors.Is(err, errNoConnected) {
			kind = kindNoConnected
		}
		f.errors.add(kind, 1)
		f.dialErrors.add(kind, 1)
		return
	}
	f.connectLat.record(k, time.Since(start))
	c := &client{global: g, local: local, id: id, role: role, conn: ws, target: target}
	c.ledger.greetedNS = monoNow()
	c.ledger.position(parseGreeting(hello).lastEventID)
	f.mu.Lock()
	if role == roleDriver {
		f.drivers[local] = c
	} else {
		f.users[local] = c
	}
	f.mu.Unlock()
	f.opened(c, 1)
	f.wg.Go(func() { f.hold(c) })
}

// opened counts a feed of c opened (n = 1) or ended (n = -1).
func (f *fleet) opened(c *client, n int64) {
	if c.role == roleDriver {
		f.openDrivers.Add(n)
	}
	f.open.Add(n)
}

// hold reads c's feeds until the fleet finishes: when the hub ends a
// connection, c reconnects if Options.Reconnect allows and reads on. It
// returns when bench closes c, or c stays disconnected.
func (f *fleet) hold(c *client) {
	for {
		err := c.readLoop(f.life, f)
		f.opened(c, -1)
		if err == nil {
			return
		}
		f.dropped.Add(1)
		f.errors.add("dropped_"+errorKind(err), 1)
		if !*f.opts.Reconnect || !f.reconnect(c) {
			return
		}
		f.opened(c, 1)
	}
}

// handle routes one frame read by c at (monotonic ns).
func (f *fleet) handle(c *client, data []byte, at int64) {
	f.frames.Add(1)
	fr, ok := parseFrame(data)
	if !ok {
		f.errors.add(kindBadFrame, 1)
		return
	}
	if isEvent(fr.Type) {
		c.ledger.observe(fr.ID)
	}
	switch typ := string(fr.Type); typ {
	case contract.TypeNewOrder:
		if c.role == roleDriver && len(fr.OrderID) > 0 && f.reg.delivery(c.global, c.local, fr.OrderID, at) {
			c.ledger.repeated.Add(1)
		}
	case contract.TypeOrderAccepted, contract.TypeOrderCancelled:
		if len(fr.OrderID) == 0 {
			break
		}
		var repeat bool
		if c.role == roleDriver {
			repeat = f.reg.closing(typ, c.local, fr.OrderID)
		} else {
			repeat = f.reg.riderClosing(typ, fr.OrderID)
		}
		if repeat {
			c.ledger.repeated.Add(1)
		}
	case contract.TypeOpenOrders, contract.TypeRiderOrders:
		f.snapshot(c, data)
	case contract.TypeAcceptResult:
		if sent, ok := c.acceptAnswered(fr.OrderID); ok {
			f.acceptLat.record(c.global, time.Duration(at-sent))
			f.reg.raceOutcome(string(fr.OrderID), fr.Accepted)
		}
	case contract.TypeError:
		f.errors.add(kindErrorFrame, 1)
	}
}

// snapshot records the state a frame gave c in place of events: a driver's
// open orders, a rider's orders with their status.
func (f *fleet) snapshot(c *client, data []byte) {
	c.ledger.snapshotNS.Store(monoNow())
	if c.role == roleDriver {
		eachOrderID(data, func(id []byte) { f.reg.snapshot(c.local, id) })
		return
	}
	orders, ok := riderSnapshot(data)
	if !ok {
		f.errors.add(kindBadFrame, 1)
		return
	}
	for _, o := range orders {
		f.reg.riderSnapshot([]byte(o.OrderID), o.Status)
	}
}

// startOrders fixes how many drivers each measured order should reach: the
// driver feeds open when the schedule starts.
func (f *fleet) startOrders() { f.driversAtStart.Store(f.openDrivers.Load()) }

// register tells the fleet about a created order; the fleet's racers for it
// send their accept_order at once.
func (f *fleet) register(reg orderReg) {
	f.reg.register(reg)
	if !reg.Race {
		return
	}
	for j := range f.opts.Racers {
		g := racer(reg.Seq, j, f.opts.Racers, f.opts.Drivers)
		if !raceViaWS(f.opts.RaceVia, j) || g%f.count != f.index {
			continue
		}
		f.mu.Lock()
		c := f.drivers[g/f.count]
		f.mu.Unlock()
		if c == nil {
			continue
		}
		f.wg.Go(func() {
			if err := c.sendAccept(f.life, reg.ID, f.opts.Timeout); err != nil {
				f.errors.addErr(err)
			}
		})
	}
}

// racer is the global index of the j-th of k drivers racing order seq; the
// k racers of one order are distinct while k <= drivers.
func racer(seq int64, j, k, drivers int) int {
	return int((seq*int64(k) + int64(j)) % int64(drivers))
}

// raceViaWS says whether the j-th racer accepts over its feed (else HTTP).
func raceViaWS(via string, j int) bool {
	return via == RaceWS || (via == RaceBoth && j%2 == 1)
}

func (f *fleet) progress() fleetProgress {
	var pending int64
	f.mu.Lock()
	for _, c := range f.drivers {
		if c != nil {
			pending += int64(c.unanswered())
		}
	}
	f.mu.Unlock()
	return fleetProgress{
		Planned:        f.planned.Load(),
		Open:           f.open.Load(),
		OpenDrivers:    f.openDrivers.Load(),
		Failed:         f.failed.Load(),
		Dropped:        f.dropped.Load(),
		Delivered:      f.reg.measured.Load(),
		Warm:           f.reg.warm.Load(),
		Reached:        f.reg.reached.Load(),
		Frames:         f.frames.Load(),
		Errors:         f.errors.total(),
		AcceptsPending: pending,
		Reconnected:    f.reconnects.reconnected.Load(),
		Settled:        f.st.settled.Load(),
		P99:            f.p99SoFar(),
	}
}

// p99SoFar merges the delivery histogram at most once a second: progress is
// polled several times a second and the merge is not free.
func (f *fleet) p99SoFar() float64 {
	f.p99mu.Lock()
	defer f.p99mu.Unlock()
	if time.Since(f.p99when) >= time.Second {
		f.p99 = summarize(f.reg.latency.snapshot()).P99
		f.p99when = time.Now()
	}
	return f.p99
}

// finish closes every feed, stops every goroutine of the fleet and returns
// what it measured.
func (f *fleet) finish() *fleetResult {
	f.stopDialing()
	p := f.progress()
	f.mu.Lock()
	all := make([]*client, 0, len(f.drivers)+len(f.users))
	for _, c := range append(f.drivers, f.users...) {
		if c != nil {
			all = append(all, c)
		}
	}
	f.mu.Unlock()
	closeClients(all)
	f.cancel()
	f.wg.Wait()

	t := f.reg.tally(f.driversAtStart.Load(), marks(f.drivers), f.riderOf)
	res := &fleetResult{
		Progress:       p,
		DriversAtStart: f.driversAtStart.Load(),
		Tally:          t,
		Events:         f.events(t.Missed),
		Reconnects:     f.reconnects.tally(),
		Delivery:       exportHist(f.reg.latency.snapshot()),
		Connect:        exportHist(f.connectLat.snapshot()),
		Accept:         exportHist(f.acceptLat.snapshot()),
		CPUSeconds:     (cpuTime() - f.cpuStart).Seconds(),
		FileLimit:      f.limit,
		EarlyArrivals:  f.reg.negatives.Load(),
	}
	if p.AcceptsPending > 0 {
		f.errors.add(kindAcceptNoAnswer, p.AcceptsPending)
	}
	res.Events.InSnapshot = t.InSnapshot
	if f.stormed.Load() {
		res.Storm = f.st.tally()
	}
	res.Errors = f.errors.snapshot()
	res.DialErrors = f.dialErrors.snapshot()
	return res
}

// marks lists what the registry needs of each client (zero for one that
// never connected).
func marks(clients []*client) []clientMark {
	out := make([]clientMark, len(clients))
	for i, c := range clients {
		if c != nil {
			out[i] = c.mark()
		}
	}
	return out
}

// riderOf names the rider of the order of seq (orders are the riders'
// round-robin) when this fleet holds it and it connected.
func (f *fleet) riderOf(seq int64) (clientMark, int, bool) {
	riders := f.opts.riders()
	if riders == 0 {
		return clientMark{}, 0, false
	}
	g := int(seq % int64(riders))
	if g%f.count != f.index {
		return clientMark{}, 0, false
	}
	c := f.users[g/f.count]
	if c == nil {
		return clientMark{}, 0, false
	}
	return c.mark(), g, true
}
