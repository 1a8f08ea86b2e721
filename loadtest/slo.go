package loadtest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SLO is one threshold of a --slo list, such as p99<10ms.
type SLO struct {
	Raw    string  `json:"expr"`
	Metric string  `json:"metric"`
	Op     string  `json:"op"`
	Value  float64 `json:"threshold"` // in the metric's unit
}

// SLOResult is an SLO checked against a run.
type SLOResult struct {
	SLO
	Measured float64 `json:"measured"`
	Unit     string  `json:"unit"`
	Passed   bool    `json:"passed"`
	Note     string  `json:"note,omitempty"`
}

// sloUnit is how a metric's threshold is written and compared.
type sloUnit int

const (
	unitMillis  sloUnit = iota // durations: "10ms", "250us", "1s"; bare numbers are ms
	unitMicros                 // durations compared in µs: "3us"
	unitCount                  // plain numbers; loss also takes a percent
	unitBytes                  // "2KB", "2KiB", "2048"
	unitPercent                // loss written with %
)

// sloMetric reads one figure from a report; ok is false when the run did not
// measure it.
type sloMetric struct {
	unit sloUnit
	help string
	read func(*Report) (float64, bool)
}

func latencyOf(l func(*Report) Latency, q func(Latency) float64) func(*Report) (float64, bool) {
	return func(r *Report) (float64, bool) {
		v := l(r)
		return q(v), v.Count > 0
	}
}

func deliveryLat(r *Report) Latency { return r.Deliveries.Latency }

// sloMetrics lists every metric --slo accepts.
var sloMetrics = map[string]sloMetric{
	"p50":   {unitMillis, "delivery latency p50", latencyOf(deliveryLat, func(l Latency) float64 { return l.P50 })},
	"p90":   {unitMillis, "delivery latency p90", latencyOf(deliveryLat, func(l Latency) float64 { return l.P90 })},
	"p99":   {unitMillis, "delivery latency p99", latencyOf(deliveryLat, func(l Latency) float64 { return l.P99 })},
	"p99.9": {unitMillis, "delivery latency p99.9", latencyOf(deliveryLat, func(l Latency) float64 { return l.P999 })},
	"max":   {unitMillis, "delivery latency max", latencyOf(deliveryLat, func(l Latency) float64 { return l.Max })},
	"connect_p99": {unitMillis, "connect latency p99", latencyOf(func(r *Report) Latency { return r.Connections.Latency },
		func(l Latency) float64 { return l.P99 })},
	"create_p99": {unitMillis, "order creation latency p99", latencyOf(func(r *Report) Latency { return r.Orders.Latency },
		func(l Latency) float64 { return l.P99 })},
	"accept_p99": {unitMillis, "accept latency p99", func(r *Report) (float64, bool) {
		if r.Accepts == nil {
			return 0, false
		}
		return r.Accepts.Latency.P99, r.Accepts.Latency.Count > 0
	}},
	"loss": {unitCount, "deliveries lost (count, or percent of expected with %)", func(r *Report) (float64, bool) {
		return float64(r.Deliveries.Lost), r.Deliveries.Expected > 0
	}},
	"throughput": {unitCount, "deliveries per second", func(r *Report) (float64, bool) {
		return r.Deliveries.PerSecond, r.Deliveries.Expected > 0
	}},
	"errors": {unitCount, "errors of every kind", func(r *Report) (float64, bool) {
		var n int64
		for _, v := range r.Errors {
			n += v
		}
		return float64(n), true
	}},
	"connections": {unitCount, "connections held after the ramp", func(r *Report) (float64, bool) {
		return float64(r.Connections.Connected), true
	}},
	"dropped": {unitCount, "connections the hub dropped", func(r *Report) (float64, bool) {
		return float64(r.Connections.Dropped), true
	}},
	"bad_orders": {unitCount, "orders with no or several winners", func(r *Report) (float64, bool) {
		if r.Accepts == nil {
			return 0, false
		}
		return float64(r.Accepts.BadCount), r.Accepts.Orders > 0
	}},
	"mem_per_conn": {unitBytes, "server RSS per connection", func(r *Report) (float64, bool) {
		return r.Server.MemoryPerConnection, r.Server.ConnectionsGained > 0
	}},
	"cpu_per_delivery": {unitMicros, "server CPU per delivery", func(r *Report) (float64, bool) {
		return r.Server.CPUPerDeliveryUS, r.Server.CPUPerDeliveryUS > 0
	}},
	"bench_cpu": {unitCount, "bench CPU in cores", func(r *Report) (float64, bool) {
		return r.BenchCPU.Cores, true
	}},
}

// SLOMetrics returns the metric names --slo accepts with what each reads.
func SLOMetrics() map[string]string {
	out := make(map[string]string, len(sloMetrics))
	for k, m := range sloMetrics {
		out[k] = m.help
	}
	return out
}

