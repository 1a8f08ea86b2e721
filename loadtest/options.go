package loadtest

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/taxi-hub/taxi/contract"
)

// Scenario names a kind of run.
type Scenario string

// The scenarios `taxi bench` runs.
const (
	// Fanout connects drivers and times every new_order delivery.
	Fanout Scenario = "fanout"
	// Accept races every order with several drivers and checks for exactly
	// one winner.
	Accept Scenario = "accept"
	// Connect ramps connections, holds them and measures server memory per
	// connection.
	Connect Scenario = "connect"
	// Soak runs fan-out and accept races together for a long time and
	// reports every interval.
	Soak Scenario = "soak"
	// Storm creates open orders, then connects every driver at one instant
	// and times until each is greeted with every open order.
	Storm Scenario = "storm"
	// Geo spreads drivers over an area, sending positions, and checks that
	// orders with a radius reach exactly the drivers within it; it runs
	// through [NewGeo], not [New].
	Geo Scenario = "geo"
)

// Scenarios lists every scenario in the order help texts show them.
var Scenarios = []Scenario{Fanout, Accept, Connect, Soak, Storm, Geo}

// ParseScenario returns the scenario called name.
func ParseScenario(name string) (Scenario, error) {
	for _, s := range Scenarios {
		if string(s) == name {
			return s, nil
		}
	}
	return "", fmt.Errorf("unknown scenario %q (want fanout, accept, connect, soak, storm or geo)", name)
}

// How racers send their accepts in the accept and soak scenarios.
const (
	RaceHTTP = "http"
	RaceWS   = "ws"
	RaceBoth = "both"
)

// Where orders are created.
const (
	OrdersViaFirst = "first"
	OrdersViaAll   = "all"
)

// Options describes a run. The zero value of a field means its default (see
// [Options.withDefaults]); Options travels as JSON to worker processes, so
// every field that matters to a worker is exported and tagged.
type Options struct {
	Scenario Scenario `json:"scenario"`
	// Targets are hub base URLs (http or https). Drivers are spread over them
	// round-robin.
	Targets []string `json:"targets"`
	// OrdersVia is "first" (every order through Targets[0]) or "all"
	// (round-robin over the targets).
	OrdersVia string `json:"orders_via"`
	// Drivers is the number of simulated driver connections.
	Drivers int `json:"drivers"`
	// Users is the number of riders: orders are created in their names
	// round-robin and each has its own feed connected. 0 means the default;
	// a negative number means no rider feeds (orders then come from one
	// rider id that never connects). In the storm scenario riders only
	// create the open orders and never connect.
	Users int `json:"users"`
	// Rate is the number of orders created per second.
	Rate float64 `json:"rate"`
	// Orders is the number of open orders the storm scenario creates before
	// its drivers connect.
	Orders int `json:"orders,omitempty"`
	// Duration is the measured part of the run (after the warm-up); in the
	// connect scenario it is how long connections are held, in the storm
	// scenario how long drivers have to be greeted.
	Duration time.Duration `json:"duration"`
	// WarmUp runs the same load before measuring; its deliveries are
	// counted apart and never enter the histograms. Negative disables it.
	WarmUp time.Duration `json:"warm_up"`
	// Drain bounds the wait for late deliveries after the last order.
	Drain time.Duration `json:"drain"`
	// Racers is the number of drivers racing each order (accept, soak).
	Racers int `json:"racers"`
	// RaceVia is "http", "ws" or "both" (racers alternate).
	RaceVia string `json:"race_via"`
	// ConnectRate is the number of new connections started per second
	// during the ramp, over all processes.
	ConnectRate float64 `json:"connect_rate"`
	// Reconnect makes a client whose connection the hub ends (a node's
	// shutdown, a drop, a refused greeting) reconnect to the next target
	// with ?since= and go on; without it the client stays disconnected and
	// misses what follows. nil means the scenario's default: on for fanout
	// and soak.
	Reconnect *bool `json:"reconnect,omitempty"`
	// Interval is the period of progress lines and soak report lines.
	Interval time.Duration `json:"interval"`
	// Timeout bounds every dial and every HTTP request.
	Timeout time.Duration `json:"timeout"`
	// MaxInFlight bounds the HTTP requests in flight; an order due while the
	// bound is reached is skipped and counted (errors "bench_saturated")
	// rather than delayed, which would bend the open-loop schedule.
	MaxInFlight int `json:"max_in_flight"`
	// AuthSecret, when set, is the hubs' HS256 secret, at least
	// contract.MinSecretLen bytes as taxi serve requires: bench mints a token
	// for every driver and rider. Empty means the hubs run with --insecure.
	AuthSecret string `json:"auth_secret,omitempty"`
	// SourceIPs are local addresses the WebSocket dials bind to round-robin,
	// so one machine can open more connections than one address's
	// ephemeral ports allow. Empty means the system's choice.
	SourceIPs []string `json:"source_ips,omitempty"`
	// Procs spreads the simulated clients over this many worker processes
	// (each started with WorkerCommand). 0 or 1 keeps them in this process.
	Procs int `json:"procs"`
	// WorkerCommand starts one worker process speaking the worker protocol
	// on its stdin and stdout; default: this executable with
	// "bench --worker".
	WorkerCommand []string `json:"-"`
	// RunID prefixes every driver, rider and order owner the run creates,
	// so concurrent runs never share ids. Default: random.
	RunID string `json:"run_id"`
	// Logger receives warnings and worker diagnostics; default discards.
	Logger *slog.Logger `json:"-"`
}

