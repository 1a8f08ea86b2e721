package loadtest

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWatchLines(t *testing.T) {
	ch := make(chan Progress, 4)
	ch <- Progress{Phase: PhaseRamp, Elapsed: time.Second, Clients: 210, Open: 100}
	ch <- Progress{Phase: PhaseRamp, Elapsed: time.Second, Clients: 210, Open: 150} // same phase, too soon: skipped
	ch <- Progress{Phase: PhaseRun, Elapsed: 3 * time.Second, Clients: 210, Open: 210, OrdersPlanned: 600,
		OrdersCreated: 50, Delivered: 10000, Expected: 10000, P99: 1.25, Errors: 2}
	close(ch)
	var out bytes.Buffer
	Watch(&out, ch, false, time.Hour)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want one per phase:\n%s", len(lines), out.String())
	}
	for _, want := range []string{"run", "clients 210/210", "orders 50/600", "deliveries 10,000/10,000", "p99 1.25 ms", "errors 2"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("line %q lacks %q", lines[1], want)
		}
	}
}

func TestWatchBarsFinish(t *testing.T) {
	ch := make(chan Progress)
	done := make(chan struct{})
	var out bytes.Buffer
	go func() {
		defer close(done)
		Watch(&out, ch, true, time.Second)
	}()
	ch <- Progress{Phase: PhaseRamp, Clients: 10, Open: 5}
	ch <- Progress{Phase: PhaseRun, Clients: 10, Open: 10, OrdersPlanned: 20, OrdersSent: 20, Delivered: 200, Expected: 200}
	close(ch)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after the channel closed")
	}
	if !strings.Contains(out.String(), "deliveries") || !strings.Contains(out.String(), "200 / 200") {
		t.Errorf("bars lack the final deliveries:\n%s", out.String())
	}
}
