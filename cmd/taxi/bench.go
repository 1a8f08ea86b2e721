package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/taxi-hub/taxi/loadtest"
)

// benchOptions is what the bench command's arguments and flags fill in.
type benchOptions struct {
	IO        *IOStreams
	lib       loadtest.Options
	sourceIPs string
	slo       string
	jsonPath  string
	mdPath    string
	quiet     bool
	insecure  bool
	worker    bool
	reconnect bool
	geo       geoFlags
	// sources names the settings the environment gave, for messages.
	sources envSources
}

// stdoutPath is the --json or --markdown path that means standard output.
const stdoutPath = "-"

func newCmdBench(io *IOStreams, runF func(context.Context, *benchOptions) error) *cobra.Command {
	opts := &benchOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "bench [fanout|accept|connect|soak|storm|geo]",
		Short: "Load-test one or more hubs and check their published claims",
		Long: `Load-test running hubs with simulated drivers and riders, then print one line
per published claim (delivery latency under 10 ms, 100,000+ messages/s,
100,000+ connections, about 2 KB per WebSocket, one winner per order):
held, NOT held, or not tested by this run.

Scenarios:
  fanout   (default) drivers connected, orders created at --rate; every
           new_order delivery is timed from the instant its order was due
  accept   the same, and every order raced by --racers drivers at once
           (--race-via http, ws or both); an order with 0 or 2+ winners fails
  connect  ramp to --drivers connections at --connect-rate, hold them for
           --duration, report server memory per connection
  soak     fanout and accept together for a long --duration, a report line
           every --interval
  storm    --orders open orders created first, then every one of --drivers
           connects at the same instant; reports the time until each is
           greeted with exactly those orders (a greeting closed 1013 is
           retried), the greeting latencies and the hubs' Redis outages
  geo      drivers at random positions over --area-km around --center, each
           sending its position every --position-every; orders at random
           pickups with --radius (and --max-drivers): checks that each reaches
           exactly the drivers within its radius, once, and that --ride-share
           of them, driven to completion, are tracked by their rider at most
           once a second; reports deliveries and hub CPU per order

Orders follow an open-loop schedule (no coordinated omission); the
--warm-up is excluded from every figure (--warm-up 0 skips it). Progress goes
to stderr, the summary to stdout; --json - (or --markdown -) writes that
report to stdout instead, and the summary to stderr. Ctrl-C stops the run and
prints the partial summary. docs/bench.md describes every flag and JSON field.

Every client checks the event ids it receives: an event it was owed and
never got (missed), got twice (repeated) or whose id was not above the one
before (out of order) fails the run. In fanout and soak a feed the hub ends
(a node's shutdown, a drop) reconnects to the next target with ?since=, so
the hub replays what it missed (--reconnect=false: it stays closed).

Exit status: 0 the run worked and every --slo threshold held; 1 the run
itself failed (no connection held, every order failed, nothing was
delivered, a client's events were missed, repeated or out of order, or a
storm driver was not greeted correctly or a target counted a Redis outage:
whatever --slo says), an --slo threshold was breached, or the run was
interrupted; 2 bad flags.

SLO metrics: ` + sloHelp(),
		Example: `  taxi bench                                   # about 13 s against http://127.0.0.1:8080
  taxi bench accept --racers 10 --rate 100 --drivers 500
  taxi bench connect --drivers 15000 --connect-rate 3000 --duration 30s
  taxi bench storm --drivers 16000 --orders 3000 --procs 4
  taxi bench --json - --quiet | jq .deliveries
  taxi bench --target http://10.0.0.1:8080 --target http://10.0.0.2:8080 \
      --drivers 5000 --rate 10 --slo 'p99<10ms,loss=0' --json report.json`,
		Args:      usageArgs(cobra.MaximumNArgs(1)),
		ValidArgs: []string{"fanout", "accept", "connect", "soak", "storm", "geo"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				s, err := loadtest.ParseScenario(args[0])
				if err != nil {
					return usageError(err)
				}
				opts.lib.Scenario = s
			}
			src, err := applyEnv(cmd)
			if err != nil {
				return err
			}
			opts.sources = src
			if opts.insecure && opts.lib.AuthSecret != "" {
				return usageError(errors.New("--insecure and --auth-secret (or TAXI_AUTH_SECRET) exclude each other"))
			}
			// loadtest reads a zero warm-up as its default: an explicit 0
			// means none.
			if cmd.Flags().Changed("warm-up") && opts.lib.WarmUp == 0 {
				opts.lib.WarmUp = -1
			}
			// Unset, --reconnect follows the scenario.
			if cmd.Flags().Changed("reconnect") {
				opts.lib.Reconnect = &opts.reconnect
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return benchRun(cmd.Context(), opts)
		},
	}
	o := &opts.lib
	f := cmd.Flags()
	f.StringArrayVar(&o.Targets, "target", []string{loadtest.DefaultTarget}, "hub base URL; repeat for several hubs, drivers are spread round-robin")
	f.StringVar(&o.OrdersVia, "orders-via", loadtest.OrdersViaFirst, "create orders through the first target or all targets round-robin: first|all")
	f.IntVar(&o.Drivers, "drivers", loadtest.DefaultDrivers, "simulated driver connections")
	f.IntVar(&o.Users, "users", 0, "simulated riders, each with a feed; orders are theirs round-robin (0: 10, or more at high --rate; -1: no rider feeds)")
	f.Float64Var(&o.Rate, "rate", 0, "orders created per second, open loop (default 50, storm 1000)")
	f.IntVar(&o.Orders, "orders", 0, "storm: open orders created before the drivers connect (default 3000)")
	f.DurationVar(&o.Duration, "duration", 0, "measured length of the run; for connect, how long connections are held; for storm, how long drivers have to be greeted (default 10s, soak 5m, storm 1m)")
	f.DurationVar(&o.WarmUp, "warm-up", loadtest.DefaultWarmUp, "load before measuring, excluded from every figure; 0 skips it")
	f.DurationVar(&o.Drain, "drain", loadtest.DefaultDrain, "longest wait for late deliveries after the last order")
	f.IntVar(&o.Racers, "racers", loadtest.DefaultRacers, "drivers racing each order (accept, soak)")
	f.StringVar(&o.RaceVia, "race-via", loadtest.RaceBoth, "how racers accept: http|ws|both")
	f.Float64Var(&o.ConnectRate, "connect-rate", loadtest.DefaultConnectRate, "new connections per second during the ramp")
	f.BoolVar(&opts.reconnect, "reconnect", false, "reconnect a feed the hub ends, to the next target with ?since= (default on for fanout and soak; --reconnect=false turns it off)")
	f.DurationVar(&o.Interval, "interval", 0, "period of plain progress lines and soak report lines (default 1s, soak 10s)")
	f.DurationVar(&o.Timeout, "timeout", loadtest.DefaultTimeout, "bound of every dial and HTTP request")
	f.IntVar(&o.MaxInFlight, "max-in-flight", loadtest.DefaultMaxInFlight, "HTTP requests in flight at most; orders due beyond it are skipped and counted")
	f.StringVar(&o.AuthSecret, "auth-secret", "", "the hubs' HS256 secret: bench mints every driver's and rider's token")
	f.BoolVar(&opts.insecure, "insecure", false, "the hubs run with --insecure (the default when no secret is given)")
	f.StringVar(&opts.sourceIPs, "source-ips", "", "local addresses for WebSocket dials, e.g. 127.0.0.1-127.0.0.50, to pass one address's ~28k ports")
	f.IntVar(&o.Procs, "procs", 1, "spread the simulated clients over this many bench worker processes")
	f.StringVar(&o.RunID, "run-id", "", "prefix of the run's driver and rider ids (default random)")
	f.StringVar(&opts.slo, "slo", "", "thresholds, e.g. 'p99<10ms,loss=0,throughput>100000'; exit 1 when one is breached")
	f.StringVar(&opts.jsonPath, "json", "", "write every figure as JSON to this file, - for stdout (see docs/bench.md)")
	f.StringVar(&opts.mdPath, "markdown", "", "write the summary as markdown tables to this file, - for stdout")
	f.BoolVar(&opts.quiet, "quiet", false, "plain progress lines instead of progress bars")
	f.BoolVar(&opts.worker, "worker", false, "run as a worker process of another bench (internal)")
	_ = f.MarkHidden("worker")
	addGeoFlags(f, &opts.geo)
	bindEnv(f, "auth-secret")
	return cmd
}

