package monitor

import (
	"fmt"
	"strconv"
	"strings"
)

// The overview: is the hub healthy? Drivers online, orders and deliveries
// flowing, drops, and one line per part of the system.

func (m *model) overview() []string {
	s, h := m.snap, m.hist
	const labelWidth, valueWidth = 16, 9
	sparkWidth := max(0, min(historyLen, m.width-labelWidth-valueWidth-4))
	label := func(l string) string { return " " + styleLabel.Render(fmt.Sprintf("%-*s", labelWidth, l)) }
	metric := func(name string, ser series, format func(float64) string, t tone) string {
		v, ok := ser.last()
		text := "-"
		if ok {
			text = format(v)
		}
		return label(name) + t.style().Render(fmt.Sprintf("%-*s", valueWidth, text)) + " " + styleSpark.Render(sparkline(ser, sparkWidth))
	}
	count := func(v float64) string { return strconv.FormatInt(int64(v), 10) }
	dropTone := toneNormal
	if v, _ := h.drops.last(); v > 0 {
		dropTone = toneAlert
	}

	lines := []string{
		metric("Drivers online", h.drivers, count, toneNormal),
		label("Riders online") + strconv.FormatInt(s.UsersOnline(), 10),
		label("Located") + fmt.Sprintf("%d %s with a position · %d %s tracked", s.LocatedDrivers(),
			plural(s.LocatedDrivers(), "driver", "drivers"), s.Rides(), plural(s.Rides(), "ride", "rides")),
		metric("Orders/s", h.orders, formatRate, toneNormal),
		metric("Deliveries/s", h.deliveries, formatRate, toneNormal),
		metric("Drops/s", h.drops, formatRate, dropTone),
		"",
		label("Nodes") + m.nodesLine(),
		label("Redis") + m.redisLine(),
	}
	if r := s.Redis; s.RedisOK() {
		var ch []string
		for _, c := range r.Channels {
			ch = append(ch, fmt.Sprintf("%s %d", c.Name, c.Subscribers))
		}
		lines = append(lines,
			label("Subscribers")+strings.Join(ch, " · "),
			label("Locks")+m.locksLine(),
			label("Viewed orders")+m.viewedLine(),
		)
	}
	// Counters since each node started, summed over the nodes that
	// answered: a node that goes down takes its share with it.
	t := s.Totals()
	lines = append(lines, "",
		label("Node totals")+fmt.Sprintf("orders %d · accepted %d · cancelled %d · accepts won %d, lost %d",
			t.OrdersCreated, t.OrdersAccepted, t.OrdersCancelled, t.AcceptsWon, t.AcceptsLost),
		label("")+fmt.Sprintf("frames sent %d, dropped %d · slow clients cut %d · bad frames %d · rate limited %d",
			t.FramesSent, t.FramesDropped, t.SlowClientsDisconnected, t.BadFrames, t.RateLimited),
	)
	return lines
}

func (m *model) nodesLine() string {
	s := m.snap
	if len(s.Nodes) == 0 {
		return styleWarn.Render("none found (no heartbeats in Redis, no --stats URL answering)")
	}
	up := s.NodesUp()
	line := fmt.Sprintf("%d up", up)
	var down, degraded []string
	for _, n := range s.Nodes {
		switch {
		case !n.Up:
			down = append(down, n.NodeID)
		case n.Degraded():
			degraded = append(degraded, n.NodeID)
		}
	}
	if len(degraded) > 0 {
		line += " " + styleWarn.Render(fmt.Sprintf("(%d degraded: %s)", len(degraded), strings.Join(degraded, ", ")))
	}
	if len(down) > 0 {
		line += " · " + styleAlert.Render(fmt.Sprintf("%d DOWN (%s)", len(down), strings.Join(down, ", ")))
	}
	return line
}

func (m *model) redisLine() string {
	r := m.snap.Redis
	switch {
	case r == nil:
		return styleDim.Render("not watched (--no-redis)")
	case r.Error != "":
		return styleAlert.Render("UNREACHABLE")
	}
	si := r.Server
	line := fmt.Sprintf("%s · ping %.2f ms · %s used", orDash(si.Version), r.LatencyMs, formatBytes(si.UsedMemoryBytes))
	if si.MaxMemoryBytes > 0 {
		line += fmt.Sprintf(" of %s", formatBytes(si.MaxMemoryBytes))
	}
	line += fmt.Sprintf(" · %d clients · %d ops/s", si.ConnectedClients, si.OpsPerSec)
	if si.Masters > 1 {
		line += fmt.Sprintf(" · %d masters", si.Masters)
	}
	return line
}

func (m *model) locksLine() string {
	l := m.snap.Redis.Locks
	line := fmt.Sprintf("%d held", l.Total)
	if l.Stale > 0 {
		line += " · " + styleAlert.Render(fmt.Sprintf("%d WITHOUT EXPIRY (stuck: see 3 locks)", l.Stale))
	}
	return line
}

func (m *model) viewedLine() string {
	v := m.snap.Redis.Viewed
	line := fmt.Sprintf("%d %s · %d %s", v.Orders, plural(int64(v.Orders), "order", "orders"), v.Viewers, plural(v.Viewers, "viewer", "viewers"))
	if len(v.Top) > 0 {
		line += fmt.Sprintf(" · most viewed %s (%d)", v.Top[0].OrderID, v.Top[0].Viewers)
	}
	return line
}
