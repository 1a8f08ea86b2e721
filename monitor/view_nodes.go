package monitor

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The nodes view: one row per hub node, to see which one is down, degraded
// or overloaded.

var nodeColumns = []column{
	{title: "NODE", width: 16},
	{title: "MODE", width: 6},
	{title: "STATE", width: 8},
	{title: "DRIVERS", width: 8, right: true},
	{title: "USERS", width: 7, right: true},
	{title: "FRAMES/S", width: 9, right: true},
	{title: "DROPS/S", width: 8, right: true},
	{title: "RSS", width: 10, right: true},
	{title: "UPTIME", width: 8, right: true},
	{title: "NOTE", width: 10},
}

var nodeSorts = []string{"node", "state", "drivers", "frames/s", "rss"}

// nodeState is the STATE column: what the on-call engineer acts on.
func nodeState(n Node) (string, tone) {
	switch {
	case !n.Up:
		return "DOWN", toneAlert
	case n.Degraded():
		return "degraded", toneWarn
	}
	return "up", toneNormal
}

func nodeRows(s Snapshot, h *history, sortBy int) []row {
	nodes := slices.Clone(s.Nodes)
	rank := func(n Node) int {
		switch st, _ := nodeState(n); st {
		case "DOWN":
			return 0
		case "degraded":
			return 1
		}
		return 2
	}
	rss := func(n Node) int64 {
		if n.Stats == nil {
			return 0
		}
		return n.Stats.RSSBytes
	}
	drivers := func(n Node) int64 { d, _ := n.Conns(); return d }
	frames := func(n Node) float64 { return h.rates[n.NodeID].FramesPerSec }
	slices.SortStableFunc(nodes, func(a, b Node) int {
		switch nodeSorts[sortBy] {
		case "state":
			return cmp.Compare(rank(a), rank(b))
		case "drivers":
			return cmp.Compare(drivers(b), drivers(a))
		case "frames/s":
			return cmp.Compare(frames(b), frames(a))
		case "rss":
			return cmp.Compare(rss(b), rss(a))
		}
		return strings.Compare(a.NodeID, b.NodeID)
	})

	rows := make([]row, 0, len(nodes))
	for _, n := range nodes {
		state, t := nodeState(n)
		d, u := n.Conns()
		cells := []string{n.NodeID, orDash(n.Mode()), state, "-", "-", "-", "-", "-", "-", nodeNote(n)}
		if n.Up {
			cells[3], cells[4] = strconv.FormatInt(d, 10), strconv.FormatInt(u, 10)
		}
		if r, ok := h.rates[n.NodeID]; ok {
			cells[5], cells[6] = formatRate(r.FramesPerSec), formatRate(r.DropsPerSec)
		}
		if n.Stats != nil {
			cells[7] = formatBytes(n.Stats.RSSBytes)
			cells[8] = formatUptime(n.Stats.UptimeSeconds)
		}
		rows = append(rows, row{key: n.NodeID, cells: cells, tone: t})
	}
	return rows
}

// nodeNote says why a node is down or degraded, else where it is read.
func nodeNote(n Node) string {
	switch {
	case n.Error != "":
		return n.Error
	case n.Degraded():
		r := n.Stats.Redis
		note := fmt.Sprintf("redis degraded %s", formatUptime(r.DegradedSeconds))
		if r.LastError != "" {
			note += ": " + r.LastError
		}
		return note
	case n.StatsURL != "":
		return n.StatsURL
	case n.Heartbeat != nil:
		return "heartbeat only (no stats URL)"
	}
	return ""
}