// sloHelp lists the SLO metrics for --help.
func sloHelp() string {
	m := loadtest.SLOMetrics()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-17s %s", k, m[k])
	}
	return b.String()
}

// benchRun runs the bench and prints its summary and reports; it is the
// command without cobra.
func benchRun(ctx context.Context, opts *benchOptions) error {
	if opts.worker {
		return loadtest.RunWorker(ctx, opts.IO.In, opts.IO.Out, benchLogger(opts.IO.ErrOut))
	}
	if opts.jsonPath == stdoutPath && opts.mdPath == stdoutPath {
		return usageError(errors.New("--json - and --markdown - both want stdout: send one to a file"))
	}
	if s := opts.lib.AuthSecret; s != "" {
		if err := checkSecret(s); err != nil {
			return usageError(fmt.Errorf("%s: %w", opts.sources.name("auth-secret"), err))
		}
	}
	if opts.lib.Scenario == loadtest.Geo {
		return benchGeoRun(ctx, opts)
	}
	slos, err := loadtest.ParseSLO(opts.slo)
	if err != nil {
		return usageError(err)
	}
	if opts.sourceIPs != "" {
		ips, err := loadtest.ParseSourceIPs(opts.sourceIPs)
		if err != nil {
			return usageError(err)
		}
		for _, ip := range ips {
			opts.lib.SourceIPs = append(opts.lib.SourceIPs, ip.String())
		}
	}
	opts.lib.Logger = benchLogger(opts.IO.ErrOut)
	b, err := loadtest.New(opts.lib)
	if err != nil {
		return usageError(err)
	}
	interval := b.Options().Interval
	loadtest.Watch(opts.IO.ErrOut, b.Run(ctx), opts.IO.IsStderrTTY() && !opts.quiet, interval)
	r := b.Report()
	breached := loadtest.CheckSLOs(r, slos)
	// Stdout carries one thing: the summary, or the report sent there.
	summary := opts.IO.Out
	if opts.jsonPath == stdoutPath || opts.mdPath == stdoutPath {
		summary = opts.IO.ErrOut
	}
	if err := loadtest.TextReporter(r)(summary); err != nil {
		return err
	}
	if err := writeReport(opts.IO.Out, opts.jsonPath, loadtest.JSONReporter(r)); err != nil {
		return err
	}
	if err := writeReport(opts.IO.Out, opts.mdPath, loadtest.MarkdownReporter(r)); err != nil {
		return err
	}
	return benchVerdict(r, breached)
}

