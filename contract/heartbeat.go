package contract

import "time"

// NodeHeartbeat is what each node writes as JSON to NodeKey(node_id) every
// heartbeat interval, with an expiry of three intervals. taxi monitor lists
// nodes from it.
type NodeHeartbeat struct {
	NodeID string `json:"node_id"`
	// StatsURL is the node's GET /ws/stats, from its advertised URL.
	StatsURL string `json:"stats_url,omitempty"`
	Version  string `json:"version"`
	// Mode is ModeRedis or ModeMemory.
	Mode      string    `json:"mode"`
	Hostname  string    `json:"hostname"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Drivers and Users count the node's own connections.
	Drivers int64 `json:"drivers"`
	Users   int64 `json:"users"`
}

// A node's modes, as its heartbeat and /ws/stats name them.
const (
	// ModeRedis: the node shares state with the others through Redis.
	ModeRedis = "redis"
	// ModeMemory: the node serves alone from memory, by choice or because
	// it lost Redis.
	ModeMemory = "memory"
)
