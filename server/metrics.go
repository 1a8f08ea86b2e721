package server

import (
	"net/http"
	"runtime"
	"runtime/debug"

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
	// offeredDrivers is how many drivers each radius-limited order was
	// offered to: the fan-out's cost per order.
	offeredDrivers prometheus.Histogram
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
			Help:    "Time to decide an accept, by outcome (won, repeat, taken, locked, not_open, not_offered, not_found, error).",
			Buckets: prometheus.ExponentialBuckets(1e-4, 2.5, 12),
		}, []string{"outcome"}),
		offeredDrivers: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "taxi_order_offered_drivers",
			Help:    "Drivers each radius-limited order was offered to.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.fanoutSeconds,
		m.acceptSeconds,
		m.offeredDrivers,
		&counterCollector{s: s},
		buildInfo(),
		refusalCollector{c: s.counters},
	)
	return m
}

// Commit is the build's VCS revision, set by the linker (see Makefile).
var Commit = ""

// BuildCommit returns Commit or, when the linker left it empty, the
// revision the Go toolchain stamped into the binary; "unknown" without
// either.
func BuildCommit() string {
	if Commit != "" {
		return Commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// buildInfo is the taxi_build_info gauge: always 1, with the build's
// version, commit and Go version as labels, so dashboards can show which
// build each node runs and alerts can spot a fleet left half rolled out.
func buildInfo() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "taxi_build_info",
		Help:        "Always 1; the labels name the build this node runs.",
		ConstLabels: prometheus.Labels{"version": Version, "commit": BuildCommit(), "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

var (
	descConns  = prometheus.NewDesc("taxi_connections", "Open WebSocket connections on this node.", []string{"role"}, nil)
	descTotal  = prometheus.NewDesc("taxi_events_total", "Events since the node started.", []string{"event"}, nil)
	descClosed = prometheus.NewDesc("taxi_connections_closed_total", "Connections ended since the node started, by reason.", []string{"reason"}, nil)
	descMode   = prometheus.NewDesc("taxi_redis_mode", "1 when the node runs on Redis, 0 in memory mode (alone or degraded).", nil, nil)
)

type counterCollector struct{ s *Server }

func (c *counterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descConns
	ch <- descTotal
	ch <- descMode
	ch <- descClosed
}

func (c *counterCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(s.hub.drivers.Load()), "driver")
	ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(s.hub.users.Load()), "user")
	for reason, n := range s.hub.closed.snapshot() {
		ch <- prometheus.MustNewConstMetric(descClosed, prometheus.CounterValue, float64(n), reason)
	}
	k := s.counters
	for _, e := range []struct {
		name string
		v    int64
	}{
		{"orders_created", k.ordersCreated.Load()},
		{"orders_accepted", k.ordersAccepted.Load()},
		{"orders_cancelled", k.ordersCancelled.Load()},
		{"orders_completed", k.ordersCompleted.Load()},
		{"positions_received", k.positions.Load()},
		{"tracking_frames", k.trackingFrames.Load()},
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
