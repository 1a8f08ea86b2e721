package monitor

import (
	"time"

	"github.com/taxi-hub/taxi/contract"
	"github.com/taxi-hub/taxi/lockctl"
	"github.com/taxi-hub/taxi/server"
)

// Snapshot is everything one collection found. It is what --once --json
// prints; docs/monitor.md documents each field, and names never change
// meaning. A part that could not be read carries its error as text, so a
// snapshot is always printable.
type Snapshot struct {
	// Time is when the collection started.
	Time time.Time `json:"time"`
	// Redis is nil when the monitor runs without Redis.
	Redis *RedisSnapshot `json:"redis,omitempty"`
	// Nodes are the hub nodes, sorted by id: from the heartbeats, from the
	// stats URLs given, and those seen earlier whose stats still answer.
	Nodes []Node `json:"nodes"`
}

// RedisSnapshot is what the shared Redis says about the cluster.
type RedisSnapshot struct {
	// URL is the Redis URL with its password hidden.
	URL string `json:"url"`
	// Error is set when Redis did not answer PING; the other fields are
	// then empty.
	Error string `json:"error,omitempty"`
	// Warnings name the parts that failed while Redis answered.
	Warnings []string `json:"warnings,omitempty"`
	// LatencyMs is the PING round trip in milliseconds.
	LatencyMs float64 `json:"latency_ms"`

	ActiveDrivers int64 `json:"active_drivers"` // SCARD active_drivers
	ActiveUsers   int64 `json:"active_users"`   // SCARD active_users
	// LocatedDrivers counts the drivers with a position (ZCARD
	// {driver_locations}:updated; the nodes trim positions older than
	// --location-ttl every few seconds). Rides counts the accepted orders
	// not yet completed, whose driver's positions reach the rider (ZCARD
	// orders:riding).
	LocatedDrivers int64 `json:"located_drivers"`
	Rides          int64 `json:"rides"`

	// Channels are the subscriber counts of drivers_channel and
	// users_channel (PUBSUB NUMSUB, or SHARDNUMSUB on a Cluster): one per
	// node in Redis mode.
	Channels []Channel  `json:"channels"`
	Server   ServerInfo `json:"server"`
	Locks    Locks      `json:"locks"`
	Viewed   Viewed     `json:"viewed"`
}

// Channel is one Pub/Sub channel and its subscriber count.
type Channel struct {
	Name        string `json:"name"`
	Subscribers int64  `json:"subscribers"`
}

// ServerInfo comes from INFO, summed over the masters of a Cluster.
type ServerInfo struct {
	Version          string `json:"version"`
	UsedMemoryBytes  int64  `json:"used_memory_bytes"`
	MaxMemoryBytes   int64  `json:"maxmemory_bytes"` // 0: no limit
	ConnectedClients int64  `json:"connected_clients"`
	BlockedClients   int64  `json:"blocked_clients"`
	OpsPerSec        int64  `json:"ops_per_sec"` // instantaneous_ops_per_sec
	Masters          int    `json:"masters"`     // 1 unless Cluster
}

// Locks are the order acceptance locks (order_lock:*), read with lockctl.
type Locks struct {
	// Total and Stale count every lock found; Stale ones have no expiry and
	// never free themselves.
	Total int `json:"total"`
	Stale int `json:"stale"`
	// Items are the locks kept for display, stale ones first, at most
	// maxLocks; Truncated says some were left out.
	Items     []lockctl.Lock `json:"items"`
	Truncated bool           `json:"truncated"`
}

// Viewed are the orders drivers are looking at (order_viewers:*).
type Viewed struct {
	// Orders and Viewers count every order_viewers:* set found and the sum
	// of their sizes.
	Orders  int   `json:"orders"`
	Viewers int64 `json:"viewers"`
	// Top are the most viewed orders, most viewers first, at most maxViewed.
	Top []ViewedOrder `json:"top"`
}

// ViewedOrder is one order and who looks at it.
type ViewedOrder struct {
	OrderID string `json:"order_id"`
	Viewers int64  `json:"viewers"`
	// Status, UserID and DriverID come from the order hash; empty when the
	// order is no longer in Redis.
	Status   string `json:"status,omitempty"`
	UserID   string `json:"user_id,omitempty"`
	DriverID string `json:"driver_id,omitempty"`
	// LockOwner is the driver holding order_lock:<id>, empty when unlocked.
	LockOwner string `json:"lock_owner,omitempty"`
}

