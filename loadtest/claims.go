package loadtest

import "fmt"

// Claim statuses. A claim the run did not load enough to judge is "not
// tested", never "held".
const (
	ClaimHeld      = "held"
	ClaimNotHeld   = "NOT held"
	ClaimNotTested = "not tested"
)

// The hub's published claims and the thresholds bench holds them to.
const (
	claimLatency     = 10.0    // ms, delivery p99
	claimThroughput  = 100_000 // deliveries per second
	claimConnections = 100_000 // connections held at once
	// claimMemory reads "about 2 KB per WebSocket" as at most 2.5 KiB.
	claimMemory = 2560.0
	// minConnsForMemory: below this, RSS noise swamps a per-connection figure.
	minConnsForMemory = 1000
)

// Claim is one published claim checked against a run.
type Claim struct {
	Name     string  `json:"name"`
	Target   string  `json:"target"`
	Status   string  `json:"status"` // held, NOT held, not tested
	Measured string  `json:"measured"`
	Value    float64 `json:"value"` // the measured figure, in Target's unit
	Note     string  `json:"note,omitempty"`
}

// checkClaims judges every published claim from r's figures.
func checkClaims(r *Report) []Claim {
	d := r.Deliveries
	claims := make([]Claim, 0, 5)

	lat := Claim{Name: "delivery latency", Target: "p99 < 10 ms", Value: d.Latency.P99}
	switch {
	case d.Latency.Count == 0:
		lat.Status, lat.Measured, lat.Note = ClaimNotTested, "-", "no measured deliveries"
	default:
		lat.Measured = fmt.Sprintf("p99 %s ms (p99.9 %s, max %s)", ms(d.Latency.P99), ms(d.Latency.P999), ms(d.Latency.Max))
		lat.Status = status(d.Latency.P99 < claimLatency)
	}
	claims = append(claims, lat)

	tp := Claim{Name: "messages per second", Target: "≥ 100,000 deliveries/s", Value: d.PerSecond,
		Measured: fmt.Sprintf("%s/s", count(int64(d.PerSecond)))}
	offered := 0.0
	if secs := r.Options.Duration.Seconds(); secs > 0 {
		offered = float64(d.Expected) / secs
	}
	switch {
	case d.PerSecond >= claimThroughput:
		tp.Status = ClaimHeld
	case offered < claimThroughput:
		tp.Status = ClaimNotTested
		tp.Note = fmt.Sprintf("offered %s/s; drivers × rate must reach 100,000", count(int64(offered)))
	default:
		tp.Status = ClaimNotHeld
	}
	claims = append(claims, tp)

	c := r.Connections
	conns := Claim{Name: "connections", Target: "≥ 100,000 held", Value: float64(c.Connected),
		Measured: fmt.Sprintf("%s held, %s failed, %s dropped", count(c.Connected), count(c.Failed), count(c.Dropped))}
	switch {
	case c.Connected >= claimConnections && c.Dropped == 0:
		conns.Status = ClaimHeld
	case c.Planned < claimConnections:
		conns.Status = ClaimNotTested
		conns.Note = fmt.Sprintf("planned %s; use connect --drivers 100000", count(c.Planned))
	default:
		conns.Status = ClaimNotHeld
	}
	claims = append(claims, conns)

	s := r.Server
	mem := Claim{Name: "memory per WebSocket", Target: "about 2 KB (≤ 2.5 KiB)", Value: s.MemoryPerConnection}
	switch {
	case s.ConnectionsGained < minConnsForMemory:
		mem.Status, mem.Measured = ClaimNotTested, "-"
		mem.Note = fmt.Sprintf("%s connections gained; need %d for a figure above noise", count(s.ConnectionsGained), minConnsForMemory)
		if s.ConnectionsGained > 0 {
			mem.Measured = bytesIEC(s.MemoryPerConnection)
		}
	default:
		mem.Measured = fmt.Sprintf("%s RSS per connection", bytesIEC(s.MemoryPerConnection))
		mem.Status = status(s.MemoryPerConnection <= claimMemory)
	}
	claims = append(claims, mem)

	win := Claim{Name: "one winner per order", Target: "exactly 1 winner"}
	switch a := r.Accepts; {
	case a == nil || a.Orders == 0:
		win.Status, win.Measured, win.Note = ClaimNotTested, "-", "no races; run the accept scenario"
	default:
		win.Value = float64(a.BadCount)
		win.Measured = fmt.Sprintf("%s of %s orders with 0 or 2+ winners", count(a.BadCount), count(a.Orders))
		win.Status = status(a.BadCount == 0)
	}
	claims = append(claims, win)
	return claims
}

func status(held bool) string {
	if held {
		return ClaimHeld
	}
	return ClaimNotHeld
}