// ParseSLO parses a comma-separated list of thresholds such as
// "p99<10ms,loss=0,throughput>100000". Operators are <, <=, >, >=, = (or ==).
func ParseSLO(s string) ([]SLO, error) {
	var out []SLO
	var errs []error
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		slo, err := parseOneSLO(part)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, slo)
	}
	if len(out) == 0 && len(errs) == 0 && strings.TrimSpace(s) != "" {
		errs = append(errs, fmt.Errorf("slo %q: no thresholds", s))
	}
	return out, errors.Join(errs...)
}

func parseOneSLO(expr string) (SLO, error) {
	i := strings.IndexAny(expr, "<>=")
	if i <= 0 {
		return SLO{}, fmt.Errorf("slo %q: want metric, operator and value, as p99<10ms", expr)
	}
	metric := strings.ToLower(strings.TrimSpace(expr[:i]))
	if metric == "p999" {
		metric = "p99.9"
	}
	rest := expr[i:]
	opLen := 1
	if len(rest) > 1 && rest[1] == '=' {
		opLen = 2
	}
	op, val := rest[:opLen], strings.TrimSpace(rest[opLen:])
	if strings.ContainsAny(val[:min(len(val), 1)], "<>=") {
		return SLO{}, fmt.Errorf("slo %q: unknown operator %q", expr, op+val[:1])
	}
	switch op {
	case "==":
		op = "="
	case "<", "<=", ">", ">=", "=":
	default:
		return SLO{}, fmt.Errorf("slo %q: unknown operator %q", expr, op)
	}
	m, ok := sloMetrics[metric]
	if !ok {
		return SLO{}, fmt.Errorf("slo %q: unknown metric %q (see taxi bench --help)", expr, metric)
	}
	v, unit, err := parseSLOValue(val, m.unit)
	if err != nil {
		return SLO{}, fmt.Errorf("slo %q: %w", expr, err)
	}
	if unit == unitPercent {
		metric += "%"
	}
	return SLO{Raw: expr, Metric: metric, Op: op, Value: v}, nil
}

// parseSLOValue reads a threshold in unit, returning it in the metric's
// reporting unit (ms, µs, count, bytes or percent).
func parseSLOValue(s string, unit sloUnit) (float64, sloUnit, error) {
	if s == "" {
		return 0, unit, errors.New("missing value")
	}
	switch unit {
	case unitMillis, unitMicros:
		// A bare number is already in the metric's unit.
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, unit, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, unit, fmt.Errorf("value %q: want a duration such as 10ms", s)
		}
		if unit == unitMicros {
			return float64(d) / float64(time.Microsecond), unit, nil
		}
		return float64(d) / float64(time.Millisecond), unit, nil
	case unitBytes:
		mult := 1.0
		for _, sfx := range []struct {
			s string
			m float64
		}{{"KiB", 1024}, {"MiB", 1 << 20}, {"KB", 1000}, {"MB", 1e6}, {"B", 1}} {
			if strings.HasSuffix(s, sfx.s) {
				s, mult = strings.TrimSpace(strings.TrimSuffix(s, sfx.s)), sfx.m
				break
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, unit, fmt.Errorf("value %q: want bytes such as 2KiB", s)
		}
		return f * mult, unit, nil
	default:
		if p, ok := strings.CutSuffix(s, "%"); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return 0, unit, fmt.Errorf("value %q: want a percentage such as 0.1%%", s)
			}
			return f, unitPercent, nil
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if err != nil {
			return 0, unit, fmt.Errorf("value %q: want a number", s)
		}
		return f, unit, nil
	}
}

// Check judges the SLO against r. A metric the run did not measure fails:
// an unverified threshold must not pass a CI gate.
func (s SLO) Check(r *Report) SLOResult {
	res := SLOResult{SLO: s}
	name, percent := strings.CutSuffix(s.Metric, "%")
	m := sloMetrics[name]
	v, ok := m.read(r)
	switch {
	case percent:
		res.Unit = "%"
		if r.Deliveries.Expected > 0 {
			v = 100 * v / float64(r.Deliveries.Expected)
		}
	case m.unit == unitMillis:
		res.Unit = "ms"
	case m.unit == unitMicros:
		res.Unit = "µs"
	case m.unit == unitBytes:
		res.Unit = "B"
	}
	res.Measured = v
	if !ok {
		res.Note = "not measured by this run"
		return res
	}
	switch s.Op {
	case "<":
		res.Passed = v < s.Value
	case "<=":
		res.Passed = v <= s.Value
	case ">":
		res.Passed = v > s.Value
	case ">=":
		res.Passed = v >= s.Value
	case "=":
		res.Passed = v == s.Value
	}
	return res
}

// CheckSLOs checks every SLO, stores the results in r and reports whether
// any was breached.
func CheckSLOs(r *Report, slos []SLO) (breached bool) {
	r.SLO = r.SLO[:0]
	for _, s := range slos {
		res := s.Check(r)
		breached = breached || !res.Passed
		r.SLO = append(r.SLO, res)
	}
	return breached
}
