package server

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// redisPresence keeps the contract sets active_drivers and active_users, plus
// one set per node of the ids connected to it. An id leaves the active set
// only when no node has it, so a driver connected to two nodes stays present
// until both connections close; a node that dies is reaped by the others
// from its set.
type redisPresence struct {
	rdb    redis.UniversalClient
	nodeID string
}

var _ Presence = (*redisPresence)(nil)

func (r *redisPresence) Join(ctx context.Context, role Role, id string) error {
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, presenceNodesKey(role), r.nodeID)
		p.SAdd(ctx, nodePresenceKey(role, r.nodeID), id)
		p.SAdd(ctx, activeKey(role), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: join %s %s: %w", role, id, err)
	}
	return nil
}

func (r *redisPresence) Leave(ctx context.Context, role Role, id string) error {
	keys := []string{activeKey(role), nodePresenceKey(role, r.nodeID), presenceNodesKey(role)}
	if err := leaveScript.Run(ctx, r.rdb, keys, id, nodePresenceKey(role, "")).Err(); err != nil {
		return fmt.Errorf("redis: leave %s %s: %w", role, id, err)
	}
	return nil
}

func (r *redisPresence) Count(ctx context.Context, role Role) (int64, error) {
	n, err := r.rdb.SCard(ctx, activeKey(role)).Result()
	if err != nil {
		return 0, fmt.Errorf("redis: count %s: %w", activeKey(role), err)
	}
	return n, nil
}

// reap forgets node's presence: its ids leave the active sets unless another
// node has them. A node reaps itself at start, to drop what an earlier
// process with its id left behind.
func (r *redisPresence) reap(ctx context.Context, node string) (int64, error) {
	var total int64
	for _, role := range []Role{RoleDriver, RoleUser} {
		keys := []string{activeKey(role), nodePresenceKey(role, node), presenceNodesKey(role)}
		n, err := reapScript.Run(ctx, r.rdb, keys, node, nodePresenceKey(role, "")).Int64()
		if err != nil {
			return total, fmt.Errorf("redis: reap node %s: %w", node, err)
		}
		total += n
	}
	return total, nil
}

// rejoin replaces this node's presence with ids, after an outage during
// which joins and leaves were not recorded.
func (r *redisPresence) rejoin(ctx context.Context, ids map[Role][]string) error {
	if _, err := r.reap(ctx, r.nodeID); err != nil {
		return err
	}
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for role, list := range ids {
			p.SAdd(ctx, presenceNodesKey(role), r.nodeID)
			for start := 0; start < len(list); start += 1000 {
				chunk := toAny(list[start:min(start+1000, len(list))])
				p.SAdd(ctx, nodePresenceKey(role, r.nodeID), chunk...)
				p.SAdd(ctx, activeKey(role), chunk...)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: rejoin presence: %w", err)
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// reconcile makes this node's presence set, and its share of the active
// sets, match ids: ids missing are added, ids the node no longer has leave
// (unless another node has them).
func (r *redisPresence) reconcile(ctx context.Context, ids map[Role][]string) error {
	for role, list := range ids {
		key := nodePresenceKey(role, r.nodeID)
		_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SAdd(ctx, presenceNodesKey(role), r.nodeID)
			for start := 0; start < len(list); start += 1000 {
				chunk := toAny(list[start:min(start+1000, len(list))])
				p.SAdd(ctx, key, chunk...)
				p.SAdd(ctx, activeKey(role), chunk...)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("redis: re-assert %s presence: %w", role, err)
		}
		have, err := r.rdb.SMembers(ctx, key).Result()
		if err != nil {
			return fmt.Errorf("redis: read %s presence: %w", role, err)
		}
		local := make(map[string]bool, len(list))
		for _, id := range list {
			local[id] = true
		}
		for _, id := range have {
			if !local[id] {
				if err := r.Leave(ctx, role, id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
