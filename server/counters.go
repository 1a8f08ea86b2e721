package server

import "sync/atomic"

// counters are the node's running totals, read by /ws/stats and /metrics.
// They are plain atomics because the fan-out path bumps them per batch.
type counters struct {
	ordersCreated   atomic.Int64
	ordersAccepted  atomic.Int64
	ordersCancelled atomic.Int64
	ordersCompleted atomic.Int64
	// positions counts the drivers' positions recorded; trackingFrames
	// the driver_location events published for riders.
	positions      atomic.Int64
	trackingFrames atomic.Int64
	acceptsWon     atomic.Int64
	acceptsLost    atomic.Int64
	framesSent     atomic.Int64
	framesDropped  atomic.Int64
	slowClients    atomic.Int64
	badFrames      atomic.Int64
	rateLimited    atomic.Int64
	connsRefused   atomic.Int64
	refused        refusalCounts // connsRefused by refusal
	fanouts        atomic.Int64
}
