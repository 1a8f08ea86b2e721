package server

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// redisBroker publishes frames on the contract channels. Every node,
// including the publisher, receives them through its subscriber, so a frame
// reaches each node exactly once. On Redis Cluster it uses sharded Pub/Sub,
// which keeps each channel's traffic on one shard.
type redisBroker struct {
	rdb     redis.UniversalClient
	sharded bool
}

var _ Broker = (*redisBroker)(nil)

func (b *redisBroker) Publish(ctx context.Context, ch Channel, frame []byte) error {
	var err error
	if b.sharded {
		err = b.rdb.SPublish(ctx, string(ch), frame).Err()
	} else {
		err = b.rdb.Publish(ctx, string(ch), frame).Err()
	}
	if err != nil {
		return fmt.Errorf("redis: publish to %s: %w", ch, err)
	}
	return nil
}
