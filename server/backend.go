package server

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// backend is one complete set of stores and the broker that goes with them.
// A node in memory mode has one; a node in Redis mode has the Redis set and
// a memory set it serves from while Redis is away (failover.go).
type backend struct {
	orders   OrderStore
	locks    LockStore
	viewers  ViewerStore
	presence Presence
	broker   Broker
	// locations keeps drivers' positions. The memory set of a node whose
	// Redis is away knows only the positions this node received since.
	locations LocationStore
	// partial is true for the memory set of a node whose Redis is away: it
	// knows only the orders this node made since, so "not found" and "none
	// open" are not answers it can give.
	partial bool
	// idempotency remembers riders' Idempotency-Keys.
	idempotency IdempotencyStore
	// sweep expires the memory stores' entries; nil for Redis.
	sweep func()
	// memOrders and memBroker are the memory stores, for the write-back
	// after an outage; nil for Redis.
	memOrders *memoryOrders
	memBroker *memoryBroker
}

func newMemoryBackend(cfg *Config, deliver deliverFunc) *backend {
	orders, locks, viewers := newMemoryOrders(cfg.OrderRetention), newMemoryLocks(), newMemoryViewers()
	broker := newMemoryBroker(cfg, deliver)
	idem := newMemoryIdempotency()
	return &backend{
		orders:    orders,
		locks:     locks,
		viewers:   viewers,
		presence:  newMemoryPresence(),
		broker:    broker,
		locations: newMemoryLocations(),
		memOrders: orders,
		memBroker: broker,

		idempotency: idem,
		sweep: func() {
			orders.sweep()
			locks.sweep()
			viewers.sweep()
			idem.sweep()
		},
	}
}

func newRedisBackend(cfg *Config, rdb redis.UniversalClient, broker *redisBroker) *backend {
	return &backend{
		orders:   &redisOrders{rdb: rdb, retention: cfg.OrderRetention},
		locks:    &redisLocks{rdb: rdb},
		viewers:  &redisViewers{rdb: rdb},
		presence: &redisPresence{rdb: rdb, nodeID: cfg.NodeID},
		broker:   broker,

		locations: &redisLocations{rdb: rdb},

		idempotency: &redisIdempotency{rdb: rdb},
	}
}

// backends chooses the stores an operation uses. Memory mode has one that
// never changes; Redis mode has failover. Order logic asks for the current
// backend and hands back what went wrong; it never asks which one it got.
type backends interface {
	// current returns the stores to use now.
	current() *backend
	// observe looks at an error of an operation on b. It returns the error
	// to give the caller, and switched=true when the node has just left b
	// for another backend, on which the operation may be tried once more.
	observe(b *backend, err error) (out error, switched bool)
	// rejoining refuses state changes on b while its state is being
	// written back to the shared store.
	rejoining(b *backend) error
}

// single is memory mode's backends: one set of stores for the node's life.
type single struct{ b *backend }

func (s single) current() *backend                           { return s.b }
func (s single) observe(_ *backend, err error) (error, bool) { return err, false }
func (s single) rejoining(*backend) error                    { return nil }

// do runs op on the current backend. When op fails because the node just
// left that backend (Redis went away), op runs once more on the new one, so
// a request that met an outage is answered from memory instead of failing.
// Only idempotent operations, or ones whose first attempt cannot have taken
// effect, pass retry=true.
func (s *Server) do(ctx context.Context, retry bool, op func(b *backend) error) error {
	b := s.backends.current()
	err := op(b)
	if err == nil {
		return nil
	}
	err, switched := s.backends.observe(b, err)
	if switched && retry && ctx.Err() == nil {
		return op(s.backends.current())
	}
	return err
}

// observed is backends.observe for callers that do not retry.
func (s *Server) observed(b *backend, err error) error {
	err, _ = s.backends.observe(b, err)
	return err
}
