package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// backend is one complete set of stores. A node in memory mode has one; a
// node in Redis mode has the Redis set and swaps to a memory set while Redis
// is away.
type backend struct {
	orders   OrderStore
	locks    LockStore
	viewers  ViewerStore
	presence Presence
	broker   Broker
	// idempotency remembers riders' Idempotency-Keys.
	idempotency IdempotencyStore
	// sweep expires the memory stores' entries; nil for Redis.
	sweep func()
	// memOrders is the memory order store, for replay after an outage.
	memOrders *memoryOrders
}

func newMemoryBackend(cfg *Config, deliver deliverFunc) *backend {
	orders, locks, viewers := newMemoryOrders(cfg.OrderRetention), newMemoryLocks(), newMemoryViewers()
	idem := newMemoryIdempotency()
	return &backend{
		orders:    orders,
		locks:     locks,
		viewers:   viewers,
		presence:  newMemoryPresence(),
		broker:    &memoryBroker{deliver: deliver},
		memOrders: orders,

		idempotency: idem,
		sweep: func() {
			orders.sweep()
			locks.sweep()
			viewers.sweep()
			idem.sweep()
		},
	}
}

func newRedisBackend(cfg *Config, rdb redis.UniversalClient, sharded bool) *backend {
	return &backend{
		orders:   &redisOrders{rdb: rdb, retention: cfg.OrderRetention},
		locks:    &redisLocks{rdb: rdb},
		viewers:  &redisViewers{rdb: rdb},
		presence: &redisPresence{rdb: rdb, nodeID: cfg.NodeID},
		broker:   &redisBroker{rdb: rdb, sharded: sharded},

		idempotency: &redisIdempotency{rdb: rdb},
	}
}

// backend returns the stores to use now.
func (s *Server) backend() *backend {
	if s.link != nil {
		return s.link.current()
	}
	return s.mem
}

// check looks at an error from b. When b is Redis and the error says Redis
// could not serve, the error becomes ErrDegraded, which clients may retry,
// and the node degrades to memory mode if Redis also fails a PING: one slow
// reply on a busy machine must not split the node from the cluster. Domain
// errors pass through.
func (s *Server) check(b *backend, err error) error {
	if err == nil || s.link == nil || b != s.link.redis || !redisDown(err) {
		return err
	}
	s.link.confirmDown(err)
	return fmt.Errorf("%w: %v", ErrDegraded, err)
}

// redisDown reports whether err means Redis cannot serve now, as opposed to
// a domain answer (redis.Nil) or a bad command.
func redisDown(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	for _, domain := range []error{ErrOrderNotFound, ErrOrderTaken, ErrOrderNotOpen, ErrNotOrderOwner, ErrLockHeld} {
		if errors.Is(err, domain) {
			return false
		}
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "NOAUTH", "WRONGPASS"} {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	return true
}
