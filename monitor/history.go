package monitor

import (
	"time"

	"github.com/taxi-hub/taxi/server"
)

// historyLen is how many samples the sparklines keep: at the default
// interval, four minutes — long enough to see a trend start.
const historyLen = 120

// series is a bounded list of samples, oldest first.
type series []float64

func (s series) add(v float64) series {
	s = append(s, v)
	if len(s) > historyLen {
		s = s[len(s)-historyLen:]
	}
	return s
}

// last returns the newest sample and whether there is one.
func (s series) last() (float64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	return s[len(s)-1], true
}

// nodeSample is what a rate needs from a node's previous stats.
type nodeSample struct {
	at       time.Time
	started  time.Time
	counters server.CounterStats
}

// nodeRate is a node's rates over the last interval.
type nodeRate struct {
	FramesPerSec float64
	DropsPerSec  float64
}

// history turns successive snapshots into rates and sparkline series.
// Counters are totals since each node started, so a rate is the change
// between two snapshots of the same run of a node: a restart (a new
// started_at, or a counter going down) skips that node for one interval.
type history struct {
	prev map[string]nodeSample

	drivers    series // drivers online
	orders     series // orders created per second, all nodes
	deliveries series // frames sent per second, all nodes
	drops      series // frames dropped per second, all nodes

	rates map[string]nodeRate // by node id, for the last interval
}

func newHistory() *history {
	return &history{prev: map[string]nodeSample{}, rates: map[string]nodeRate{}}
}

func (h *history) add(s Snapshot) {
	h.drivers = h.drivers.add(float64(s.DriversOnline()))
	next := map[string]nodeSample{}
	h.rates = map[string]nodeRate{}
	var orders, frames, drops float64
	rated := 0
	for _, n := range s.Nodes {
		if n.Stats == nil {
			continue
		}
		cur := nodeSample{at: s.Time, started: n.Stats.StartedAt, counters: n.Stats.Counters}
		next[n.NodeID] = cur
		p, ok := h.prev[n.NodeID]
		dt := cur.at.Sub(p.at).Seconds()
		if !ok || dt <= 0 || !p.started.Equal(cur.started) || decreased(p.counters, cur.counters) {
			continue
		}
		r := nodeRate{
			FramesPerSec: float64(cur.counters.FramesSent-p.counters.FramesSent) / dt,
			DropsPerSec:  float64(cur.counters.FramesDropped-p.counters.FramesDropped) / dt,
		}
		h.rates[n.NodeID] = r
		orders += float64(cur.counters.OrdersCreated-p.counters.OrdersCreated) / dt
		frames += r.FramesPerSec
		drops += r.DropsPerSec
		rated++
	}
	h.prev = next
	if rated > 0 {
		h.orders = h.orders.add(orders)
		h.deliveries = h.deliveries.add(frames)
		h.drops = h.drops.add(drops)
	}
}

func decreased(a, b server.CounterStats) bool {
	return b.OrdersCreated < a.OrdersCreated || b.FramesSent < a.FramesSent || b.FramesDropped < a.FramesDropped
}