// Defaults: a run with no flags against one hub on the loopback finishes in
// about 13 seconds (2 s of warm-up, 10 s measured, the ramp and the drain)
// and still shows every figure.
const (
	DefaultTarget      = "http://127.0.0.1:8080"
	DefaultDrivers     = 200
	DefaultUsers       = 10
	DefaultRate        = 50
	DefaultDuration    = 10 * time.Second
	DefaultStormOrders = 3000
	// DefaultStormRate creates the storm's open orders in 3 s.
	DefaultStormRate = 1000
	// DefaultStormDuration bounds the wait for every driver's greeting.
	DefaultStormDuration = time.Minute
	DefaultWarmUp        = 2 * time.Second
	DefaultDrain         = 3 * time.Second
	DefaultRacers        = 10
	DefaultConnectRate   = 2000
	DefaultInterval      = time.Second
	DefaultTimeout       = 10 * time.Second
	DefaultMaxInFlight   = 1024
	// maxClients bounds drivers plus users so a typo cannot ask for a
	// billion sockets.
	maxClients = 1_000_000
	// maxOrders bounds the orders one run may create.
	maxOrders = 10_000_000
)

// withDefaults returns a copy of o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.Scenario == "" {
		o.Scenario = Fanout
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
		if o.Scenario == Storm {
			o.Rate = DefaultStormRate
		}
	}
	if o.Orders == 0 && o.Scenario == Storm {
		o.Orders = DefaultStormOrders
	}
	if len(o.Targets) == 0 {
		o.Targets = []string{DefaultTarget}
	}
	if o.OrdersVia == "" {
		o.OrdersVia = OrdersViaFirst
	}
	if o.Drivers == 0 {
		o.Drivers = DefaultDrivers
	}
	if o.Users == 0 {
		// Hubs limit each caller to 20 order calls a second by default:
		// enough riders keep each under 10.
		o.Users = max(DefaultUsers, int(math.Ceil(o.Rate/10)))
	}
	if o.Duration == 0 {
		switch o.Scenario {
		case Soak:
			o.Duration = 5 * time.Minute
		case Storm:
			o.Duration = DefaultStormDuration
		default:
			o.Duration = DefaultDuration
		}
	}
	if o.WarmUp == 0 {
		o.WarmUp = DefaultWarmUp
	}
	if o.WarmUp < 0 || o.Scenario == Connect || o.Scenario == Storm {
		o.WarmUp = 0
	}
	if o.Drain == 0 {
		o.Drain = DefaultDrain
	}
	if o.Racers == 0 {
		o.Racers = DefaultRacers
	}
	if o.RaceVia == "" {
		o.RaceVia = RaceBoth
	}
	if o.ConnectRate == 0 {
		o.ConnectRate = DefaultConnectRate
	}
	if o.Reconnect == nil {
		on := o.Scenario == Fanout || o.Scenario == Soak
		o.Reconnect = &on
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
		if o.Scenario == Soak {
			o.Interval = 10 * time.Second
		}
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.Procs == 0 {
		o.Procs = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// validate reports every problem with o (after defaults) at once.
func (o Options) validate() error {
	var errs []error
	if _, err := ParseScenario(string(o.Scenario)); err != nil {
		errs = append(errs, err)
	}
	if o.Scenario == Geo {
		errs = append(errs, errors.New("the geo scenario runs with NewGeo"))
	}
	for _, t := range o.Targets {
		if _, err := parseTarget(t); err != nil {
			errs = append(errs, err)
		}
	}
	if o.OrdersVia != OrdersViaFirst && o.OrdersVia != OrdersViaAll {
		errs = append(errs, fmt.Errorf("orders via %q: want first or all", o.OrdersVia))
	}
	if o.Drivers < 0 || o.Drivers+o.riders() > maxClients {
		errs = append(errs, fmt.Errorf("drivers %d and users %d: want 0 to %d clients in all", o.Drivers, o.Users, maxClients))
	}
	if o.Drivers == 0 && o.Scenario != Connect {
		errs = append(errs, errors.New("drivers: want at least 1"))
	}
	if o.Rate < 0 || o.Rate > 1_000_000 {
		errs = append(errs, fmt.Errorf("rate %g: want 0 to 1000000 orders per second", o.Rate))
	}
	if o.Duration < 0 || o.Duration > 24*time.Hour {
		errs = append(errs, fmt.Errorf("duration %s: want up to 24h", o.Duration))
	}
	if o.Orders < 0 || (o.Orders > 0 && o.Scenario != Storm) {
		errs = append(errs, fmt.Errorf("orders %d: only the storm scenario takes a number of open orders", o.Orders))
	}
	if o.Scenario == Storm && o.Rate <= 0 {
		errs = append(errs, fmt.Errorf("rate %g: the storm creates its open orders at a positive rate", o.Rate))
	}
	if n := o.plannedOrders(); n > maxOrders {
		errs = append(errs, fmt.Errorf("rate × (warm-up + duration) = %d orders: want at most %d", n, maxOrders))
	}
	if o.Drain < 0 || o.Timeout < 0 || o.Interval < 0 {
		errs = append(errs, errors.New("drain, timeout and interval must not be negative"))
	}
	if o.Racers < 0 || o.Racers > 1000 {
		errs = append(errs, fmt.Errorf("racers %d: want 1 to 1000", o.Racers))
	}
	if (o.Scenario == Accept || o.Scenario == Soak) && o.Racers > o.Drivers {
		errs = append(errs, fmt.Errorf("racers %d: want at most --drivers (%d)", o.Racers, o.Drivers))
	}
	if o.RaceVia != RaceHTTP && o.RaceVia != RaceWS && o.RaceVia != RaceBoth {
		errs = append(errs, fmt.Errorf("race via %q: want http, ws or both", o.RaceVia))
	}
	if o.ConnectRate < 0 {
		errs = append(errs, fmt.Errorf("connect rate %g: want a positive number", o.ConnectRate))
	}
	if o.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("max in flight %d: want at least 1", o.MaxInFlight))
	}
	if o.Procs < 1 || o.Procs > 256 {
		errs = append(errs, fmt.Errorf("procs %d: want 1 to 256", o.Procs))
	}
	if _, err := parseSourceIPs(o.SourceIPs); err != nil {
		errs = append(errs, err)
	}
	if o.AuthSecret != "" {
		if err := contract.CheckSecret(o.AuthSecret); err != nil {
			errs = append(errs, fmt.Errorf("auth secret: %w", err))
		}
	}
	if o.RunID != "" && !validID(o.RunID) {
		errs = append(errs, fmt.Errorf("run id %q: want up to 16 characters of [A-Za-z0-9]", o.RunID))
	}
	return errors.Join(errs...)
}

