package server

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisViewers keeps order_viewers:{id} sets, whose TTL each view renews.
type redisViewers struct {
	rdb redis.UniversalClient
}

var _ ViewerStore = (*redisViewers)(nil)

func (r *redisViewers) View(ctx context.Context, orderID, driverID string, ttl time.Duration) (int, bool, error) {
	key := viewersKey(orderID)
	var added *redis.IntCmd
	var card *redis.IntCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		added = p.SAdd(ctx, key, driverID)
		p.Expire(ctx, key, ttl)
		card = p.SCard(ctx, key)
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("redis: view order %s: %w", orderID, err)
	}
	return int(card.Val()), added.Val() == 1, nil
}

func (r *redisViewers) Unview(ctx context.Context, orderID, driverID string) (int, bool, error) {
	key := viewersKey(orderID)
	var removed, card *redis.IntCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		removed = p.SRem(ctx, key, driverID)
		card = p.SCard(ctx, key)
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("redis: unview order %s: %w", orderID, err)
	}
	return int(card.Val()), removed.Val() == 1, nil
}

func (r *redisViewers) Count(ctx context.Context, orderID string) (int, error) {
	n, err := r.rdb.SCard(ctx, viewersKey(orderID)).Result()
	if err != nil {
		return 0, fmt.Errorf("redis: count viewers of %s: %w", orderID, err)
	}
	return int(n), nil
}

func (r *redisViewers) Clear(ctx context.Context, orderID string) error {
	if err := r.rdb.Del(ctx, viewersKey(orderID)).Err(); err != nil {
		return fmt.Errorf("redis: clear viewers of %s: %w", orderID, err)
	}
	return nil
}
