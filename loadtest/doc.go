// Package loadtest is the library behind `taxi bench`: it drives one or more
// running hubs with simulated drivers and riders and measures whether they
// hold the hub's published claims (delivery latency under 10 ms, 100,000+
// messages per second, 100,000+ connections, about 2 KB of memory per
// WebSocket, exactly one winner per order).
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
//
// What the package must never do:
//   - contact any host other than the targets it is given (plus the local
//     source addresses it binds to);
//   - run an unbounded loop: every loop is bounded by a count and by the run's
//     context and deadlines, and every goroutine stops with the run;
//   - leave orders behind: orders it created are cancelled when the run ends;
//   - report a claim as held when the run did not measure it.
package loadtest