// callerRateLimit is the hub's default limit of order API calls per second
// per driver or rider (taxi serve --http-rate).
const callerRateLimit = 20

// rateNotes warns when the run will make one caller exceed the hub's default
// per-caller limit, which shows as http_429 errors rather than hub latency.
func (o Options) rateNotes() []string {
	var notes []string
	if o.Scenario == Connect {
		return nil
	}
	if per := o.Rate / float64(o.creators()); per > callerRateLimit {
		notes = append(notes, fmt.Sprintf("each rider creates %.0f orders/s, above the hub's default %d calls/s per caller: "+
			"raise --users or the hub's --http-rate", per, callerRateLimit))
	}
	if o.Scenario == Accept || o.Scenario == Soak {
		if per := o.Rate * float64(o.Racers) / float64(max(o.Drivers, 1)); per > callerRateLimit {
			notes = append(notes, fmt.Sprintf("each driver races %.0f orders/s, above the hub's default %d per caller: "+
				"raise --drivers or the hub's --http-rate and --msg-rate", per, callerRateLimit))
		}
	}
	return notes
}

// redacted is o as a report shows it: the secret is never written out.
func (o Options) redacted() Options {
	if o.AuthSecret != "" {
		o.AuthSecret = "(set)"
	}
	o.Targets = slices.Clone(o.Targets)
	return o
}

// riders is the number of rider feeds: Users, or none when it is negative
// or the scenario is the storm.
func (o Options) riders() int {
	if o.Scenario == Storm {
		return 0
	}
	return max(o.Users, 0)
}

// creators is the number of rider ids orders are created for, round-robin.
func (o Options) creators() int {
	if o.Scenario == Storm {
		return max(o.Users, 1)
	}
	return max(o.riders(), 1)
}

// plannedOrders is the number of orders the schedule holds.
func (o Options) plannedOrders() int64 {
	return o.schedule().total()
}

// schedule is the run's plan of orders: none to connect, the storm's open
// orders at Rate, else Rate over the warm-up and the duration.
func (o Options) schedule() schedule {
	switch {
	case o.Scenario == Connect || o.Rate <= 0:
		return schedule{}
	case o.Scenario == Storm:
		return schedule{rate: o.Rate, count: int64(o.Orders)}
	}
	return scheduleFor(o.Rate, o.WarmUp, o.Duration)
}

// parseTarget checks that raw is an http(s) base URL with a host.
func parseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q: want an http:// or https:// base URL", raw)
	}
	return u, nil
}

func validID(s string) bool {
	if len(s) == 0 || len(s) > 16 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
