package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taxi-hub/taxi/internal/redisconn"
	"golang.org/x/sync/errgroup"
)

// cluster is a Redis-mode node's tie to the other nodes: the Redis clients
// and the three parts built over them, each in its own file: failover
// (failover.go), the broker's delivery loop (subscription.go) and membership
// (membership.go).
type cluster struct {
	rdb      redis.UniversalClient
	health   redis.UniversalClient
	sharded  bool
	failover *failover
	delivery *delivery
	members  *membership
}

func newCluster(s *Server) (*cluster, error) {
	cfg := &s.cfg
	opts, err := redisconn.Options(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	// Fail fast when Redis is gone: a request should turn into a clear 503
	// or a memory-mode answer within about RedisTimeout, not hang. One dial
	// and no retry: go-redis would otherwise retry a failed dial several
	// times, and the first request after Redis died would take seconds.
	opts.DialTimeout = cfg.RedisTimeout
	opts.ReadTimeout = cfg.RedisTimeout
	opts.WriteTimeout = cfg.RedisTimeout
	opts.PoolTimeout = cfg.RedisTimeout
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	redis.SetLogger(redisLogger{})
	rdb := redis.NewUniversalClient(opts)
	// The health check has a connection of its own: a pool exhausted by a
	// burst of requests must not look like an outage.
	hopts := *opts
	hopts.PoolSize = 1
	hopts.MinIdleConns = 0
	health := redis.NewUniversalClient(&hopts)

	c := &cluster{rdb: rdb, health: health, sharded: redisconn.IsCluster(rdb)}
	broker := newRedisBroker(cfg, rdb, c.sharded, s.deliver)
	redisB := newRedisBackend(cfg, rdb, broker)
	presence := redisB.presence.(*redisPresence)
	f := &failover{
		cfg:    cfg,
		log:    s.log,
		health: health,
		redis:  redisB,
		orders: redisB.orders.(*redisOrders),
		broker: broker,
		newFallback: func() *backend {
			b := newMemoryBackend(cfg, s.deliver)
			b.partial = true
			return b
		},
		wake: make(chan struct{}, 1),
	}
	f.fallback.Store(f.newFallback())
	ready := func() bool { return !f.isDegraded() }
	c.delivery = newDelivery(broker, cfg.NodeID, cfg.ProbeInterval, linkHooks{
		log: s.log, ready: ready, resync: s.resync, failed: f.failed,
	})
	f.delivery = c.delivery
	c.members = &membership{
		cfg: cfg, log: s.log, rdb: rdb, presence: presence, hub: s.hub,
		heartbeat: s.heartbeatOf, ready: ready, failed: f.failed,
	}
	f.rejoined = c.members.rejoin
	// Marks of connections made during the outage are ids of the memory
	// log, which do not compare with Redis's.
	f.switched = func() { s.hub.each(func(c *client) { c.clearMark() }) }
	c.failover = f
	return c, nil
}

// start launches the cluster's goroutines in g; each exits when ctx ends.
func (c *cluster) start(ctx context.Context, g *errgroup.Group, log *slog.Logger) {
	pctx, cancel := context.WithTimeout(ctx, c.failover.cfg.RedisTimeout*2)
	err := c.health.Ping(pctx).Err()
	cancel()
	if err != nil {
		log.Warn("redis unreachable at start: serving in memory mode and retrying", "err", err)
		c.failover.degrade(err)
	} else {
		log.Info("connected to redis", "sharded_pubsub", c.sharded)
		if _, err := c.members.presence.reap(ctx, c.failover.cfg.NodeID); err != nil {
			log.Warn("clear presence left by an earlier run", "err", err)
		}
		if err := c.members.beat(ctx); err != nil {
			c.failover.failed(err)
		}
		if err := c.failover.broker.start(ctx); err != nil {
			log.Warn("read the event log's end", "err", err)
		}
	}
	g.Go(func() error { return c.delivery.Run(ctx) })
	g.Go(func() error { c.failover.runRecovery(ctx); return nil })
	g.Go(func() error { c.members.Run(ctx); return nil })
}

// stop leaves the cluster on a graceful shutdown and closes the clients.
func (c *cluster) stop() {
	if !c.failover.isDegraded() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c.members.leave(ctx)
		cancel()
	}
	_ = c.rdb.Close()
	_ = c.health.Close()
}

// redisLogger sends go-redis's own messages (mostly failed dials while Redis
// is away) to the default logger at debug level: the node already logs each
// outage once, at warn.
type redisLogger struct{}

func (redisLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}
