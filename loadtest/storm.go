package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/coder/websocket"
)

// The storm scenario: what a node meets when another node leaves and its
// drivers all reconnect at once. Bench creates Options.Orders open orders,
// then every process opens every one of its drivers' feeds at one instant
// (no ramp, no bound on dials in flight), and each driver retries a refused
// greeting (close 1013, a dial that failed) with backoff until it is greeted
// or Options.Duration has passed since that instant. A driver is greeted
// correctly when its connected frame lists exactly the open orders (not
// marked incomplete); any other greeting is wrong and is not retried.

// stormLead is how far ahead the parent sets the storm's instant, so that
// every worker has it before it comes.
const stormLead = 250 * time.Millisecond

// stormStart tells a fleet when the storm begins and what a correct
// greeting lists.
type stormStart struct {
	AtNS       int64 `json:"at_ns"`       // CLOCK_MONOTONIC ns: every driver dials then
	OpenOrders int   `json:"open_orders"` // orders each connected frame must list
}

// Kinds of wrong greetings.
const (
	wrongEmpty      = "empty"      // no open order listed although some are open
	wrongCount      = "count"      // another number of open orders
	wrongIncomplete = "incomplete" // the node said its list is incomplete
)

// storm is a fleet's storm counters.
type storm struct {
	greeted, notGreeted, attempts, closed1013 atomic.Int64
	settled                                   atomic.Int64 // drivers greeted, wrongly greeted or out of time
	lastNS                                    atomic.Int64 // latest correct greeting, after the instant
	wrong, failures                           errorCounts
	latency                                   *recorder // the instant to a correct greeting
}

// stormTally is a fleet's storm as sent to the parent.
type stormTally struct {
	Greeted    int64                  `json:"greeted"`
	NotGreeted int64                  `json:"not_greeted"`
	Attempts   int64                  `json:"attempts"`
	Closed1013 int64                  `json:"closed_1013"`
	LastNS     int64                  `json:"last_ns"`
	Wrong      map[string]int64       `json:"wrong,omitempty"`
	Failures   map[string]int64       `json:"failures,omitempty"`
	Latency    *hdrhistogram.Snapshot `json:"latency,omitempty"`
}

func (s *storm) tally() *stormTally {
	return &stormTally{
		Greeted:    s.greeted.Load(),
		NotGreeted: s.notGreeted.Load(),
		Attempts:   s.attempts.Load(),
		Closed1013: s.closed1013.Load(),
		LastNS:     s.lastNS.Load(),
		Wrong:      s.wrong.snapshot(),
		Failures:   s.failures.snapshot(),
		Latency:    exportHist(s.latency.snapshot()),
	}
}

// storm starts every driver of the fleet dialling at st.AtNS; it returns at
// once, and each driver's goroutine ends once it is settled (its feed is then
// held like any other until the fleet finishes).
func (f *fleet) storm(st stormStart) {
	f.stormed.Store(true)
	gate := make(chan struct{})
	deadline := st.AtNS + int64(f.opts.Duration)
	f.wg.Go(func() {
		sleep(f.dialing, time.Duration(st.AtNS-monoNow()))
		close(gate)
	})
	for local := range f.drivers {
		f.wg.Go(func() {
			select {
			case <-gate:
			case <-f.dialing.Done():
			}
			f.stormDriver(local, st, deadline)
			f.st.settled.Add(1)
		})
	}
}

