package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taxi-hub/taxi/internal/redisconn"
	"golang.org/x/sync/errgroup"
)

// redisLink is a node's tie to Redis. It owns the Redis backend and the
// memory backend the node falls back to, the subscription that feeds the hub,
// the heartbeat that tells other nodes (and taxi monitor) this node lives,
// the reaper of dead nodes' presence, the probe that catches a subscription
// that silently stopped delivering, and the recovery after an outage.
type redisLink struct {
	s       *Server
	rdb     redis.UniversalClient
	sharded bool
	redis   *backend
	// presence and orders are redis's stores with their Redis-only
	// operations (reap, rejoin, restore).
	presence *redisPresence
	orders   *redisOrders

	fallback atomic.Pointer[backend]
	// switching is set while the node rejoins Redis; see recover.
	switching atomic.Bool

	mu            sync.Mutex
	degraded      bool
	degradedSince time.Time
	degradedTotal time.Duration
	lastErr       string

	outages       atomic.Int64
	probeFailures atomic.Int64
	resubscribes  atomic.Int64

	// wake starts the recovery loop; resync asks the resync loop to send
	// every local driver the open orders again.
	wake   chan struct{}
	resync chan struct{}

	subs      []*subscription
	probeSeq  atomic.Int64
	probeSeen atomic.Int64
	probeChan string
}

func newRedisLink(s *Server) (*redisLink, error) {
	opts, err := redisconn.Options(s.cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	// Fail fast when Redis is gone: a request should turn into a clear 503
	// or a memory-mode answer within about a second, not hang.
	opts.DialTimeout = s.cfg.RedisTimeout
	opts.ReadTimeout = s.cfg.RedisTimeout
	opts.WriteTimeout = s.cfg.RedisTimeout
	opts.PoolTimeout = s.cfg.RedisTimeout
	opts.MaxRetries = 1
	redis.SetLogger(redisLogger{})
	rdb := redis.NewUniversalClient(opts)
	l := &redisLink{
		s:         s,
		rdb:       rdb,
		sharded:   redisconn.IsCluster(rdb),
		wake:      make(chan struct{}, 1),
		resync:    make(chan struct{}, 1),
		probeChan: probeChannelPrefix + s.cfg.NodeID,
	}
	l.redis = newRedisBackend(&s.cfg, rdb, l.sharded)
	l.presence = l.redis.presence.(*redisPresence)
	l.orders = l.redis.orders.(*redisOrders)
	l.fallback.Store(newMemoryBackend(&s.cfg, s.deliver))
	channels := []string{string(ChannelDrivers), string(ChannelUsers), l.probeChan}
	if l.sharded {
		// Sharded channels live on different shards: one subscription each.
		for _, ch := range channels {
			l.subs = append(l.subs, &subscription{link: l, channels: []string{ch}})
		}
	} else {
		l.subs = []*subscription{{link: l, channels: channels}}
	}
	return l, nil
}

func (l *redisLink) current() *backend {
	if l.isDegraded() {
		return l.fallback.Load()
	}
	return l.redis
}

func (l *redisLink) isDegraded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.degraded
}

// confirmDown degrades the node when Redis, after failing a call with err,
// also fails a PING.
func (l *redisLink) confirmDown(err error) {
	if l.isDegraded() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.s.cfg.RedisTimeout)
	defer cancel()
	if perr := l.rdb.Ping(ctx).Err(); perr == nil {
		l.s.log.Warn("redis call failed but redis answers: staying in redis mode", "err", err)
		return
	}
	l.degrade(err)
}

// degrade switches the node to its memory backend. The node keeps serving
// its own clients; the recovery loop brings it back.
func (l *redisLink) degrade(err error) {
	l.mu.Lock()
	if l.degraded {
		l.mu.Unlock()
		return
	}
	l.degraded = true
	l.degradedSince = time.Now()
	l.lastErr = err.Error()
	l.mu.Unlock()
	l.outages.Add(1)
	l.s.log.Warn("redis unreachable: serving this node's clients in memory mode until it returns", "err", err)
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *redisLink) stats() *RedisStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := &RedisStats{
		Status:        "connected",
		LastError:     l.lastErr,
		Outages:       l.outages.Load(),
		ProbeFailures: l.probeFailures.Load(),
		Resubscribes:  l.resubscribes.Load(),
	}
	total := l.degradedTotal
	if l.degraded {
		st.Status = "degraded"
		st.DegradedSince = l.degradedSince
		total += time.Since(l.degradedSince)
	}
	st.DegradedSeconds = total.Seconds()
	return st
}

