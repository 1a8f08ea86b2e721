package server

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/idempotency_settle.lua
var settleSrc string
var settleScript = redis.NewScript(settleSrc)

// redisIdempotency keeps each record as a string at
// idempotency:{user_id}:{key}: claimed with SET NX, settled by
// compare-and-set or compare-and-delete, so every node sees the same key.
type redisIdempotency struct {
	rdb redis.UniversalClient
}

var _ IdempotencyStore = (*redisIdempotency)(nil)

func (r *redisIdempotency) Claim(ctx context.Context, userID, key string, rec IdempotencyRecord, ttl time.Duration) (IdempotencyRecord, bool, error) {
	// NX with GET returns the record that is there in the same round trip.
	prev, err := r.rdb.SetArgs(ctx, idempotencyKey(userID, key), rec.encode(), redis.SetArgs{Mode: "NX", TTL: ttl, Get: true}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return rec, true, nil
	case err != nil:
		return IdempotencyRecord{}, false, fmt.Errorf("redis: claim idempotency key of %s: %w", userID, err)
	}
	held, err := decodeIdempotencyRecord(prev)
	return held, false, err
}

func (r *redisIdempotency) Settle(ctx context.Context, userID, key string, claim IdempotencyRecord, done *IdempotencyRecord, ttl time.Duration) error {
	k := idempotencyKey(userID, key)
	var err error
	if done == nil {
		err = releaseScript.Run(ctx, r.rdb, []string{k}, claim.encode()).Err()
	} else {
		err = settleScript.Run(ctx, r.rdb, []string{k}, claim.encode(), done.encode(), ttl.Milliseconds()).Err()
	}
	if err != nil {
		return fmt.Errorf("redis: settle idempotency key of %s: %w", userID, err)
	}
	return nil
}
