package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// A Reporter writes a report in one format.
type Reporter func(io.Writer) error

// JSONReporter writes r as indented JSON (the --json document).
func JSONReporter(r *Report) Reporter { return jsonReporter(r) }

// jsonReporter writes v as indented JSON.
func jsonReporter(v any) Reporter {
	return func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("write json report: %w", err)
		}
		return nil
	}
}

// TextReporter writes the summary a person reads at the end of a run.
func TextReporter(r *Report) Reporter {
	return func(w io.Writer) error {
		ew := &errWriter{w: w}
		writeText(ew, r)
		return ew.err
	}
}

// MarkdownReporter writes the summary as markdown tables, for READMEs and
// CI artefacts.
func MarkdownReporter(r *Report) Reporter {
	return func(w io.Writer) error {
		ew := &errWriter{w: w}
		writeMarkdown(ew, r)
		return ew.err
	}
}

// errWriter keeps the first write error so the writers below stay linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, nil
}

func (e *errWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }

// headline says what ran, in one line a newcomer can read.
func headline(r *Report) string {
	o := r.Options
	var b strings.Builder
	fmt.Fprintf(&b, "taxi bench %s: %d target(s)", r.Scenario, len(o.Targets))
	switch r.Scenario {
	case Storm:
		fmt.Fprintf(&b, ", %s drivers at once onto %s open orders", count(int64(o.Drivers)), count(int64(o.Orders)))
	case Connect:
		fmt.Fprintf(&b, ", %s drivers and %s riders at %s/s, held %s", count(int64(o.Drivers)), count(int64(o.riders())),
			count(int64(o.ConnectRate)), o.Duration)
	default:
		fmt.Fprintf(&b, ", %s drivers, %s riders, %g orders/s for %s", count(int64(o.Drivers)), count(int64(o.riders())), o.Rate, o.Duration)
		if o.WarmUp > 0 {
			fmt.Fprintf(&b, " after a %s warm-up", o.WarmUp)
		}
		if r.Accepts != nil {
			fmt.Fprintf(&b, ", %d racers per order (%s)", o.Racers, o.RaceVia)
		}
	}
	if r.Machine.Procs > 1 {
		fmt.Fprintf(&b, ", %d bench processes", r.Machine.Procs)
	}
	return b.String()
}

