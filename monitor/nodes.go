package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/taxi-hub/taxi/server"
)

// maxStatsBody bounds a /ws/stats answer: a few hundred bytes normally; a
// misconfigured URL pointing at something else must not fill memory.
const maxStatsBody = 1 << 20

// maxParallelStats bounds concurrent stats requests on a large cluster.
const maxParallelStats = 16

// statsResult is one node's /ws/stats answer or the reason it failed.
type statsResult struct {
	stats *server.Stats
	err   error
}

// fetchStats reads every URL in parallel. It returns when all have
// answered or failed, which ctx's deadline bounds.
func fetchStats(ctx context.Context, client *http.Client, urls []string) map[string]statsResult {
	out := make(map[string]statsResult, len(urls))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxParallelStats)
	for _, u := range urls {
		wg.Add(1)
		// Each goroutine exits when its request ends, at the latest at
		// ctx's deadline.
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var r statsResult
			err := recovered(func() error {
				st, err := getStats(ctx, client, u)
				r.stats = st
				return err
			})
			r.err = err
			mu.Lock()
			out[u] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func getStats(ctx context.Context, client *http.Client, u string) (*server.Stats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("stats request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", shortURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("stats: %s answered %s", u, resp.Status)
	}
	var st server.Stats
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxStatsBody)).Decode(&st); err != nil {
		return nil, fmt.Errorf("stats: decode %s: %w", u, err)
	}
	if st.NodeID == "" {
		return nil, fmt.Errorf("stats: %s has no node_id: not a taxi node", u)
	}
	return &st, nil
}

// shortURLError drops url.Error's method and quoted URL, which the screen
// shows next to the error anyway, keeping the cause.
func shortURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// recovered runs fn and turns a panic into an error. The monitor's own
// goroutines need it: bubbletea restores the terminal only after panics in
// its own goroutines, and a crash here would leave the terminal raw.
func recovered(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return fn()
}

// assembleNodes merges what the heartbeats say with the stats answers.
// flagged are the stats URLs given by the user; remembered are nodes seen
// earlier (id to stats URL), listed while Redis cannot say which nodes
// exist; known names nodes that do not answer by their last id.
func assembleNodes(hbs []heartbeat, flagged []string, remembered, known map[string]string, stats map[string]statsResult) []Node {
	byID := map[string]*Node{}
	var order []string
	add := func(n Node) *Node {
		if p, ok := byID[n.NodeID]; ok {
			return p
		}
		p := &n
		byID[n.NodeID] = p
		order = append(order, n.NodeID)
		return p
	}
	apply := func(n *Node, u string) {
		r, ok := stats[u]
		if !ok {
			return
		}
		n.StatsURL = u
		if r.err != nil {
			n.Up, n.Error, n.Stats = false, r.err.Error(), nil
			return
		}
		n.Up, n.Error, n.Stats = true, "", r.stats
	}
	for _, h := range hbs {
		n := add(Node{NodeID: h.nodeID, Heartbeat: h.hb, Up: h.hb != nil, Error: h.err})
		if h.hb != nil && h.hb.StatsURL != "" {
			apply(n, h.hb.StatsURL)
		}
	}
	for id, u := range remembered {
		apply(add(Node{NodeID: id}), u)
	}
	for _, u := range flagged {
		r := stats[u]
		id := idForURL(u, known)
		if r.stats != nil {
			id = r.stats.NodeID
		}
		n := add(Node{NodeID: id})
		if n.StatsURL == "" || n.StatsURL == u || !n.Up {
			apply(n, u)
		}
	}
	nodes := make([]Node, 0, len(order))
	for _, id := range order {
		nodes = append(nodes, *byID[id])
	}
	slices.SortFunc(nodes, func(a, b Node) int { return strings.Compare(a.NodeID, b.NodeID) })
	return nodes
}

// idForURL names a node that has not answered: by the id it had when it
// last answered, else by its host:port.
func idForURL(u string, known map[string]string) string {
	for id, k := range known {
		if k == u {
			return id
		}
	}
	if p, err := url.Parse(u); err == nil {
		return p.Host
	}
	return u
}
