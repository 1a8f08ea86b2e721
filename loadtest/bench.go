package loadtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Bench runs one load test. Create it with [New], start it with [Bench.Run]
// and read [Bench.Report] once the progress channel is closed.
type Bench struct {
	opts  Options
	sched schedule
	api   *hubAPI

	phase     atomic.Pointer[phaseInfo]
	startedAt time.Time

	// Order creation, counted by the parent process.
	sent, created, warm, failed, skipped atomic.Int64
	cancelled, leftOpen                  atomic.Int64
	inFlight                             atomic.Int64
	driversAtStart                       atomic.Int64 // open driver feeds when the schedule started
	stormOpen                            atomic.Int64 // open orders a storm greeting must list
	createLat, sendLag, acceptLat        *recorder
	errors                               errorCounts

	mu     sync.Mutex
	orders []createdOrder      // for cleanup
	races  map[string][2]int32 // HTTP race outcomes: wins, losses
	fleets []fleetHandle

	report *Report
}

// fleetHandle is a fleet in this process or in a worker process.
type fleetHandle interface {
	ramp(ctx context.Context) error
	startOrders()
	register(orderReg)
	storm(stormStart)
	progress() fleetProgress
	finish() (*fleetResult, error)
}

type localFleet struct{ *fleet }

func (l localFleet) ramp(ctx context.Context) error { l.fleet.ramp(ctx); return nil }
func (l localFleet) finish() (*fleetResult, error)  { return l.fleet.finish(), nil }

type createdOrder struct {
	id, user, base string
}

// Phases of a run, in order. Progress carries the current one.
const (
	PhasePrepare = "prepare" // limits, stats before, workers starting
	PhaseRamp    = "ramp"    // connecting clients
	PhaseWarmUp  = "warm-up" // orders not measured
	PhaseRun     = "run"     // orders measured
	PhaseHold    = "hold"    // connect: holding connections
	PhaseOrders  = "orders"  // storm: creating the open orders
	PhaseStorm   = "storm"   // storm: every driver connecting at once
	PhaseDrain   = "drain"   // waiting for late deliveries and answers
	PhaseFinish  = "finish"  // stats after, closing, cleanup
)

type phaseInfo struct {
	name   string
	start  time.Time
	length time.Duration // expected length, 0 when open-ended
}

// New checks opts and prepares a run; nothing is contacted yet.
func New(opts Options) (*Bench, error) {
	opts = opts.withDefaults()
	if opts.RunID == "" {
		opts.RunID = newRunID()
	}
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("bench options: %w", err)
	}
	for i, t := range opts.Targets {
		u, _ := parseTarget(t)
		opts.Targets[i] = u.String()
	}
	b := &Bench{
		opts:      opts,
		sched:     opts.schedule(),
		createLat: newRecorder(),
		sendLag:   newRecorder(),
		acceptLat: newRecorder(),
		races:     make(map[string][2]int32),
	}
	b.api = newHubAPI(newMinter(opts.AuthSecret, tokenTTL(opts)), opts.Timeout, min(opts.MaxInFlight, 512))
	b.setPhase(PhasePrepare, 0)
	return b, nil
}

// newRunID returns 6 random base-36 characters.
func newRunID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(36*36*36*36*36*36))
	if err != nil {
		return fmt.Sprintf("%06d", time.Now().UnixNano()%1e6)
	}
	return fmt.Sprintf("%06s", n.Text(36))
}

// Options returns the run's options with every default filled in.
func (b *Bench) Options() Options { return b.opts }

func (b *Bench) setPhase(name string, length time.Duration) {
	b.phase.Store(&phaseInfo{name: name, start: time.Now(), length: length})
}

// Run starts the run and returns its progress samples, a few per second,
// on a channel closed when the run is over and every goroutine and worker
// process has stopped. Cancelling ctx stops the run early: it still closes
// its connections, cleans up its orders and reports what it measured, marked
// interrupted. Samples are dropped, never queued, when the reader is slow.
func (b *Bench) Run(ctx context.Context) <-chan Progress {
	ch := make(chan Progress, 1)
	b.startedAt = time.Now()
	go func() {
		defer close(ch)
		tickCtx, stopTicks := context.WithCancel(context.WithoutCancel(ctx))
		var ticks sync.WaitGroup
		ticks.Go(func() { b.emit(tickCtx, ch) })
		b.report = b.run(ctx)
		stopTicks()
		ticks.Wait()
		select {
		case ch <- b.Progress():
		default:
		}
	}()
	return ch
}

