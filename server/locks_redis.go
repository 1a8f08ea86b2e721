package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisLocks is the contract's acceptance lock: SET order_lock:{id} {driver}
// NX EX, released by compare-and-delete.
type redisLocks struct {
	rdb redis.UniversalClient
}

var _ LockStore = (*redisLocks)(nil)

func (r *redisLocks) Acquire(ctx context.Context, orderID, owner string, ttl time.Duration) (bool, string, error) {
	// NX with GET answers "who holds it" in the same round trip.
	prev, err := r.rdb.SetArgs(ctx, lockKey(orderID), owner, redis.SetArgs{Mode: "NX", TTL: ttl, Get: true}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return true, owner, nil
	case err != nil:
		return false, "", fmt.Errorf("redis: lock order %s: %w", orderID, err)
	default:
		return false, prev, nil
	}
}

func (r *redisLocks) Release(ctx context.Context, orderID, owner string) (bool, error) {
	n, err := releaseScript.Run(ctx, r.rdb, []string{lockKey(orderID)}, owner).Int()
	if err != nil {
		return false, fmt.Errorf("redis: unlock order %s: %w", orderID, err)
	}
	return n == 1, nil
}
