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

// benchOptions is what the bench command's flags fill in.
type benchOptions struct {
	lib       loadtest.Options
	sourceIPs string
	slo       string
	jsonPath  string
	mdPath    string
	quiet     bool
	insecure  bool
	worker    bool

	out, errOut io.Writer
	terminal    bool // errOut is a terminal: draw progress bars
}

// newBenchCmd builds `taxi bench`. runF replaces benchRun in tests.
func newBenchCmd() *cobra.Command { return newBenchCmdWith(nil) }

func newBenchCmdWith(runF func(context.Context, *benchOptions) error) *cobra.Command {
	opts := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench [fanout|accept|connect|soak]",
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

Orders follow an open-loop schedule (no coordinated omission); the
--warm-up is excluded from every figure. Progress goes to stderr, the
summary to stdout. Exit status: 0, 1 when an --slo threshold is breached
or the run fails, 2 for bad flags. Ctrl-C stops the run and prints the
partial summary. docs/bench.md describes every flag and JSON field.

SLO metrics: ` + sloHelp(),
		Example: `  taxi bench                                   # 20 s against http://127.0.0.1:8080
  taxi bench accept --racers 10 --rate 100 --drivers 500
  taxi bench connect --drivers 15000 --connect-rate 3000 --duration 30s
  taxi bench --target http://10.0.0.1:8080 --target http://10.0.0.2:8080 \
      --drivers 5000 --rate 10 --slo 'p99<10ms,loss=0' --json report.json`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"fanout", "accept", "connect", "soak"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.out, opts.errOut = cmd.OutOrStdout(), cmd.ErrOrStderr()
			opts.terminal = benchTerminal(opts.errOut)
			if opts.worker {
				return loadtest.RunWorker(cmd.Context(), os.Stdin, opts.out, benchLogger(opts.errOut))
			}
			if len(args) == 1 {
				s, err := loadtest.ParseScenario(args[0])
				if err != nil {
					return usageError(err)
				}
				opts.lib.Scenario = s
			}
			secretFromEnv(cmd, "auth-secret", "TAXI_AUTH_SECRET", &opts.lib.AuthSecret)
			if opts.insecure && opts.lib.AuthSecret != "" {
				return usageError(errors.New("--insecure and --auth-secret (or TAXI_AUTH_SECRET) exclude each other"))
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
	f.Float64Var(&o.Rate, "rate", loadtest.DefaultRate, "orders created per second (open loop)")
	f.DurationVar(&o.Duration, "duration", 0, "measured length of the run; for connect, how long connections are held (default 10s, soak 5m)")
	f.DurationVar(&o.WarmUp, "warm-up", loadtest.DefaultWarmUp, "load before measuring, excluded from every figure; 0 or negative to skip")
	f.DurationVar(&o.Drain, "drain", loadtest.DefaultDrain, "longest wait for late deliveries after the last order")
	f.IntVar(&o.Racers, "racers", loadtest.DefaultRacers, "drivers racing each order (accept, soak)")
	f.StringVar(&o.RaceVia, "race-via", loadtest.RaceBoth, "how racers accept: http|ws|both")
	f.Float64Var(&o.ConnectRate, "connect-rate", loadtest.DefaultConnectRate, "new connections per second during the ramp")
	f.DurationVar(&o.Interval, "interval", 0, "period of plain progress lines and soak report lines (default 1s, soak 10s)")
	f.DurationVar(&o.Timeout, "timeout", loadtest.DefaultTimeout, "bound of every dial and HTTP request")
	f.IntVar(&o.MaxInFlight, "max-in-flight", loadtest.DefaultMaxInFlight, "HTTP requests in flight at most; orders due beyond it are skipped and counted")
	f.StringVar(&o.AuthSecret, "auth-secret", "", "the hubs' HS256 secret: bench mints every driver's and rider's token (env TAXI_AUTH_SECRET)")
	f.BoolVar(&opts.insecure, "insecure", false, "the hubs run with --insecure (the default when no secret is given)")
	f.StringVar(&opts.sourceIPs, "source-ips", "", "local addresses for WebSocket dials, e.g. 127.0.0.1-127.0.0.50, to pass one address's ~28k ports")
	f.IntVar(&o.Procs, "procs", 1, "spread the simulated clients over this many bench worker processes")
	f.StringVar(&o.RunID, "run-id", "", "prefix of the run's driver and rider ids (default random)")
	f.StringVar(&opts.slo, "slo", "", "thresholds, e.g. 'p99<10ms,loss=0,throughput>100000'; exit 1 when one is breached")
	f.StringVar(&opts.jsonPath, "json", "", "write every figure as JSON to this file (see docs/bench.md)")
	f.StringVar(&opts.mdPath, "markdown", "", "write the summary as markdown tables to this file")
	f.BoolVar(&opts.quiet, "quiet", false, "plain progress lines instead of progress bars")
	f.BoolVar(&opts.worker, "worker", false, "run as a worker process of another bench (internal)")
	_ = f.MarkHidden("worker")
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

// benchRun runs the bench and prints its summary; it is the command without
// cobra.
func benchRun(ctx context.Context, opts *benchOptions) error {
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
	opts.lib.Logger = benchLogger(opts.errOut)
	b, err := loadtest.New(opts.lib)
	if err != nil {
		return usageError(err)
	}
	interval := b.Options().Interval
	loadtest.Watch(opts.errOut, b.Run(ctx), opts.terminal && !opts.quiet, interval)
	r := b.Report()
	breached := loadtest.CheckSLOs(r, slos)
	if err := loadtest.TextReporter(r)(opts.out); err != nil {
		return err
	}
	if err := writeReport(opts.jsonPath, loadtest.JSONReporter(r)); err != nil {
		return err
	}
	if err := writeReport(opts.mdPath, loadtest.MarkdownReporter(r)); err != nil {
		return err
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

// writeReport writes one report file; an empty path writes nothing.
func writeReport(path string, rep loadtest.Reporter) (err error) {
	if path == "" {
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

// benchTerminal reports whether w is a character device, where progress bars
// can redraw in place.
func benchTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