// progressEveryUI is how often Run samples progress.
const progressEveryUI = 250 * time.Millisecond

func (b *Bench) emit(ctx context.Context, ch chan<- Progress) {
	t := time.NewTicker(progressEveryUI)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			select {
			case ch <- b.Progress():
			default:
			}
		}
	}
}

// Report returns the run's report; nil until Run's channel is closed.
func (b *Bench) Report() *Report { return b.report }

// run is the whole run; every phase returns early when ctx ends, and the
// finishing steps run on a context of their own with a deadline.
func (b *Bench) run(ctx context.Context) *Report {
	o := b.opts
	r := &Report{
		Scenario:  o.Scenario,
		RunID:     o.RunID,
		StartedAt: b.startedAt,
		Options:   o.redacted(),
		Machine:   machine(o.Procs),
		Errors:    map[string]int64{},
		Notes:     o.rateNotes(),
	}
	for _, n := range r.Notes {
		o.Logger.Warn(n)
	}
	cpu0 := cpuTime()
	targets := make([]TargetReport, len(o.Targets))
	b.readStats(ctx, targets, func(t *TargetReport, s *HubStats) { t.Before = s })

	// Clients: in this process, or spread over worker processes.
	if err := b.startFleets(ctx); err != nil {
		r.Notes = append(r.Notes, err.Error())
		b.errors.add(kindWorker, 1)
	}
	rampLength := time.Duration(float64(o.Drivers+o.riders()) / o.ConnectRate * float64(time.Second))
	if o.Scenario == Storm {
		rampLength = 0
	}
	b.setPhase(PhaseRamp, rampLength)
	var ramps sync.WaitGroup
	for _, f := range b.fleets {
		ramps.Go(func() {
			if err := f.ramp(ctx); err != nil {
				b.errors.add(kindWorker, 1)
				o.Logger.Warn("worker ramp", "err", err)
			}
		})
	}
	ramps.Wait()
	if o.Scenario == Storm && ctx.Err() == nil {
		b.runStorm(ctx, r, targets)
	}
	b.readStats(ctx, targets, func(t *TargetReport, s *HubStats) { t.Ramped = s })

	switch {
	case o.Scenario == Connect:
		b.setPhase(PhaseHold, o.Duration)
		sleep(ctx, o.Duration)
	case o.Scenario == Storm:
	case ctx.Err() == nil:
		var drivers int64
		for _, f := range b.fleets {
			drivers += f.progress().OpenDrivers
			f.startOrders()
		}
		b.driversAtStart.Store(drivers)
		var soak sync.WaitGroup
		soakCtx, stopSoak := context.WithCancel(ctx)
		if o.Scenario == Soak {
			soak.Go(func() { r.Intervals = b.intervals(soakCtx) })
		}
		b.send(ctx)
		b.drain(ctx)
		stopSoak()
		soak.Wait()
	}
	b.setPhase(PhaseFinish, 0)
	// The end-of-run stats are read before bench disconnects, so memory and
	// connection counts still include bench's clients.
	b.readStats(context.WithoutCancel(ctx), targets, func(t *TargetReport, s *HubStats) { t.After = s })

	results := b.finishFleets()
	b.cleanup(context.WithoutCancel(ctx))
	r.FinishedAt = time.Now()
	r.Seconds = r.FinishedAt.Sub(r.StartedAt).Seconds()
	r.Interrupted = ctx.Err() != nil
	b.fill(r, results, targets)
	if o.Scenario == Storm {
		if err := b.fillStorm(r, results); err != nil {
			r.Notes = append(r.Notes, err.Error())
		}
	}
	b.fillCPU(r, results, cpuTime()-cpu0)
	r.Claims = checkClaims(r)
	return r
}

