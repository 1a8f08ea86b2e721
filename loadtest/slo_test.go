package loadtest

import (
	"strings"
	"testing"
)

func TestParseSLO(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []SLO
		err  string
	}{
		// The example of the issue: a duration, a count, a rate.
		{in: "p99<10ms,loss=0,throughput>100000", want: []SLO{
			{Raw: "p99<10ms", Metric: "p99", Op: "<", Value: 10},
			{Raw: "loss=0", Metric: "loss", Op: "=", Value: 0},
			{Raw: "throughput>100000", Metric: "throughput", Op: ">", Value: 100000},
		}},
		// Spaces, == and a bare number (milliseconds for latencies).
		{in: " p99.9 <= 25 , errors == 0 ", want: []SLO{
			{Raw: "p99.9 <= 25", Metric: "p99.9", Op: "<=", Value: 25},
			{Raw: "errors == 0", Metric: "errors", Op: "=", Value: 0},
		}},
		// Durations in other units become milliseconds; p999 is p99.9.
		{in: "max<1s,p999<500us", want: []SLO{
			{Raw: "max<1s", Metric: "max", Op: "<", Value: 1000},
			{Raw: "p999<500us", Metric: "p99.9", Op: "<", Value: 0.5},
		}},
		// A loss in percent, bytes with a unit, CPU in microseconds.
		{in: "loss<0.1%,mem_per_conn<=2KiB,cpu_per_delivery<3us", want: []SLO{
			{Raw: "loss<0.1%", Metric: "loss%", Op: "<", Value: 0.1},
			{Raw: "mem_per_conn<=2KiB", Metric: "mem_per_conn", Op: "<=", Value: 2048},
			{Raw: "cpu_per_delivery<3us", Metric: "cpu_per_delivery", Op: "<", Value: 3},
		}},
		// Empty list: nothing to check.
		{in: "", want: nil},
		// Unknown metric.
		{in: "p42<1ms", err: `unknown metric "p42"`},
		// No operator.
		{in: "p99 10ms", err: "want metric, operator and value"},
		// Operator written backwards.
		{in: "p99=<10ms", err: "unknown operator"},
		// A latency needs a duration.
		{in: "p99<fast", err: "want a duration"},
		// Every bad item is reported, not just the first.
		{in: "p42<1,loss<x", err: "want a number"},
	} {
		got, err := ParseSLO(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseSLO(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSLO(%q): %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseSLO(%q) = %+v, want %+v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseSLO(%q)[%d] = %+v, want %+v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestCheckSLOs(t *testing.T) {
	r := &Report{
		Deliveries: DeliveryReport{Expected: 1000, Received: 990, Lost: 10, PerSecond: 120000,
			Latency: Latency{Count: 990, P99: 4.2, P999: 30}},
		Server: ServerReport{ConnectionsGained: 1000, MemoryPerConnection: 3000},
	}
	for _, tt := range []struct {
		slo    string
		passed bool
	}{
		{"p99<10ms", true},            // 4.2 ms
		{"p99.9<25ms", false},         // 30 ms
		{"loss=0", false},             // 10 lost
		{"loss<=1%", true},            // 1.0%
		{"loss<0.5%", false},          // 1.0%
		{"throughput>100000", true},   // 120,000/s
		{"mem_per_conn<=2KiB", false}, // 3000 B
		{"accept_p99<5ms", false},     // no races: not measured fails
		{"bad_orders=0", false},       // no races: not measured fails
		{"connect_p99<1s", false},     // no connect samples
		{"errors=0", true},            // no errors
	} {
		slos, err := ParseSLO(tt.slo)
		if err != nil {
			t.Fatalf("ParseSLO(%q): %v", tt.slo, err)
		}
		breached := CheckSLOs(r, slos)
		if breached == tt.passed || r.SLO[0].Passed != tt.passed {
			t.Errorf("%s: passed %t (measured %g %s, %s), want %t", tt.slo, r.SLO[0].Passed, r.SLO[0].Measured, r.SLO[0].Unit, r.SLO[0].Note, tt.passed)
		}
	}
}