// Node is one hub node.
type Node struct {
	NodeID string `json:"node_id"`
	// StatsURL is where its /ws/stats was read.
	StatsURL string `json:"stats_url,omitempty"`
	// Up is false when the node is listed in taxi:nodes without a
	// heartbeat, or its stats did not answer; Error says which.
	Up    bool   `json:"up"`
	Error string `json:"error,omitempty"`
	// Heartbeat is the node's taxi:node:<id> record, when Redis has one.
	Heartbeat *contract.NodeHeartbeat `json:"heartbeat,omitempty"`
	// Stats is the node's /ws/stats, when it answered.
	Stats *server.Stats `json:"stats,omitempty"`
}

// Mode is "redis" or "memory" as the node last said, or "" when unknown.
func (n Node) Mode() string {
	switch {
	case n.Stats != nil:
		return n.Stats.Mode
	case n.Heartbeat != nil:
		return n.Heartbeat.Mode
	}
	return ""
}

// Degraded reports whether the node lost Redis and serves alone.
func (n Node) Degraded() bool {
	return n.Stats != nil && n.Stats.Redis != nil && n.Stats.Redis.Status == "degraded"
}

// Conns returns the node's driver and rider connections, from its stats or
// else its heartbeat.
func (n Node) Conns() (drivers, users int64) {
	switch {
	case n.Stats != nil:
		return n.Stats.Connections.Drivers, n.Stats.Connections.Users
	case n.Heartbeat != nil:
		return n.Heartbeat.Drivers, n.Heartbeat.Users
	}
	return 0, 0
}

// NodesUp counts the nodes that are up.
func (s Snapshot) NodesUp() int {
	n := 0
	for _, node := range s.Nodes {
		if node.Up {
			n++
		}
	}
	return n
}

// RedisOK reports whether Redis was read.
func (s Snapshot) RedisOK() bool { return s.Redis != nil && s.Redis.Error == "" }

// DriversOnline is active_drivers when Redis answered, else the sum of the
// nodes' driver connections.
func (s Snapshot) DriversOnline() int64 {
	if s.RedisOK() {
		return s.Redis.ActiveDrivers
	}
	var n int64
	for _, node := range s.Nodes {
		d, _ := node.Conns()
		n += d
	}
	return n
}

// LocatedDrivers is the drivers with a current position, and Rides the
// rides under way: Redis's figures when it answered, else the sum of the
// nodes' own (memory-mode nodes know only theirs).
func (s Snapshot) LocatedDrivers() int64 {
	if s.RedisOK() {
		return s.Redis.LocatedDrivers
	}
	var n int64
	for _, node := range s.Nodes {
		if node.Stats != nil && node.Stats.Geo != nil {
			n += node.Stats.Geo.Positions
		}
	}
	return n
}

// Rides: see LocatedDrivers.
func (s Snapshot) Rides() int64 {
	if s.RedisOK() {
		return s.Redis.Rides
	}
	var n int64
	for _, node := range s.Nodes {
		if node.Stats != nil && node.Stats.Geo != nil {
			n += node.Stats.Geo.Rides
		}
	}
	return n
}

// UsersOnline is active_users when Redis answered, else the sum of the
// nodes' rider connections.
func (s Snapshot) UsersOnline() int64 {
	if s.RedisOK() {
		return s.Redis.ActiveUsers
	}
	var n int64
	for _, node := range s.Nodes {
		_, u := node.Conns()
		n += u
	}
	return n
}

// Totals sums the counters of the nodes whose stats answered.
func (s Snapshot) Totals() server.CounterStats {
	var t server.CounterStats
	for _, n := range s.Nodes {
		if n.Stats == nil {
			continue
		}
		c := n.Stats.Counters
		t.OrdersCreated += c.OrdersCreated
		t.OrdersAccepted += c.OrdersAccepted
		t.OrdersCancelled += c.OrdersCancelled
		t.AcceptsWon += c.AcceptsWon
		t.AcceptsLost += c.AcceptsLost
		t.Fanouts += c.Fanouts
		t.FramesSent += c.FramesSent
		t.FramesDropped += c.FramesDropped
		t.SlowClientsDisconnected += c.SlowClientsDisconnected
		t.BadFrames += c.BadFrames
		t.RateLimited += c.RateLimited
		t.ConnectionsRefused += c.ConnectionsRefused
	}
	return t
}