// stormDriver greets driver local of the fleet, retrying until deadline.
func (f *fleet) stormDriver(local int, st stormStart, deadline int64) {
	g := local*f.count + f.index
	id := driverID(f.opts.RunID, g)
	giveUp := func() {
		f.failed.Add(1)
		f.st.notGreeted.Add(1)
	}
	token, err := f.minter.token(roleDriver, id)
	if err != nil {
		f.errors.addErr(err)
		giveUp()
		return
	}
	target := g % len(f.opts.Targets)
	hc := f.dialers[g%len(f.dialers)]
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			sleep(f.dialing, backoff(attempt-1))
		}
		left := time.Duration(deadline - monoNow())
		if f.dialing.Err() != nil || left <= 0 {
			giveUp()
			return
		}
		f.st.attempts.Add(1)
		start := time.Now()
		ws, hello, err := dialClient(f.dialing, hc, f.opts.Targets[target], roleDriver, id, token, "", min(f.opts.Timeout, left))
		if err != nil {
			kind := errorKind(err)
			if errors.Is(err, errNoConnected) {
				kind = kindNoConnected
			}
			f.st.failures.add(kind, 1)
			if websocket.CloseStatus(err) == websocket.StatusTryAgainLater {
				f.st.closed1013.Add(1)
			}
			if permanent(err) {
				giveUp()
				return
			}
			target = (target + 1) % len(f.opts.Targets)
			continue
		}
		f.connectLat.record(g, time.Since(start))
		if kind := wrongGreeting(parseGreeting(hello), st.OpenOrders); kind != "" {
			f.st.wrong.add(kind, 1)
			f.failed.Add(1)
			ws.CloseNow()
			return
		}
		lat := monoNow() - st.AtNS
		c := &client{global: g, local: local, id: id, role: roleDriver, conn: ws, target: target}
		c.ledger.greetedNS = monoNow()
		f.mu.Lock()
		if f.dialing.Err() != nil {
			// The fleet is finishing and may have listed its feeds
			// to close already: this one would be left open.
			f.mu.Unlock()
			ws.CloseNow()
			giveUp()
			return
		}
		f.drivers[local] = c
		f.mu.Unlock()
		f.st.greeted.Add(1)
		f.st.latency.record(g, time.Duration(lat))
		storeMax(&f.st.lastNS, lat)
		f.opened(c, 1)
		f.wg.Go(func() { f.hold(c) })
		return
	}
}

// storeMax raises a to v when v is larger.
func storeMax(a *atomic.Int64, v int64) {
	for last := a.Load(); v > last; last = a.Load() {
		if a.CompareAndSwap(last, v) {
			return
		}
	}
}

// wrongGreeting names what is wrong with a greeting that should list open
// open orders, or returns "" when it is right.
func wrongGreeting(g greeting, open int) string {
	switch {
	case g.incomplete:
		return wrongIncomplete
	case g.orders == open:
		return ""
	case g.orders == 0:
		return wrongEmpty
	}
	return wrongCount
}

// StormReport is what the storm scenario measured.
type StormReport struct {
	// Orders is the open orders bench created; OpenOrders the open orders
	// a correct greeting lists (Orders, plus any open order of other
	// clients the probe greeting listed).
	Orders     int64 `json:"orders"`
	OpenOrders int64 `json:"open_orders"`
	Drivers    int64 `json:"drivers"`
	Greeted    int64 `json:"greeted"`     // greeted with exactly OpenOrders open orders
	Wrong      int64 `json:"wrong"`       // greeted otherwise: fewer or more orders, or marked incomplete
	NotGreeted int64 `json:"not_greeted"` // neither before Options.Duration passed
	// WrongBy splits Wrong: empty, count or incomplete.
	WrongBy map[string]int64 `json:"wrong_by,omitempty"`
	// Attempts counts dials; Closed1013 the greetings the hub refused
	// with close 1013 (try again later), then retried.
	Attempts   int64 `json:"attempts"`
	Closed1013 int64 `json:"closed_1013"`
	// FailuresBy counts the dials that failed, by cause (closed_1013
	// included).
	FailuresBy map[string]int64 `json:"failures_by_cause,omitempty"`
	// AllGreetedMS is the time from the storm's instant until the last
	// driver was greeted correctly; 0 unless every driver was.
	AllGreetedMS float64 `json:"all_greeted_ms"`
	// Latency is each driver's time from the storm's instant to its
	// correct greeting, retries included.
	Latency Latency `json:"latency"`
	// Outages is the growth of the targets' redis.outages over the storm.
	Outages int64 `json:"outages"`
	// ServerCPUSeconds is the targets' CPU over the storm.
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
}