func writeText(w *errWriter, r *Report) {
	w.printf("%s\n", headline(r))
	w.printf("targets: %s\n", strings.Join(r.Options.Targets, ", "))
	w.printf("run %s on %s (%s/%s, %d CPUs), %.1f s", r.RunID, r.Machine.Hostname, r.Machine.OS, r.Machine.Arch, r.Machine.CPUs, r.Seconds)
	if r.Interrupted {
		w.printf(" - INTERRUPTED, figures are partial")
	}
	w.printf("\n\n")

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	c := r.Connections
	fmt.Fprintf(tw, "connections\t%s of %s open, %s failed, %s dropped; connect p50 %s ms, p99 %s ms\n",
		count(c.Connected), count(c.Planned), count(c.Failed), count(c.Dropped), ms(c.Latency.P50), ms(c.Latency.P99))
	if st := r.Storm; st != nil {
		fmt.Fprintf(tw, "storm\t%s\n", stormLine(st))
		l := st.Latency
		fmt.Fprintf(tw, "greetings\tp50 %s ms, p90 %s ms, p99 %s ms, max %s ms (storm instant to a correct connected frame); %s dials, %s closed 1013 and retried; server CPU %.2f s\n",
			ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), count(st.Attempts), count(st.Closed1013), st.ServerCPUSeconds)
	}
	if r.Scenario != Connect && r.Scenario != Storm {
		o := r.Orders
		fmt.Fprintf(tw, "orders\t%s created of %s (%s in the warm-up), %s failed, %s skipped; create p99 %s ms\n",
			count(o.Created), count(o.Planned), count(o.Warm), count(o.Failed), count(o.Skipped), ms(o.Latency.P99))
		d := r.Deliveries
		fmt.Fprintf(tw, "deliveries\t%s of %s received%s, %s lost (%.3f%%), %s duplicated; %s/s\n",
			count(d.Received), count(d.Expected), inSnapshots(d.InSnapshot), count(d.Lost), 100*d.LossRate, count(d.Duplicated), count(int64(d.PerSecond)))
		l := d.Latency
		fmt.Fprintf(tw, "latency\tp50 %s ms, p90 %s ms, p99 %s ms, p99.9 %s ms, max %s ms (order due to new_order received)\n",
			ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max))
		e := r.Events
		fmt.Fprintf(tw, "events\t%s received: %s missed, %s repeated, %s out of order (%s clients at fault)%s\n",
			count(e.Received), count(e.Missed), count(e.Repeated), count(e.OutOfOrder), count(e.FaultyClients), inSnapshots(e.InSnapshot))
	}
	if rc := r.Reconnects; rc.Attempts > 0 || r.Connections.Dropped > 0 {
		fmt.Fprintf(tw, "reconnects\t%s\n", reconnectLine(r))
	}
	if a := r.Accepts; a != nil {
		fmt.Fprintf(tw, "accepts\t%s orders raced by %d (%s): %s won, %s lost, %s with 0 or 2+ winners; accept p50 %s ms, p99 %s ms\n",
			count(a.Orders), a.Racers, a.Via, count(a.Wins), count(a.Losses), count(a.BadCount), ms(a.Latency.P50), ms(a.Latency.P99))
	}
	s := r.Server
	perDelivery := func(us float64) string {
		if us == 0 {
			return ""
		}
		return fmt.Sprintf(", %.1f µs per delivery", us)
	}
	// A storm's server CPU and outages are on its own lines.
	if r.Storm == nil {
		fmt.Fprintf(tw, "server CPU\t%.2f s%s; %s frames dropped, %s slow clients cut%s\n",
			s.CPUSeconds, perDelivery(s.CPUPerDeliveryUS), count(s.FramesDropped), count(s.SlowDisconnected), outagesText(r))
	}
	fmt.Fprintf(tw, "server memory\tRSS %s over %s new connections, %s each\n",
		bytesIEC(float64(s.RSSDeltaBytes)), count(s.ConnectionsGained), bytesIEC(s.MemoryPerConnection))
	sat := ""
	if r.BenchCPU.Saturated {
		sat = "; SATURATED: the figures may show bench's limits, not the hub's"
	}
	fmt.Fprintf(tw, "bench CPU\t%.2f s = %.2f cores%s; send lag p99 %s ms%s\n",
		r.BenchCPU.Seconds, r.BenchCPU.Cores, perDelivery(r.BenchCPU.PerDeliveryUS), ms(r.Orders.SendLag.P99), sat)
	fmt.Fprintf(tw, "errors\t%s\n", errorLine(r.Errors))
	_ = tw.Flush()

	if a := r.Accepts; a != nil && len(a.BadOrders) > 0 {
		w.printf("\norders without exactly one winner:\n")
		for i, b := range a.BadOrders {
			if i == 20 {
				w.printf("  ... and %d more (see --json)\n", a.BadCount-20)
				break
			}
			w.printf("  %s: %d winners, %d losers\n", b.OrderID, b.Wins, b.Losses)
		}
	}
	if e := r.Events; len(e.Faults) > 0 {
		w.printf("\nclients whose events were not exactly once and in order:\n")
		for i, f := range e.Faults {
			if i == 20 {
				w.printf("  ... and %d more (see --json)\n", e.FaultyClients-20)
				break
			}
			w.printf("  %s: %d missed, %d repeated, %d out of order\n", f.Client, f.Missed, f.Repeated, f.OutOfOrder)
		}
	}
	if len(r.Intervals) > 0 {
		w.printf("\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "seconds\torders\tdelivered\tper second\tp99 ms\topen\terrors\t\n")
		for _, iv := range r.Intervals {
			fmt.Fprintf(tw, "%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", iv.Seconds, count(iv.Orders), count(iv.Delivered),
				count(int64(iv.PerSecond)), ms(iv.P99), count(iv.Open), count(iv.Errors))
		}
		_ = tw.Flush()
	}

	w.printf("\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "claim\ttarget\tstatus\tmeasured\n")
	for _, c := range r.Claims {
		m := c.Measured
		if c.Note != "" {
			m += " (" + c.Note + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Target, c.Status, m)
	}
	_ = tw.Flush()

	if len(r.SLO) > 0 {
		w.printf("\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "slo\tmeasured\tresult\n")
		for _, s := range r.SLO {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Raw, sloMeasured(s), sloVerdict(s))
		}
		_ = tw.Flush()
	}
	for _, n := range r.Notes {
		w.printf("\nnote: %s\n", n)
	}
}

func writeMarkdown(w *errWriter, r *Report) {
	w.printf("### %s\n\n", headline(r))
	w.printf("Run `%s` on %s (%s/%s, %d CPUs), %s, %.1f s", r.RunID, r.Machine.Hostname, r.Machine.OS, r.Machine.Arch,
		r.Machine.CPUs, r.StartedAt.UTC().Format("2006-01-02 15:04 UTC"), r.Seconds)
	if r.Interrupted {
		w.printf(" (interrupted: partial figures)")
	}
	w.printf("; targets %s.\n\n", strings.Join(r.Options.Targets, ", "))
	w.printf("| claim | target | status | measured |\n|---|---|---|---|\n")
	for _, c := range r.Claims {
		m := c.Measured
		if c.Note != "" {
			m += " (" + c.Note + ")"
		}
		w.printf("| %s | %s | %s | %s |\n", c.Name, c.Target, c.Status, m)
	}
	w.printf("\n| figure | value |\n|---|---|\n")
	c := r.Connections
	w.printf("| connections | %s of %s, %s failed, %s dropped, connect p99 %s ms |\n",
		count(c.Connected), count(c.Planned), count(c.Failed), count(c.Dropped), ms(c.Latency.P99))
	if st := r.Storm; st != nil {
		l := st.Latency
		w.printf("| storm | %s |\n", stormLine(st))
		w.printf("| greeting latency | p50 %s, p90 %s, p99 %s, max %s ms; %s dials, %s closed 1013 |\n",
			ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), count(st.Attempts), count(st.Closed1013))
	}
	if r.Scenario != Connect && r.Scenario != Storm {
		d := r.Deliveries
		w.printf("| deliveries | %s of %s, %s lost, %s duplicated, %s/s |\n",
			count(d.Received), count(d.Expected), count(d.Lost), count(d.Duplicated), count(int64(d.PerSecond)))
		l := d.Latency
		w.printf("| delivery latency | p50 %s, p90 %s, p99 %s, p99.9 %s, max %s ms |\n", ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max))
		e := r.Events
		w.printf("| events | %s received, %s missed, %s repeated, %s out of order%s |\n",
			count(e.Received), count(e.Missed), count(e.Repeated), count(e.OutOfOrder), inSnapshots(e.InSnapshot))
		w.printf("| order creation | %s created, p99 %s ms |\n", count(r.Orders.Created), ms(r.Orders.Latency.P99))
	}
	if a := r.Accepts; a != nil {
		w.printf("| accepts | %s orders raced by %d (%s), %s bad, p99 %s ms |\n", count(a.Orders), a.Racers, a.Via, count(a.BadCount), ms(a.Latency.P99))
	}
	s := r.Server
	if rc := r.Reconnects; rc.Attempts > 0 || r.Connections.Dropped > 0 {
		w.printf("| reconnects | %s |\n", reconnectLine(r))
	}
	w.printf("| server CPU | %.2f s, %.1f µs per delivery%s |\n", s.CPUSeconds, s.CPUPerDeliveryUS, outagesText(r))
	w.printf("| server memory | RSS %s over %s connections, %s each |\n", bytesIEC(float64(s.RSSDeltaBytes)), count(s.ConnectionsGained), bytesIEC(s.MemoryPerConnection))
	w.printf("| bench CPU | %.2f s, %.2f cores |\n", r.BenchCPU.Seconds, r.BenchCPU.Cores)
	w.printf("| errors | %s |\n", errorLine(r.Errors))
	if len(r.SLO) > 0 {
		w.printf("\n| slo | measured | result |\n|---|---|---|\n")
		for _, s := range r.SLO {
			w.printf("| `%s` | %s | %s |\n", s.Raw, sloMeasured(s), sloVerdict(s))
		}
	}
	w.printf("\n")
}