// benchVerdict is the exit status of a finished run: 1 when the run failed,
// an SLO was breached or the run was interrupted (then its failures are
// those of a partial run, and not reported as such).
func benchVerdict(r *loadtest.Report, breached bool) error {
	if f := loadtest.RunFailures(r); len(f) > 0 && !r.Interrupted {
		return withExitCode(1, fmt.Errorf("the run failed: %s", strings.Join(f, "; ")))
	}
	switch {
	case breached:
		n := 0
		for _, s := range r.SLO {
			if !s.Passed {
				n++
			}
		}
		return withExitCode(1, fmt.Errorf("%d of %d SLO thresholds breached", n, len(r.SLO)))
	case r.Interrupted:
		return withExitCode(1, errors.New("bench interrupted: the summary above is partial"))
	}
	return nil
}

// writeReport writes one report to the file at path, or to stdout when path
// is "-"; an empty path writes nothing.
func writeReport(stdout io.Writer, path string, rep loadtest.Reporter) (err error) {
	switch path {
	case "":
		return nil
	case stdoutPath:
		if err := rep(stdout); err != nil {
			return fmt.Errorf("write report to stdout: %w", err)
		}
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write report %s: %w", path, cerr)
		}
	}()
	return rep(f)
}

// benchLogger logs warnings (a low file limit, a worker failing) on w.
func benchLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
