package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics exports the node's counters in Prometheus form. Totals are read
// from the same atomics as /ws/stats at scrape time, so the fan-out path pays
// nothing extra for them; only the latency histograms are observed inline,
// once per fan-out and once per accept.
type metrics struct {
	registry      *prometheus.Registry
	fanoutSeconds prometheus.Histogram
	acceptSeconds *prometheus.HistogramVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		fanoutSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "taxi_fanout_seconds",
			Help:    "Time to queue one frame to every local connection it concerns.",
			Buckets: prometheus.ExponentialBuckets(1e-5, 2.5, 12),
		}),
		acceptSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "taxi_accept_seconds",
			Help:    "Time to decide an accept, by outcome (won, repeat, taken, locked, not_open, not_found, error).",
			Buckets: prometheus.ExponentialBuckets(1e-4, 2.5, 12),
		}, []string{"outcome"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.fanoutSeconds,
		m.acceptSeconds,
		&counterCollector{s: s},
		refusalCollector{c: s.counters},
	)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

var (
	descConns = prometheus.NewDesc("taxi_connections", "Open WebSocket connections on this node.", []string{"role"}, nil)
	descTotal = prometheus.NewDesc("taxi_events_total", "Events since the node started.", []string{"event"}, nil)
	descMode  = prometheus.NewDesc("taxi_redis_mode", "1 when the node runs on Redis, 0 in memory mode (alone or degraded).", nil, nil)
)

type counterCollector struct{ s *Server }

func (c *counterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descConns
	ch <- descTotal
	ch <- descMode
}

func (c *counterCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(s.hub.drivers.Load()), "driver")
	ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(s.hub.users.Load()), "user")
	k := s.counters
	for _, e := range []struct {
		name string
		v    int64
	}{
		{"orders_created", k.ordersCreated.Load()},
		{"orders_accepted", k.ordersAccepted.Load()},
		{"orders_cancelled", k.ordersCancelled.Load()},
		{"accepts_won", k.acceptsWon.Load()},
		{"accepts_lost", k.acceptsLost.Load()},
		{"fanouts", k.fanouts.Load()},
		{"frames_sent", k.framesSent.Load()},
		{"frames_dropped", k.framesDropped.Load()},
		{"slow_clients_disconnected", k.slowClients.Load()},
		{"bad_frames", k.badFrames.Load()},
		{"rate_limited", k.rateLimited.Load()},
		{"connections_refused", k.connsRefused.Load()},
	} {
		ch <- prometheus.MustNewConstMetric(descTotal, prometheus.CounterValue, float64(e.v), e.name)
	}
	mode := 0.0
	if s.mode() == "redis" {
		mode = 1
	}
	ch <- prometheus.MustNewConstMetric(descMode, prometheus.GaugeValue, mode)
}
