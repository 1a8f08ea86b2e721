package loadtest

import (
	"strings"
	"testing"
)

func TestRunFailures(t *testing.T) {
	worked := func() *Report {
		return &Report{
			Scenario:    Fanout,
			Connections: ConnectionReport{Planned: 12, Connected: 12, DriversAtStart: 10},
			Orders:      OrderReport{Planned: 20, Created: 20, Warm: 4},
			Deliveries:  DeliveryReport{Expected: 160, Received: 160},
		}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Report)
		wants []string // one substring per failure, in order; none: the run worked
	}{
		{"a run that worked", func(*Report) {}, nil},
		// Losses and slow deliveries are for SLOs to judge, not failures.
		{"some loss", func(r *Report) { r.Deliveries.Received, r.Deliveries.Lost = 100, 60 }, nil},
		{"hub not running", func(r *Report) {
			r.Connections.Connected, r.Connections.Failed, r.Connections.DriversAtStart = 0, 12, 0
			r.Connections.FailuresBy = map[string]int64{"refused": 10, "timeout": 2}
			r.Orders.Created, r.Orders.Warm, r.Orders.Failed = 0, 0, 20
			r.Errors = map[string]int64{"refused": 30}
			r.Deliveries = DeliveryReport{}
		}, []string{"no connection held: 0 of 12 opened, mostly refused (10)", "every order failed: 0 of 20 created (20 failed, 0 skipped), mostly refused (30)"}},
		{"orders refused", func(r *Report) { r.Orders.Created, r.Orders.Warm, r.Orders.Failed = 0, 0, 20 }, []string{"every order failed"}},
		{"nothing delivered", func(r *Report) { r.Deliveries.Received = 0 }, []string{"nothing delivered: 16 measured orders, 10 drivers"}},
		// A run stopped early may not have delivered yet.
		{"interrupted", func(r *Report) { r.Deliveries.Received, r.Interrupted = 0, true }, nil},
		// connect creates no orders.
		{"connect", func(r *Report) { r.Scenario, r.Orders, r.Deliveries = Connect, OrderReport{}, DeliveryReport{} }, nil},
		{"connect, nothing held", func(r *Report) {
			r.Scenario, r.Orders, r.Deliveries = Connect, OrderReport{}, DeliveryReport{}
			r.Connections.Connected = 0
		}, []string{"no connection held: 0 of 12 opened"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := worked()
			tc.edit(r)
			got := RunFailures(r)
			if len(got) != len(tc.wants) {
				t.Fatalf("failures %q, want %d", got, len(tc.wants))
			}
			for i, want := range tc.wants {
				if !strings.Contains(got[i], want) {
					t.Errorf("failure %d: %q lacks %q", i, got[i], want)
				}
			}
		})
	}
}