// stormLine says whether every driver was greeted correctly, and when.
func stormLine(st *StormReport) string {
	all := "not all greeted"
	if st.AllGreetedMS > 0 || st.Greeted == st.Drivers {
		all = fmt.Sprintf("all greeted %s ms after the instant", ms(st.AllGreetedMS))
	}
	return fmt.Sprintf("%s of %s drivers greeted with the %s open orders, %s wrongly%s, %s not at all: %s; %s Redis outages",
		count(st.Greeted), count(st.Drivers), count(st.OpenOrders), count(st.Wrong), firstCause(st.WrongBy), count(st.NotGreeted), all, count(st.Outages))
}

// inSnapshots says how many owed deliveries a snapshot stood in for, if any.
func inSnapshots(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s more in snapshots)", count(n))
}

// reconnectLine tells what became of the feeds the hub ended.
func reconnectLine(r *Report) string {
	rc := r.Reconnects
	if !rc.Enabled {
		return fmt.Sprintf("off: %s feeds ended by the hub stayed closed", count(r.Connections.Dropped))
	}
	return fmt.Sprintf("%s of %s ended feeds back (%s recovered, %s with a snapshot), %s gave up, %s attempts; back within p50 %s ms, max %s ms",
		count(rc.Reconnected), count(r.Connections.Dropped), count(rc.Recovered), count(rc.Snapshot), count(rc.GaveUp),
		count(rc.Attempts), ms(rc.Latency.P50), ms(rc.Latency.Max))
}

