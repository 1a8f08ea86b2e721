package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// failover is a Redis-mode node's choice of stores. It serves from Redis
// while Redis answers its health check, degrades to a memory backend when it
// does not, and rejoins when it answers again: it writes back what the node
// did meanwhile, logs the events of the outage in Redis for the other nodes
// (this node's clients had them), and rebuilds the subscription, whose
// catch-up delivers what the node missed.
//
// Only a failed health check, on a connection of its own, degrades the node:
// a slow reply or an exhausted pool is backpressure, answered with
// ErrUnavailable, never an outage.
type failover struct {
	cfg      *Config
	log      *slog.Logger
	health   redis.UniversalClient
	redis    *backend
	orders   *redisOrders
	broker   *redisBroker
	delivery *delivery
	// newFallback makes an empty memory backend.
	newFallback func() *backend
	// rejoined re-registers the node in Redis (presence, heartbeat) before
	// it switches back.
	rejoined func(ctx context.Context) error
	// switched runs right after the node switched back to Redis.
	switched func()

	fallback atomic.Pointer[backend]
	// switching is set while the node rejoins Redis; see rejoin.
	switching atomic.Bool
	checks    singleflight.Group

	mu            sync.Mutex
	degraded      bool
	degradedSince time.Time
	degradedTotal time.Duration
	lastErr       string

	outages atomic.Int64
	wake    chan struct{}
}

var _ backends = (*failover)(nil)

func (f *failover) current() *backend {
	if f.isDegraded() {
		return f.fallback.Load()
	}
	return f.redis
}

func (f *failover) isDegraded() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.degraded
}

// observe turns an error of Redis into the node's answer. Domain, internal
// and overload errors pass through. ErrUnavailable asks the health check:
// when Redis answers it, the error stays a retryable 503; when it does not,
// the node degrades and the caller may retry on memory.
func (f *failover) observe(b *backend, err error) (error, bool) {
	if err == nil || b != f.redis {
		return err, false
	}
	err = storeError(err)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrOverloaded) {
		return err, false
	}
	if f.isDegraded() {
		return fmt.Errorf("%w: %w", ErrDegraded, err), true
	}
	if f.healthy() {
		return err, false
	}
	f.degrade(err)
	return fmt.Errorf("%w: %w", ErrDegraded, err), true
}

func (f *failover) rejoining(b *backend) error {
	if b.partial && f.switching.Load() {
		return fmt.Errorf("rejoining redis: %w", ErrDegraded)
	}
	return nil
}

// healthy pings Redis on the health connection. Concurrent callers share
// one ping.
func (f *failover) healthy() bool {
	v, _, _ := f.checks.Do("ping", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), f.cfg.RedisTimeout)
		defer cancel()
		return f.health.Ping(ctx).Err() == nil, nil
	})
	return v.(bool)
}

// failed is how background work reports an error of Redis.
func (f *failover) failed(err error) { _, _ = f.observe(f.redis, err) }

// degrade switches the node to its memory backend. The node keeps serving
// its own clients; the recovery loop brings it back.
func (f *failover) degrade(err error) {
	f.mu.Lock()
	if f.degraded {
		f.mu.Unlock()
		return
	}
	f.degraded = true
	f.degradedSince = time.Now()
	f.lastErr = err.Error()
	f.mu.Unlock()
	f.outages.Add(1)
	f.log.Warn("redis unreachable: serving this node's clients in memory mode until it returns", "err", err)
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// runRecovery waits for an outage, then retries Redis with backoff until it
// answers and the subscription is back, and rejoins. It exits when ctx ends.
func (f *failover) runRecovery(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		}
		backoff := newBackoff(100*time.Millisecond, 5*time.Second)
		for f.isDegraded() {
			if !backoff.wait(ctx) {
				return
			}
			if err := f.rejoin(ctx); err != nil {
				f.log.Debug("redis still unavailable", "err", err)
				f.mu.Lock()
				f.lastErr = err.Error()
				f.mu.Unlock()
			}
		}
	}
}

// rejoin writes back the orders made during the outage, re-registers the
// node, switches back to Redis, logs the outage's events in Redis and
// rebuilds the subscription.
func (f *failover) rejoin(ctx context.Context) error {
	if !f.healthy() {
		return errors.New("ping: no answer")
	}
	if !f.delivery.subscribed() {
		return errors.New("subscription not yet back")
	}
	// From here until the switch, accepts and cancels on the memory backend
	// answer 503: the state written back below is then final, and no order
	// can be won in memory and again in Redis.
	f.switching.Store(true)
	defer f.switching.Store(false)
	fb := f.fallback.Load()
	if err := f.writeBack(ctx, fb); err != nil {
		return err
	}
	if err := f.rejoined(ctx); err != nil {
		return err
	}

	// Swap: from here on every operation goes to Redis.
	f.fallback.Store(f.newFallback())
	f.mu.Lock()
	f.degraded = false
	f.lastErr = ""
	f.degradedTotal += time.Since(f.degradedSince)
	f.degradedSince = time.Time{}
	outage := f.degradedTotal
	f.mu.Unlock()
	f.switched()
	// Orders changed on the memory backend between the first write-back
	// and the switch are not in Redis yet (orders already there are left
	// as Redis has them).
	if err := f.writeBack(ctx, fb); err != nil {
		f.log.Error("write back orders changed during the switch", "err", err)
	}
	events := fb.memBroker.all()
	for _, ev := range events {
		// This node's clients had the event from memory: the copy logged
		// in Redis is for the other nodes.
		f.broker.seq[ev.Channel].skipOnce(ev)
		fresh := Event{Channel: ev.Channel, Type: ev.Type, Message: ev.Message, UserID: ev.UserID, Targets: ev.Targets}
		if _, err := f.broker.Publish(ctx, fresh); err != nil {
			f.log.Warn("log an outage event in redis", "type", ev.Type, "err", err)
		}
	}
	// The subscription was left behind while the node served from memory;
	// rebuilt, it catches up from the log.
	f.delivery.restart()
	f.log.Info("redis is back: rejoined the cluster", "orders_written_back", len(fb.memOrders.all()),
		"events_logged", len(events), "degraded_seconds_total", outage.Seconds())
	return nil
}

// writeBack writes every order of a fallback backend into Redis, never
// undoing a state change Redis already has.
func (f *failover) writeBack(ctx context.Context, fb *backend) error {
	for _, o := range fb.memOrders.all() {
		if err := f.orders.restore(ctx, o); err != nil {
			return fmt.Errorf("write back order %s: %w", o.OrderID, err)
		}
	}
	return nil
}

func (f *failover) stats() *RedisStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := &RedisStats{
		Status:        "connected",
		LastError:     f.lastErr,
		Outages:       f.outages.Load(),
		ProbeFailures: f.delivery.stats.probeFailures.Load(),
		Resubscribes:  f.delivery.stats.resubscribes.Load(),
	}
	total := f.degradedTotal
	if f.degraded {
		st.Status = "degraded"
		st.DegradedSince = f.degradedSince
		total += time.Since(f.degradedSince)
	}
	st.DegradedSeconds = total.Seconds()
	return st
}
