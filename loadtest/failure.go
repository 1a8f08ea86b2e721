package loadtest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// RunFailures says why a run failed, one reason a line: no connection was
// held, every order failed, nothing was delivered, or some client's events
// were missed, repeated or out of order. It is empty when the run worked,
// whatever its other figures; [CheckSLOs] judges those. taxi bench exits 1
// on any failure, with or without --slo.
func RunFailures(r *Report) []string {
	var out []string
	c := r.Connections
	if c.Planned > 0 && c.Connected == 0 {
		out = append(out, fmt.Sprintf("no connection held: 0 of %s opened%s", count(c.Planned), firstCause(c.FailuresBy)))
	}
	if r.Scenario == Connect {
		return out
	}
	o := r.Orders
	if o.Planned > 0 && o.Created == 0 {
		out = append(out, fmt.Sprintf("every order failed: 0 of %s created (%s failed, %s skipped)%s",
			count(o.Planned), count(o.Failed), count(o.Skipped), firstCause(r.Errors)))
	}
	if st := r.Storm; st != nil {
		return append(out, stormFailures(r)...)
	}
	measured := o.Created - o.Warm
	if measured > 0 && r.Deliveries.Received == 0 && !r.Interrupted {
		out = append(out, fmt.Sprintf("nothing delivered: %s measured orders, %s drivers connected at their start, 0 deliveries",
			count(measured), count(c.DriversAtStart)))
	}
	if e := r.Events; e.Missed+e.Repeated+e.OutOfOrder > 0 && !r.Interrupted {
		out = append(out, fmt.Sprintf("events not delivered exactly once and in order: %s missed, %s repeated, %s out of order, at %s clients%s",
			count(e.Missed), count(e.Repeated), count(e.OutOfOrder), count(e.FaultyClients), firstFault(e.Faults)))
	}
	return out
}

// stormFailures says what went wrong in a storm: drivers not greeted
// correctly, or an outage the storm made the hub declare.
func stormFailures(r *Report) []string {
	var out []string
	st := r.Storm
	if st.Greeted < st.Drivers && !r.Interrupted {
		out = append(out, fmt.Sprintf("storm: %s of %s drivers not greeted with the %s open orders: %s wrongly greeted%s, %s not greeted within %s%s",
			count(st.Drivers-st.Greeted), count(st.Drivers), count(st.OpenOrders), count(st.Wrong), firstCause(st.WrongBy),
			count(st.NotGreeted), r.Options.Duration, firstCause(st.FailuresBy)))
	}
	if st.Outages > 0 {
		out = append(out, fmt.Sprintf("storm: the targets counted %s Redis outages", count(st.Outages)))
	}
	return out
}

// firstFault names the worst client, as ", worst X (...)".
func firstFault(faults []ClientFault) string {
	if len(faults) == 0 {
		return ""
	}
	f := faults[0]
	return fmt.Sprintf(", worst %s (%d missed, %d repeated, %d out of order)", f.Client, f.Missed, f.Repeated, f.OutOfOrder)
}

// firstCause names the most frequent cause in counts, as ", mostly X (N)".
func firstCause(counts map[string]int64) string {
	if len(counts) == 0 {
		return ""
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if n := cmp.Compare(counts[b], counts[a]); n != 0 {
			return n
		}
		return strings.Compare(a, b)
	})
	return fmt.Sprintf(", mostly %s (%s)", keys[0], count(counts[keys[0]]))
}