func machine(procs int) Machine {
	host, _ := os.Hostname()
	return Machine{Hostname: host, OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Procs: procs}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// startFleets starts the local fleet or the worker processes.
func (b *Bench) startFleets(ctx context.Context) error {
	o := b.opts
	if o.Procs <= 1 {
		f, err := newFleet(ctx, o, 0, 1)
		if err != nil {
			return fmt.Errorf("start clients: %w", err)
		}
		b.mu.Lock()
		b.fleets = []fleetHandle{localFleet{f}}
		b.mu.Unlock()
		return nil
	}
	for i := range o.Procs {
		rf, err := startRemote(o, i, o.Procs)
		if err != nil {
			return err
		}
		b.mu.Lock()
		b.fleets = append(b.fleets, rf)
		b.mu.Unlock()
	}
	return nil
}

func (b *Bench) finishFleets() []*fleetResult {
	results := make([]*fleetResult, len(b.fleets))
	var wg sync.WaitGroup
	for i, f := range b.fleets {
		wg.Go(func() {
			res, err := f.finish()
			if err != nil {
				b.errors.add(kindWorker, 1)
				b.opts.Logger.Warn("finish clients", "err", err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	return results
}

// readStats reads every target's /ws/stats concurrently into targets.
func (b *Bench) readStats(ctx context.Context, targets []TargetReport, set func(*TargetReport, *HubStats)) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i, base := range b.opts.Targets {
		t := &targets[i]
		t.URL = base
		wg.Go(func() {
			s, err := fetchStats(ctx, b.api.client, base)
			if err != nil {
				b.errors.add(kindStats, 1)
				t.Error = err.Error()
				return
			}
			t.NodeID, t.Mode = s.NodeID, s.Mode
			set(t, s)
		})
	}
	wg.Wait()
}

// send runs the open-loop schedule: order i is sent at its due instant in a
// goroutine of its own, whatever became of the orders before it.
func (b *Bench) send(ctx context.Context) {
	o := b.opts
	switch {
	case o.Scenario == Storm:
		// The storm's orders are its own phase.
	case b.sched.warm > 0:
		b.setPhase(PhaseWarmUp, o.WarmUp)
	default:
		b.setPhase(PhaseRun, o.Duration)
	}
	var reqs sync.WaitGroup
	defer reqs.Wait()
	start := time.Now()
	startNS := monoNow()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := int64(0); ; i++ {
		wait, stop := b.sched.next(time.Since(start), i)
		if stop {
			break
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		if i == b.sched.warm && i > 0 && o.Scenario != Storm {
			b.setPhase(PhaseRun, o.Duration)
		}
		b.sent.Add(1)
		if b.inFlight.Load() >= int64(o.MaxInFlight) {
			b.skipped.Add(1)
			b.errors.add(kindSaturated, 1)
			continue
		}
		b.inFlight.Add(1)
		due := startNS + int64(b.sched.due(i))
		reqs.Go(func() {
			defer b.inFlight.Add(-1)
			b.createOne(ctx, i, due)
		})
	}
}

// createOne creates order i, due at due, and starts its race.
func (b *Bench) createOne(ctx context.Context, i, due int64) {
	o := b.opts
	sent := monoNow()
	b.sendLag.record(int(i), time.Duration(sent-due))
	user := userID(o.RunID, int(i%int64(o.creators())))
	base := o.Targets[0]
	if o.OrdersVia == OrdersViaAll {
		base = o.Targets[i%int64(len(o.Targets))]
	}
	id, err := b.api.createOrder(ctx, base, user, i)
	b.createLat.record(int(i), time.Duration(monoNow()-due))
	if err != nil {
		b.failed.Add(1)
		b.errors.addErr(err)
		return
	}
	warm := b.sched.isWarm(i)
	b.created.Add(1)
	if warm {
		b.warm.Add(1)
	}
	b.mu.Lock()
	b.orders = append(b.orders, createdOrder{id: id, user: user, base: base})
	b.mu.Unlock()
	race := o.Scenario == Accept || o.Scenario == Soak
	reg := orderReg{ID: id, Seq: i, DueNS: due, SentNS: sent, Warm: warm, Race: race}
	for _, f := range b.fleetsNow() {
		f.register(reg)
	}
	if race {
		b.raceHTTP(ctx, reg)
	}
}

// raceHTTP sends this order's HTTP accepts at one instant: every racer
// waits on one channel that is closed once all of them are ready.
func (b *Bench) raceHTTP(ctx context.Context, reg orderReg) {
	o := b.opts
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for j := range o.Racers {
		if raceViaWS(o.RaceVia, j) {
			continue
		}
		g := racer(reg.Seq, j, o.Racers, o.Drivers)
		wg.Go(func() {
			<-gate
			start := monoNow()
			won, err := b.api.acceptOrder(ctx, o.Targets[g%len(o.Targets)], reg.ID, driverID(o.RunID, g))
			if err != nil {
				b.errors.addErr(err)
				return
			}
			b.acceptLat.record(g, time.Duration(monoNow()-start))
			b.mu.Lock()
			t := b.races[reg.ID]
			if won {
				t[0]++
			} else {
				t[1]++
			}
			b.races[reg.ID] = t
			b.mu.Unlock()
		})
	}
	close(gate)
	wg.Wait()
}

// drain waits, at most Options.Drain, until every expected delivery and
// every accept answer has arrived; a repeated delivery does not stand in for
// a missing one, an order listed in a snapshot does.
func (b *Bench) drain(ctx context.Context) {
	b.setPhase(PhaseDrain, b.opts.Drain)
	b.waitFor(ctx, b.opts.Drain, func(p Progress) bool {
		return p.Reached >= p.Expected+p.WarmExpected && p.AcceptsPending == 0
	})
}

// waitFor polls the run's progress until done says so, limit passes or ctx
// ends.
func (b *Bench) waitFor(ctx context.Context, limit time.Duration, done func(Progress) bool) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for !done(b.Progress()) {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-poll.C:
		}
	}
}

// cleanupTimeout bounds the cancelling of the run's orders.
const cleanupTimeout = 15 * time.Second

// cleanup cancels every order of the run nobody won, so hubs do not hand
// them to every driver who connects later. Each rider cancels its own orders
// one after the other, backing off when the hub's per-caller limit answers
// 429; what is left when cleanupTimeout passes expires with the hub's order
// retention and is reported as left open.
func (b *Bench) cleanup(ctx context.Context) {
	b.mu.Lock()
	orders := b.orders
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	won := b.wonOrders()
	byRider := make(map[string][]createdOrder)
	for _, ord := range orders {
		if !won[ord.id] {
			byRider[ord.user] = append(byRider[ord.user], ord)
		}
	}
	cancelAll(ctx, b.api, byRider, func(cancelled bool) {
		if cancelled {
			b.cancelled.Add(1)
		} else {
			b.leftOpen.Add(1)
		}
	})
}

// cancelAll cancels the orders of each rider one after the other, riders
// in parallel, and tells done whether each is cancelled (or was accepted
// meanwhile).
func cancelAll(ctx context.Context, api *hubAPI, byRider map[string][]createdOrder, done func(cancelled bool)) {
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for _, list := range byRider {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, ord := range list {
				done(cancelOne(ctx, api, ord))
			}
		})
	}
	wg.Wait()
}

// cancelOne cancels ord, retrying while the hub rate-limits the rider.
func cancelOne(ctx context.Context, api *hubAPI, ord createdOrder) bool {
	for attempt := 1; ; attempt++ {
		err := api.cancelOrder(ctx, ord.base, ord.id, ord.user)
		var se *statusError
		switch {
		case err == nil:
			return true
		case errors.As(err, &se) && se.status == http.StatusConflict:
			return true // accepted meanwhile: nothing left to clean
		case errors.As(err, &se) && se.status == http.StatusTooManyRequests && attempt < 100:
			sleep(ctx, 100*time.Millisecond)
			if ctx.Err() != nil {
				return false
			}
		default:
			return false
		}
	}
}

// wonOrders is every order some racer won over HTTP.
func (b *Bench) wonOrders() map[string]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	won := make(map[string]bool, len(b.races))
	for id, t := range b.races {
		if t[0] > 0 {
			won[id] = true
		}
	}
	return won
}