// start launches the link's goroutines in g. Each exits when ctx ends.
func (l *redisLink) start(ctx context.Context, g *errgroup.Group) {
	pctx, cancel := context.WithTimeout(ctx, l.s.cfg.RedisTimeout*2)
	err := l.rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		l.s.log.Warn("redis unreachable at start: serving in memory mode and retrying", "err", err)
		l.degrade(err)
	} else {
		l.s.log.Info("connected to redis", "sharded_pubsub", l.sharded)
		if _, err := l.presence.reap(ctx, l.s.cfg.NodeID); err != nil {
			l.s.log.Warn("clear presence left by an earlier run", "err", err)
		}
		l.beat(ctx)
	}
	for _, sub := range l.subs {
		g.Go(func() error { sub.run(ctx); return nil })
	}
	g.Go(func() error { l.runRecovery(ctx); return nil })
	g.Go(func() error { l.runHeartbeat(ctx); return nil })
	g.Go(func() error { l.runProbe(ctx); return nil })
	g.Go(func() error { l.runResync(ctx); return nil })
}

// stop removes the node's heartbeat and presence on a graceful shutdown, so
// other nodes need not wait for its heartbeat to expire, then closes the
// client.
func (l *redisLink) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if !l.isDegraded() {
		// Best effort: what fails here expires with the heartbeat's TTL and
		// is reaped by the other nodes.
		_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, nodeKey(l.s.cfg.NodeID))
			p.SRem(ctx, keyNodes, l.s.cfg.NodeID)
			return nil
		})
		if err == nil {
			_, err = l.presence.reap(ctx, l.s.cfg.NodeID)
		}
		if err != nil {
			l.s.log.Warn("leave the cluster on shutdown; other nodes will reap this one", "err", err)
		}
	}
	_ = l.rdb.Close()
}

func (l *redisLink) subscribed() bool {
	for _, s := range l.subs {
		if !s.active.Load() {
			return false
		}
	}
	return true
}

// runRecovery waits for an outage, then retries Redis with backoff until it
// answers and the subscription is back, and rejoins the cluster.
func (l *redisLink) runRecovery(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		}
		backoff := newBackoff(100*time.Millisecond, 5*time.Second)
		for l.isDegraded() {
			if !backoff.wait(ctx) {
				return
			}
			if err := l.recover(ctx); err != nil {
				l.s.log.Debug("redis still unavailable", "err", err)
				l.mu.Lock()
				l.lastErr = err.Error()
				l.mu.Unlock()
			}
		}
	}
}

// recover rejoins the cluster: it writes the orders made during the outage,
// re-registers presence, waits for the subscription, then switches back and
// resends the open orders to every local driver.
func (l *redisLink) recover(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, l.s.cfg.RedisTimeout)
	err := l.rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if !l.subscribed() {
		return errors.New("subscription not yet back")
	}
	// From here until the switch, accepts and cancels on the memory backend
	// answer 503: the state written back below is then final, and no order
	// can be won in memory and again in Redis.
	l.switching.Store(true)
	defer l.switching.Store(false)
	fb := l.fallback.Load()
	if err := l.writeBack(ctx, fb); err != nil {
		return err
	}
	ids := map[Role][]string{}
	l.s.hub.each(func(c *client) { ids[c.role] = append(ids[c.role], c.id) })
	if err := l.presence.rejoin(ctx, ids); err != nil {
		return err
	}
	l.beat(ctx)

	// Swap: from here on every operation goes to Redis. Orders made during
	// the outage are told to the other nodes, whose drivers never saw them.
	l.fallback.Store(newMemoryBackend(&l.s.cfg, l.s.deliver))
	l.mu.Lock()
	l.degraded = false
	l.lastErr = ""
	l.degradedTotal += time.Since(l.degradedSince)
	l.degradedSince = time.Time{}
	outage := l.degradedTotal
	l.mu.Unlock()
	// Orders created on the memory backend between the first write-back and
	// the switch are not in Redis yet: write back once more (orders already
	// there are left as Redis has them).
	if err := l.writeBack(ctx, fb); err != nil {
		l.s.log.Error("write back orders changed during the switch", "err", err)
	}
	made := fb.memOrders.all()
	for _, o := range made {
		if o.Status == StatusOpen {
			if err := l.redis.broker.Publish(ctx, ChannelDrivers, encodeFrame(TypeNewOrder, o)); err != nil {
				// Other nodes' drivers still get it with the open orders
				// resent after their own gap.
				l.s.log.Warn("announce an outage order", "order_id", o.OrderID, "err", err)
			}
		}
	}
	l.s.log.Info("redis is back: rejoined the cluster", "orders_written_back", len(made), "degraded_seconds_total", outage.Seconds())
	l.requestResync()
	return nil
}

