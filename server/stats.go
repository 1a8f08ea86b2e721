package server

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Stats is the body of GET /ws/stats. Its fields are a contract: taxi monitor
// and taxi bench read them, and docs/api.md describes each.
type Stats struct {
	NodeID        string       `json:"node_id"`
	Mode          string       `json:"mode"`
	Version       string       `json:"version"`
	StartedAt     time.Time    `json:"started_at"`
	UptimeSeconds float64      `json:"uptime_seconds"`
	Connections   ConnStats    `json:"connections"`
	Counters      CounterStats `json:"counters"`
	Redis         *RedisStats  `json:"redis,omitempty"`
	// Geo is absent when the stores could not be read in time.
	Geo *GeoStats `json:"geo,omitempty"`

	RSSBytes         int64   `json:"rss_bytes"`
	HeapBytes        int64   `json:"heap_bytes"`
	StackBytes       int64   `json:"stack_bytes"`
	Goroutines       int     `json:"goroutines"`
	CPUSeconds       float64 `json:"cpu_seconds"`
	CPUUserSeconds   float64 `json:"cpu_user_seconds"`
	CPUSystemSeconds float64 `json:"cpu_system_seconds"`
}

// ConnStats counts this node's open WebSockets.
type ConnStats struct {
	Drivers int64 `json:"drivers"`
	Users   int64 `json:"users"`
}

// CounterStats are totals since the node started.
type CounterStats struct {
	OrdersCreated   int64 `json:"orders_created"`
	OrdersAccepted  int64 `json:"orders_accepted"`
	OrdersCancelled int64 `json:"orders_cancelled"`
	OrdersCompleted int64 `json:"orders_completed"`
	// PositionsReceived counts drivers' positions this node recorded;
	// TrackingFrames the driver_location events it published.
	PositionsReceived       int64 `json:"positions_received"`
	TrackingFrames          int64 `json:"tracking_frames"`
	AcceptsWon              int64 `json:"accepts_won"`
	AcceptsLost             int64 `json:"accepts_lost"`
	Fanouts                 int64 `json:"fanouts"`
	FramesSent              int64 `json:"frames_sent"`
	FramesDropped           int64 `json:"frames_dropped"`
	SlowClientsDisconnected int64 `json:"slow_clients_disconnected"`
	BadFrames               int64 `json:"bad_frames"`
	RateLimited             int64 `json:"rate_limited"`
	ConnectionsRefused      int64 `json:"connections_refused"`
	// ConnectionsClosed counts ended connections by reason (client_closed,
	// slow_consumer, stuck_write, write_failed, ping_timeout, shutdown,
	// message_too_big, unsupported_data, greet_failed); each connection is
	// counted once.
	ConnectionsClosed map[string]int64 `json:"connections_closed"`
	// ConnectionsRefusedByReason splits ConnectionsRefused by the refusal's
	// error code; every code is present.
	ConnectionsRefusedByReason map[string]int64 `json:"connections_refused_by_reason"`
}

// GeoStats are what the node's stores hold of drivers' positions and of
// rides: the cluster's in Redis mode, this node's in memory mode.
type GeoStats struct {
	// Positions counts the drivers with a current position, younger than
	// --location-ttl.
	Positions int64 `json:"positions"`
	// Rides counts the accepted orders not yet completed: those whose
	// driver's positions reach the rider.
	Rides int64 `json:"rides"`
}

// RedisStats describes the node's link to Redis in Redis mode.
type RedisStats struct {
	Status          string    `json:"status"`
	LastError       string    `json:"last_error,omitempty"`
	DegradedSince   time.Time `json:"degraded_since,omitzero"`
	DegradedSeconds float64   `json:"degraded_seconds"`
	Outages         int64     `json:"outages"`
	ProbeFailures   int64     `json:"probe_failures"`
	Resubscribes    int64     `json:"resubscribes"`
}

// Version is the build's version, set by the linker (see Makefile).
var Version = "dev"

func (s *Server) stats(ctx context.Context) Stats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	user, sys := cpuTimes()
	c := s.counters
	st := Stats{
		NodeID:        s.cfg.NodeID,
		Mode:          s.mode(),
		Version:       Version,
		StartedAt:     s.started,
		UptimeSeconds: time.Since(s.started).Seconds(),
		Connections:   ConnStats{Drivers: s.hub.drivers.Load(), Users: s.hub.users.Load()},
		Counters: CounterStats{
			OrdersCreated:              c.ordersCreated.Load(),
			OrdersAccepted:             c.ordersAccepted.Load(),
			OrdersCancelled:            c.ordersCancelled.Load(),
			OrdersCompleted:            c.ordersCompleted.Load(),
			PositionsReceived:          c.positions.Load(),
			TrackingFrames:             c.trackingFrames.Load(),
			AcceptsWon:                 c.acceptsWon.Load(),
			AcceptsLost:                c.acceptsLost.Load(),
			Fanouts:                    c.fanouts.Load(),
			FramesSent:                 c.framesSent.Load(),
			FramesDropped:              c.framesDropped.Load(),
			SlowClientsDisconnected:    c.slowClients.Load(),
			BadFrames:                  c.badFrames.Load(),
			RateLimited:                c.rateLimited.Load(),
			ConnectionsRefused:         c.connsRefused.Load(),
			ConnectionsRefusedByReason: c.refused.byReason(),
			ConnectionsClosed:          s.hub.closed.snapshot(),
		},
		Redis:            s.redisStats(),
		Geo:              s.geoStats(ctx),
		RSSBytes:         rssBytes(),
		HeapBytes:        int64(ms.HeapAlloc),
		StackBytes:       int64(ms.StackInuse),
		Goroutines:       runtime.NumGoroutine(),
		CPUUserSeconds:   user,
		CPUSystemSeconds: sys,
		CPUSeconds:       user + sys,
	}
	return st
}

// geoStats reads the positions and rides the current stores hold; nil when
// they do not answer within the Redis timeout.
func (s *Server) geoStats(ctx context.Context) *GeoStats {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RedisTimeout)
	defer cancel()
	b := s.backends.current()
	positions, err := b.locations.Count(ctx, time.Now().Add(-s.cfg.LocationTTL))
	if err != nil {
		s.log.Debug("count positions for stats", "err", s.observed(b, err))
		return nil
	}
	rides, err := b.orders.Riding(ctx)
	if err != nil {
		s.log.Debug("count rides for stats", "err", s.observed(b, err))
		return nil
	}
	return &GeoStats{Positions: positions, Rides: rides}
}

// cpuTimes returns the process's user and system CPU seconds.
func cpuTimes() (user, sys float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime), tv(ru.Stime)
}

// rssBytes reads the resident set size from /proc; 0 where there is none.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
