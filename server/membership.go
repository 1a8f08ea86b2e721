package server

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/taxi-hub/taxi/contract"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
)

// NodeHeartbeat is what each node writes to taxi:node:{node_id} every
// heartbeat interval; taxi monitor lists nodes from it. See contract.
type NodeHeartbeat = contract.NodeHeartbeat

// membership keeps a Redis-mode node listed in the cluster: its heartbeat,
// its part of presence re-asserted from its own registry every beat, and the
// reaping of nodes whose heartbeat expired.
type membership struct {
	cfg      *Config
	log      *slog.Logger
	rdb      redis.UniversalClient
	presence *redisPresence
	hub      *hub
	// heartbeat describes the node now; ready is false while it serves
	// from memory; failed reports an error of Redis to failover.
	heartbeat func() NodeHeartbeat
	ready     func() bool
	failed    func(error)
}

// Run beats, re-asserts presence and reaps every heartbeat interval until
// ctx ends.
func (m *membership) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !m.ready() {
			continue
		}
		err := m.beat(ctx)
		if err == nil {
			err = m.reassert(ctx)
		}
		if err == nil {
			err = m.reapDead(ctx)
		}
		if err != nil && ctx.Err() == nil {
			m.failed(err)
		}
	}
}

func (m *membership) beat(ctx context.Context) error {
	raw, _ := json.Marshal(m.heartbeat())
	ttl := 3 * m.cfg.HeartbeatInterval
	_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, nodeKey(m.cfg.NodeID), raw, ttl)
		p.SAdd(ctx, keyNodes, m.cfg.NodeID)
		p.SAdd(ctx, presenceNodesKey(RoleDriver), m.cfg.NodeID)
		p.SAdd(ctx, presenceNodesKey(RoleUser), m.cfg.NodeID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("heartbeat: %w", storeError(err))
	}
	return nil
}

// localIDs returns the ids connected to this node, by role.
func (m *membership) localIDs() map[Role][]string {
	ids := map[Role][]string{RoleDriver: nil, RoleUser: nil}
	m.hub.eachID(func(role Role, id string) { ids[role] = append(ids[role], id) })
	return ids
}

// reassert makes this node's presence in Redis what its registry says:
// whatever joins or leaves were lost or reordered, presence converges within
// one heartbeat.
func (m *membership) reassert(ctx context.Context) error {
	return m.presence.reconcile(ctx, m.localIDs())
}

// rejoin re-registers the node after an outage, during which joins and
// leaves were not recorded.
func (m *membership) rejoin(ctx context.Context) error {
	if err := m.presence.rejoin(ctx, m.localIDs()); err != nil {
		return err
	}
	return m.beat(ctx)
}

// reapDead removes the presence of every node whose heartbeat is gone: a
// node killed without a goodbye leaves no ghost drivers for long.
func (m *membership) reapDead(ctx context.Context) error {
	seen := map[string]bool{}
	for _, key := range []string{presenceNodesKey(RoleDriver), presenceNodesKey(RoleUser), keyNodes} {
		nodes, err := m.rdb.SMembers(ctx, key).Result()
		if err != nil {
			return fmt.Errorf("list nodes: %w", storeError(err))
		}
		for _, n := range nodes {
			seen[n] = true
		}
	}
	delete(seen, m.cfg.NodeID)
	for node := range seen {
		n, err := m.rdb.Exists(ctx, nodeKey(node)).Result()
		if err != nil {
			return fmt.Errorf("check node %s: %w", node, storeError(err))
		}
		if n == 1 {
			continue
		}
		removed, err := m.presence.reap(ctx, node)
		if err != nil {
			return err
		}
		if err := m.rdb.SRem(ctx, keyNodes, node).Err(); err != nil {
			return fmt.Errorf("unlist node %s: %w", node, storeError(err))
		}
		m.log.Info("reaped a node whose heartbeat expired", "dead_node", node, "ids_removed", removed)
	}
	return nil
}

// leave removes the node's heartbeat and presence on a graceful shutdown, so
// other nodes need not wait for its heartbeat to expire.
func (m *membership) leave(ctx context.Context) {
	// Best effort: what fails here expires with the heartbeat's TTL and is
	// reaped by the other nodes.
	_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, nodeKey(m.cfg.NodeID))
		p.SRem(ctx, keyNodes, m.cfg.NodeID)
		return nil
	})
	if err == nil {
		_, err = m.presence.reap(ctx, m.cfg.NodeID)
	}
	if err != nil {
		m.log.Warn("leave the cluster on shutdown; other nodes will reap this one", "err", err)
	}
}

// heartbeatOf describes s for its heartbeat.
func (s *Server) heartbeatOf() NodeHeartbeat {
	host, _ := os.Hostname()
	return NodeHeartbeat{
		NodeID:    s.cfg.NodeID,
		StatsURL:  s.statsURL(),
		Version:   Version,
		Mode:      s.mode(),
		Hostname:  host,
		PID:       os.Getpid(),
		StartedAt: s.started,
		UpdatedAt: time.Now().UTC(),
		Drivers:   s.hub.drivers.Load(),
		Users:     s.hub.users.Load(),
	}
}
