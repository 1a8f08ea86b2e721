package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// HubStats is the part of a hub's GET /ws/stats document bench reads.
// Unknown fields are ignored so newer hubs stay readable.
type HubStats struct {
	NodeID        string  `json:"node_id"`
	Mode          string  `json:"mode"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	Connections   struct {
		Drivers int64 `json:"drivers"`
		Users   int64 `json:"users"`
	} `json:"connections"`
	Counters struct {
		OrdersCreated           int64 `json:"orders_created"`
		AcceptsWon              int64 `json:"accepts_won"`
		AcceptsLost             int64 `json:"accepts_lost"`
		FramesSent              int64 `json:"frames_sent"`
		FramesDropped           int64 `json:"frames_dropped"`
		SlowClientsDisconnected int64 `json:"slow_clients_disconnected"`
		PositionsReceived       int64 `json:"positions_received"`
		TrackingFrames          int64 `json:"tracking_frames"`
	} `json:"counters"`
	// Redis is absent on a node without Redis (--memory).
	Redis *struct {
		Status        string `json:"status"`
		Outages       int64  `json:"outages"`
		ProbeFailures int64  `json:"probe_failures"`
		Resubscribes  int64  `json:"resubscribes"`
	} `json:"redis,omitempty"`
	RSSBytes   int64   `json:"rss_bytes"`
	HeapBytes  int64   `json:"heap_bytes"`
	Goroutines int64   `json:"goroutines"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

// maxStatsBody bounds how much of a stats answer bench reads.
const maxStatsBody = 1 << 20

// fetchStats reads GET {base}/ws/stats.
func fetchStats(ctx context.Context, client *http.Client, base string) (*HubStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/ws/stats", nil)
	if err != nil {
		return nil, fmt.Errorf("stats %s: %w", base, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("stats %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatsBody))
	if err != nil {
		return nil, fmt.Errorf("stats %s: read: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("stats %s: status %d", base, resp.StatusCode)
	}
	var s HubStats
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("stats %s: decode: %w", base, err)
	}
	return &s, nil
}