// outagesText gives the Redis outages the targets counted, when any target
// runs on Redis.
func outagesText(r *Report) string {
	for _, t := range r.Server.Targets {
		if t.Before != nil && t.Before.Redis != nil {
			return fmt.Sprintf("; %s Redis outages", count(r.Server.Outages))
		}
	}
	return ""
}

func sloMeasured(s SLOResult) string {
	if s.Note != "" {
		return s.Note
	}
	switch s.Unit {
	case "B":
		return bytesIEC(s.Measured)
	case "ms", "µs", "%":
		return strconv.FormatFloat(s.Measured, 'f', 3, 64) + " " + s.Unit
	}
	return strconv.FormatFloat(s.Measured, 'f', -1, 64) + " " + s.Unit
}

func sloVerdict(s SLOResult) string {
	if s.Passed {
		return "passed"
	}
	return "BREACHED"
}

func errorLine(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %s", k, count(m[k])))
	}
	return strings.Join(parts, ", ")
}

// ms prints milliseconds with three significant decimals at most.
func ms(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// count prints n with thousands separators: 100,000 reads faster than 100000.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// bytesIEC prints a byte count in B, KiB or MiB.
func bytesIEC(v float64) string {
	a := v
	if a < 0 {
		a = -a
	}
	switch {
	case a >= 1<<20:
		return strconv.FormatFloat(v/(1<<20), 'f', 1, 64) + " MiB"
	case a >= 1<<10:
		return strconv.FormatFloat(v/(1<<10), 'f', 1, 64) + " KiB"
	default:
		return strconv.FormatFloat(v, 'f', 0, 64) + " B"
	}
}
