package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/taxi-hub/taxi/lockctl"
)

// source produces snapshots. The collector is the one implementation; tests
// wrap it to make volatile values (times, memory, latencies) stable.
type source interface {
	Collect(ctx context.Context) Snapshot
}

// lockClearer clears one lock; *lockctl.Controller is the implementation.
type lockClearer interface {
	Clear(ctx context.Context, orderID string, opts lockctl.ClearOptions) (lockctl.Result, error)
}

// collector gathers a Snapshot from Redis and the nodes' stats. Collect is
// called by one goroutine at a time (the model never starts a fetch before
// the previous one ended) but mu keeps it safe regardless.
type collector struct {
	redis   *redisReader // nil without Redis
	http    *http.Client
	flagged []string
	// local is a stats URL read only while nothing else names a node.
	local   string
	timeout time.Duration
	log     *slog.Logger

	mu sync.Mutex
	// known maps the node ids seen to their stats URLs, so that nodes
	// Redis does not list (while it is away, say) are still read.
	known map[string]string
}

var _ source = (*collector)(nil)

func newCollector(opts Options) (*collector, error) {
	c := &collector{
		// Its own transport, so Close can drop the idle connections (and
		// their goroutines) when the monitor ends.
		http:    &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: opts.Timeout},
		timeout: opts.Timeout,
		log:     opts.Logger,
		known:   map[string]string{},
	}
	for _, raw := range opts.StatsURLs {
		u, err := statsURL(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
		}
		if !slices.Contains(c.flagged, u) {
			c.flagged = append(c.flagged, u)
		}
	}
	if opts.LocalHubURL != "" {
		u, err := statsURL(opts.LocalHubURL)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
		}
		c.local = u
	}
	if !opts.NoRedis {
		r, err := newRedisReader(opts.RedisURL, opts.Timeout)
		if err != nil {
			return nil, err
		}
		c.redis = r
	}
	return c, nil
}

// clearer returns the lock clearer, nil without Redis.
func (c *collector) clearer() lockClearer {
	if c.redis == nil {
		return nil
	}
	return c.redis.locks
}

// Close releases the Redis client and idle HTTP connections.
func (c *collector) Close() error {
	c.http.CloseIdleConnections()
	if c.redis != nil {
		if err := c.redis.close(); err != nil {
			return fmt.Errorf("close redis client: %w", err)
		}
	}
	return nil
}

// Collect reads one snapshot in two phases, each bounded by the timeout:
// Redis's PING and heartbeats first (they say which nodes to read), then
// the rest of Redis and every node's stats at the same time. It never
// fails: what could not be read is recorded in the snapshot.
func (c *collector) Collect(ctx context.Context) Snapshot {
	snap := Snapshot{Time: time.Now()}
	hbs, redisOK := c.head(ctx, &snap)
	urls, remembered, known := c.targets(hbs)
	// Nothing names a node: look for a local hub, shown only if it answers.
	probe := c.local != "" && len(urls) == 0
	if probe {
		urls = []string{c.local}
	}

	pctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var wg sync.WaitGroup
	if redisOK {
		wg.Add(1)
		// Ends with the Redis reads, at the latest at pctx's deadline.
		go func() {
			defer wg.Done()
			if err := recovered(func() error { c.redis.read(pctx, snap.Redis); return nil }); err != nil {
				snap.Redis.Warnings = append(snap.Redis.Warnings, err.Error())
			}
		}()
	}
	stats := fetchStats(pctx, c.http, urls)
	wg.Wait()

	c.learn(stats, remembered, redisOK)
	flagged := c.flagged
	if probe && stats[c.local].stats != nil {
		flagged = []string{c.local}
	}
	snap.Nodes = assembleNodes(hbs, flagged, remembered, known, stats)
	return snap
}

// head is the first phase: PING, then the node registry and heartbeats.
// It reports whether Redis answered.
func (c *collector) head(ctx context.Context, snap *Snapshot) ([]heartbeat, bool) {
	if c.redis == nil {
		return nil, false
	}
	// Empty lists rather than null in JSON, even when Redis is down.
	snap.Redis = &RedisSnapshot{URL: c.redis.url, Channels: []Channel{},
		Locks: Locks{Items: []lockctl.Lock{}}, Viewed: Viewed{Top: []ViewedOrder{}}}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var hbs []heartbeat
	err := recovered(func() error {
		lat, err := c.redis.ping(ctx)
		if err != nil {
			return err
		}
		snap.Redis.LatencyMs = float64(lat.Microseconds()) / 1000
		hbs, err = c.redis.heartbeats(ctx)
		return err
	})
	if err != nil {
		snap.Redis.Error = err.Error()
		c.log.Debug("redis unreachable", "url", c.redis.url, "err", err)
		return nil, false
	}
	return hbs, true
}

// targets returns the stats URLs to read: those given, those in the
// heartbeats, and those of nodes seen before that Redis does not list (it
// is down, or lost its data, or the node serves alone and has not
// rejoined): they may well be serving riders. It also returns the latter
// and every node known, by id.
func (c *collector) targets(hbs []heartbeat) (urls []string, remembered, known map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	listed := map[string]bool{}
	urls = slices.Clone(c.flagged)
	for _, h := range hbs {
		listed[h.nodeID] = true
		if h.hb != nil && h.hb.StatsURL != "" {
			c.known[h.nodeID] = h.hb.StatsURL
			urls = append(urls, h.hb.StatsURL)
		}
	}
	remembered = map[string]string{}
	for id, u := range c.known {
		if !listed[id] {
			remembered[id] = u
			urls = append(urls, u)
		}
	}
	slices.Sort(urls)
	return slices.Compact(urls), remembered, maps.Clone(c.known)
}

// learn remembers the nodes that answered, and forgets (here and in
// remembered) those Redis does not list that did not answer: they left,
// stopped or killed and reaped by the other nodes.
func (c *collector) learn(stats map[string]statsResult, remembered map[string]string, redisOK bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for u, r := range stats {
		if r.stats != nil {
			c.known[r.stats.NodeID] = u
		}
	}
	if !redisOK {
		return // without Redis there is no telling who left
	}
	for id, u := range remembered {
		if stats[u].err != nil && !slices.Contains(c.flagged, u) {
			delete(c.known, id)
			delete(remembered, id)
		}
	}
}