// runStorm is the storm scenario from the open orders to every driver
// settled; r gets the probe's notes. The targets' stats are read again just
// before the storm, so that what the targets report before and after it
// (outages, CPU, memory per connection) is the storm's alone.
func (b *Bench) runStorm(ctx context.Context, r *Report, targets []TargetReport) {
	o := b.opts
	b.setPhase(PhaseOrders, time.Duration(float64(o.Orders)/o.Rate*float64(time.Second)))
	b.send(ctx)
	if ctx.Err() != nil {
		return
	}
	open, note := b.probe(ctx)
	if note != "" {
		r.Notes = append(r.Notes, note)
	}
	b.stormOpen.Store(int64(open))
	b.readStats(ctx, targets, func(t *TargetReport, s *HubStats) { t.Before = s })
	at := monoNow() + int64(stormLead)
	b.setPhase(PhaseStorm, o.Duration)
	for _, f := range b.fleetsNow() {
		f.storm(stormStart{AtNS: at, OpenOrders: open})
	}
	// Workers enforce the deadline; a dial started just before it may take
	// up to Options.Timeout more.
	b.waitFor(ctx, stormLead+o.Duration+o.Timeout+time.Second, func(p Progress) bool {
		return p.Settled >= int64(o.Drivers)
	})
}

// probe greets one driver of its own before the storm and returns how many
// open orders a correct greeting lists: the orders bench created, plus any
// open order of other clients. When the probe fails, or does not list every
// order bench created, the created count stands and note says why.
func (b *Bench) probe(ctx context.Context) (open int, note string) {
	o := b.opts
	created := b.createdIDs()
	id := "bench-" + o.RunID + "-probe"
	token, err := b.api.minter.token(roleDriver, id)
	if err != nil {
		return len(created), fmt.Sprintf("storm probe: %v", err)
	}
	ws, hello, err := dialClient(ctx, dialClientFor(nil, o.Timeout), o.Targets[0], roleDriver, id, token, "", o.Timeout)
	if err != nil {
		return len(created), fmt.Sprintf("storm probe: %v; a correct greeting lists the %d orders bench created", err, len(created))
	}
	defer ws.CloseNow()
	listed := make(map[string]bool)
	eachOrderID(hello, func(id []byte) { listed[string(id)] = true })
	missing := 0
	for _, id := range created {
		if !listed[id] {
			missing++
		}
	}
	if g := parseGreeting(hello); missing > 0 || g.incomplete {
		return len(created), fmt.Sprintf("storm probe: the hub listed %d open orders (incomplete: %t) and lacked %d of the %d bench created",
			g.orders, g.incomplete, missing, len(created))
	}
	if extra := len(listed) - len(created); extra > 0 {
		note = fmt.Sprintf("the hub holds %d open orders of other clients: a correct greeting lists %d", extra, len(listed))
	}
	return len(listed), note
}

// fillStorm merges the fleets' storms into r.
func (b *Bench) fillStorm(r *Report, results []*fleetResult) error {
	s := &StormReport{Orders: b.created.Load(), OpenOrders: b.stormOpen.Load(), Drivers: int64(b.opts.Drivers)}
	lat := newHist()
	var errs []error
	var last int64
	var wrong, failures errorCounts
	for _, res := range results {
		if res == nil || res.Storm == nil {
			continue
		}
		t := res.Storm
		s.Greeted += t.Greeted
		s.NotGreeted += t.NotGreeted
		s.Attempts += t.Attempts
		s.Closed1013 += t.Closed1013
		last = max(last, t.LastNS)
		for k, n := range t.Wrong {
			wrong.add(k, n)
		}
		for k, n := range t.Failures {
			failures.add(k, n)
		}
		if err := importHist(lat, t.Latency); err != nil {
			errs = append(errs, err)
		}
	}
	s.WrongBy, s.FailuresBy = wrong.snapshot(), failures.snapshot()
	s.Wrong = wrong.total()
	// Drivers of a worker that never reported count as not greeted.
	s.NotGreeted = s.Drivers - s.Greeted - s.Wrong
	if s.Greeted == s.Drivers {
		s.AllGreetedMS = float64(last) / 1e6
	}
	s.Latency = summarize(lat)
	for _, t := range r.Server.Targets {
		if t.Before == nil || t.Ramped == nil {
			continue
		}
		s.ServerCPUSeconds += t.Ramped.CPUSeconds - t.Before.CPUSeconds
		if t.Before.Redis != nil && t.Ramped.Redis != nil {
			s.Outages += t.Ramped.Redis.Outages - t.Before.Redis.Outages
		}
	}
	r.Storm = s
	return errors.Join(errs...)
}
