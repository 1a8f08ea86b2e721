// Package loadtest is the library behind `taxi bench`: it drives one or more
// running hubs with simulated drivers and riders and measures whether they
// hold the hub's published claims (delivery latency under 10 ms, 100,000+
// messages per second, 100,000+ connections, about 2 KB of memory per
// WebSocket, exactly one winner per order) and its promise that every
// client gets each event it is owed once, in order, across reconnects; the
// storm scenario checks that a node greets a burst of reconnecting drivers
// correctly and without declaring an outage.
//
// A run is described by [Options], started with [New] and [Bench.Run], which
// returns a channel of [Progress] samples closed once every worker has
// stopped; [Bench.Report] then holds every figure. Reporters ([TextReporter],
// [MarkdownReporter], [JSONReporter]) are func(io.Writer) error, and [ParseSLO]
// turns `p99<10ms,loss=0` into thresholds checked against a [Report];
// [RunFailures] says when the run itself failed (nothing connected, created
// or delivered), whatever the thresholds.
//
// Measurement rules the package keeps:
//   - Orders follow an open-loop schedule: order i is due at start+i/rate
//     whether or not earlier orders have been answered, and every latency is
//     measured from that due instant, so a slow hub (or a slow bench) cannot
//     hide its delay by slowing the schedule (no coordinated omission).
//   - Orders sent during the warm-up are delivered and counted separately but
//     never enter the latency histograms or the loss count.
//   - Timestamps come from the system's monotonic clock, so worker processes
//     started with Options.Procs compare their arrival times with the
//     parent's send times directly.
//   - Each simulated client outlives its connections: its account of event
//     ids (missed, repeated, out of order) spans every reconnect.
//
// What the package must never do:
//   - contact any host other than the targets it is given (plus the local
//     source addresses it binds to);
//   - run an unbounded loop: every loop is bounded by a count and by the run's
//     context and deadlines, and every goroutine stops with the run;
//   - leave orders behind: orders it created are cancelled when the run ends;
//   - report a claim as held when the run did not measure it.
//
// The files:
//   - options.go: Options, scenarios, defaults and validation;
//   - bench.go: Bench, the run's phases, the open-loop sender, clean-up;
//   - schedule.go, clock.go: the open-loop plan and the shared clock;
//   - fleet.go, client.go: a process's share of simulated clients, their
//     dials, read loops and frame routing;
//   - frame.go: reading frames and connected greetings without decoding;
//   - registry.go: orders matched with deliveries, per driver, and what
//     each client missed;
//   - event.go: event ids, a client's ledger, the events report;
//   - reconnect.go: reconnects with ?since= and their counts;
//   - storm.go: the storm scenario;
//   - worker.go: worker processes and their protocol (Options.Procs);
//   - orders.go, token.go, stats.go: the hub's HTTP API, tokens, /ws/stats;
//   - merge.go, report.go, claims.go, slo.go, failure.go, errors.go: the
//     report, its claims, thresholds, failures and error kinds;
//   - text.go, watch.go, progress.go: summaries and live progress;
//   - histogram.go, cpu.go, rlimit.go, sourceip.go: latency histograms,
//     CPU time, the open-file limit, source addresses.
package loadtest