// writeBack writes every order of a fallback backend into Redis, never
// undoing a state change Redis already has.
func (l *redisLink) writeBack(ctx context.Context, fb *backend) error {
	for _, o := range fb.memOrders.all() {
		if err := l.orders.restore(ctx, o); err != nil {
			return fmt.Errorf("write back order %s: %w", o.OrderID, err)
		}
	}
	return nil
}

func (l *redisLink) requestResync() {
	select {
	case l.resync <- struct{}{}:
	default:
	}
}

// runResync sends every local driver the open orders after a gap in the
// subscription, so no order published during the gap is missed.
func (l *redisLink) runResync(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.resync:
		}
		b := l.current()
		open, err := b.orders.Open(ctx)
		if err != nil {
			_ = l.s.check(b, err)
			continue
		}
		if open == nil {
			open = []Order{}
		}
		n := l.s.hub.broadcastDrivers(encodeFrame(TypeOpenOrders, OpenOrdersMessage{OpenOrders: open}))
		l.s.log.Info("resent open orders after a gap in fan-out", "orders", len(open), "drivers", n)
	}
}

// NodeHeartbeat is what each node writes to taxi:node:{node_id} every
// heartbeat interval. taxi monitor lists nodes from it.
type NodeHeartbeat struct {
	NodeID    string    `json:"node_id"`
	StatsURL  string    `json:"stats_url,omitempty"`
	Version   string    `json:"version"`
	Mode      string    `json:"mode"`
	Hostname  string    `json:"hostname"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Drivers   int64     `json:"drivers"`
	Users     int64     `json:"users"`
}

// Redis keys that tools outside the hub read; see docs/redis.md.
const (
	RedisKeyNodes      = keyNodes
	RedisNodeKeyPrefix = keyNodePrefix
)

func (l *redisLink) beat(ctx context.Context) {
	host, _ := os.Hostname()
	hb := NodeHeartbeat{
		NodeID:    l.s.cfg.NodeID,
		StatsURL:  l.s.statsURL(),
		Version:   Version,
		Mode:      l.s.mode(),
		Hostname:  host,
		PID:       os.Getpid(),
		StartedAt: l.s.started,
		UpdatedAt: time.Now().UTC(),
		Drivers:   l.s.hub.drivers.Load(),
		Users:     l.s.hub.users.Load(),
	}
	raw, _ := json.Marshal(hb)
	ttl := 3 * l.s.cfg.HeartbeatInterval
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, nodeKey(l.s.cfg.NodeID), raw, ttl)
		p.SAdd(ctx, keyNodes, l.s.cfg.NodeID)
		p.SAdd(ctx, presenceNodesKey(RoleDriver), l.s.cfg.NodeID)
		p.SAdd(ctx, presenceNodesKey(RoleUser), l.s.cfg.NodeID)
		return nil
	})
	if err != nil {
		_ = l.s.check(l.redis, err)
		return
	}
}

// runHeartbeat writes the heartbeat and reaps nodes whose heartbeat expired.
func (l *redisLink) runHeartbeat(ctx context.Context) {
	t := time.NewTicker(l.s.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if l.isDegraded() {
			continue
		}
		l.beat(ctx)
		if err := l.reapDead(ctx); err != nil {
			_ = l.s.check(l.redis, err)
		}
	}
}

// reapDead removes the presence of every node whose heartbeat is gone: a
// node killed without a goodbye leaves no ghost drivers for long.
func (l *redisLink) reapDead(ctx context.Context) error {
	seen := map[string]bool{}
	for _, key := range []string{presenceNodesKey(RoleDriver), presenceNodesKey(RoleUser), keyNodes} {
		nodes, err := l.rdb.SMembers(ctx, key).Result()
		if err != nil {
			return fmt.Errorf("list nodes: %w", err)
		}
		for _, n := range nodes {
			seen[n] = true
		}
	}
	delete(seen, l.s.cfg.NodeID)
	for node := range seen {
		n, err := l.rdb.Exists(ctx, nodeKey(node)).Result()
		if err != nil {
			return fmt.Errorf("check node %s: %w", node, err)
		}
		if n == 1 {
			continue
		}
		removed, err := l.presence.reap(ctx, node)
		if err != nil {
			return err
		}
		if err := l.rdb.SRem(ctx, keyNodes, node).Err(); err != nil {
			return fmt.Errorf("unlist node %s: %w", node, err)
		}
		l.s.log.Info("reaped a node whose heartbeat expired", "dead_node", node, "ids_removed", removed)
	}
	return nil
}

// runProbe publishes a numbered probe on the node's own channel every
// interval and checks that the previous one came back. A subscription that
// stays connected but delivers nothing is caught here and rebuilt.
func (l *redisLink) runProbe(ctx context.Context) {
	t := time.NewTicker(l.s.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if l.isDegraded() || !l.subscribed() {
			l.probeSeq.Store(0)
			continue
		}
		if sent := l.probeSeq.Load(); sent > 0 && l.probeSeen.Load() < sent {
			l.probeFailures.Add(1)
			l.s.log.Warn("subscription probe did not come back: rebuilding the subscription", "probe", sent)
			for _, s := range l.subs {
				s.restart()
			}
			l.probeSeq.Store(0)
			continue
		}
		seq := l.probeSeq.Add(1)
		if err := l.redis.broker.Publish(ctx, Channel(l.probeChan), []byte(strconv.FormatInt(seq, 10))); err != nil {
			l.probeSeq.Store(0)
			_ = l.s.check(l.redis, err)
		}
	}
}

// subscription is one Pub/Sub connection and the goroutine that reads it.
type subscription struct {
	link     *redisLink
	channels []string
	active   atomic.Bool
	ps       atomic.Pointer[redis.PubSub]
	started  bool // a first subscription happened; later ones follow a gap
}

// restart closes the current connection; run opens a new one.
func (s *subscription) restart() {
	if ps := s.ps.Load(); ps != nil {
		_ = ps.Close()
	}
}

// run keeps the subscription open until ctx ends, reconnecting with backoff.
func (s *subscription) run(ctx context.Context) {
	l := s.link
	backoff := newBackoff(50*time.Millisecond, 2*time.Second)
	for ctx.Err() == nil {
		var ps *redis.PubSub
		if l.sharded {
			ps = l.rdb.SSubscribe(ctx, s.channels...)
		} else {
			ps = l.rdb.Subscribe(ctx, s.channels...)
		}
		s.ps.Store(ps)
		stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
		err := s.read(ctx, ps, backoff)
		stop()
		_ = ps.Close()
		s.active.Store(false)
		if ctx.Err() != nil {
			return
		}
		l.s.log.Warn("redis subscription lost", "channels", s.channels, "err", err)
		if !backoff.wait(ctx) {
			return
		}
	}
}

// read delivers messages until the connection fails.
func (s *subscription) read(ctx context.Context, ps *redis.PubSub, backoff *backoff) error {
	l := s.link
	confirmed := 0
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			confirmed++
			if confirmed == len(s.channels) {
				s.active.Store(true)
				backoff.reset()
				if s.started {
					l.resubscribes.Add(1)
					l.s.log.Info("redis subscription restored", "channels", s.channels)
					if !l.isDegraded() {
						l.requestResync()
					}
				}
				s.started = true
			}
		case *redis.Message:
			if m.Channel == l.probeChan {
				if n, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
					l.probeSeen.Store(n)
				}
				continue
			}
			l.s.deliver(Channel(m.Channel), []byte(m.Payload))
		}
	}
}

// backoff doubles a wait from min to max.
type backoff struct {
	min, max, next time.Duration
}

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max, next: min} }

func (b *backoff) reset() { b.next = b.min }

// wait sleeps for the next interval; it reports false when ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.next)
	defer t.Stop()
	b.next = min(b.next*2, b.max)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// redisLogger sends go-redis's own messages (mostly failed dials while Redis
// is away) to the default logger at debug level: the link already logs each
// outage once, at warn.
type redisLogger struct{}

func (redisLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}
