package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taxi-hub/taxi/contract"
	"github.com/taxi-hub/taxi/internal/redisconn"
	"github.com/taxi-hub/taxi/lockctl"
)

// Bounds on what one snapshot keeps, so memory stays flat however large
// the keyspace: the screen shows a few dozen rows anyway.
const (
	maxLocks  = 1000
	maxViewed = 50
	scanCount = 1000
)

// redisReader reads the cluster's state from Redis. It only reads: the one
// write the monitor makes, a confirmed lock clear, goes through lockctl.
type redisReader struct {
	rdb     redis.UniversalClient
	url     string // redacted
	cluster bool
	locks   *lockctl.Controller
}

// newRedisReader builds a client that fails fast: a monitor must show "Redis
// unreachable" within its timeout, not hang on go-redis's default retries.
func newRedisReader(rawURL string, timeout time.Duration) (*redisReader, error) {
	o, err := redisconn.Options(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	o.DialTimeout = timeout
	o.ReadTimeout = timeout
	o.WriteTimeout = timeout
	o.PoolTimeout = timeout
	o.ContextTimeoutEnabled = true
	// The next refresh is the retry; go-redis's own retries (of commands
	// and of dials) would spend the whole timeout and report "context
	// deadline exceeded" instead of the cause, say "connection refused".
	o.MaxRetries = -1
	o.DialerRetries = 1
	rdb := redis.NewUniversalClient(o)
	return &redisReader{
		rdb:     rdb,
		url:     redisconn.Redact(rawURL),
		cluster: redisconn.IsCluster(rdb),
		locks:   lockctl.New(rdb),
	}, nil
}

func (r *redisReader) close() error { return r.rdb.Close() }

// heartbeat is one entry of taxi:nodes with its heartbeat, nil when expired.
type heartbeat struct {
	nodeID string
	hb     *contract.NodeHeartbeat
	err    string
}

// ping measures one round trip.
func (r *redisReader) ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	if err := r.rdb.Ping(ctx).Err(); err != nil {
		return 0, fmt.Errorf("ping: %w", err)
	}
	return time.Since(start), nil
}

// heartbeats reads the node registry and each node's heartbeat in one
// pipeline (which a ClusterClient splits by slot).
func (r *redisReader) heartbeats(ctx context.Context) ([]heartbeat, error) {
	ids, err := r.rdb.SMembers(ctx, contract.KeyNodes).Result()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", contract.KeyNodes, err)
	}
	slices.Sort(ids)
	pipe := r.rdb.Pipeline()
	gets := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		gets[i] = pipe.Get(ctx, contract.NodeKey(id))
	}
	if len(ids) > 0 {
		_, _ = pipe.Exec(ctx) // checked per command: redis.Nil is an expired heartbeat
	}
	out := make([]heartbeat, 0, len(ids))
	for i, id := range ids {
		h := heartbeat{nodeID: id}
		raw, err := gets[i].Result()
		switch {
		case errors.Is(err, redis.Nil):
			h.err = "no heartbeat (expired): the node stopped beating"
		case err != nil:
			return nil, fmt.Errorf("read heartbeat of %s: %w", id, err)
		default:
			var hb contract.NodeHeartbeat
			if err := json.Unmarshal([]byte(raw), &hb); err != nil {
				h.err = fmt.Sprintf("unreadable heartbeat: %v", err)
			} else {
				h.hb = &hb
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// read fills everything but the heartbeats and the latency. A failed part
// becomes a warning: the rest is still worth showing.
func (r *redisReader) read(ctx context.Context, s *RedisSnapshot) {
	warn := func(err error) { s.Warnings = append(s.Warnings, err.Error()) }
	if err := r.presence(ctx, s); err != nil {
		warn(err)
	}
	if err := r.channels(ctx, s); err != nil {
		warn(err)
	}
	if err := r.info(ctx, &s.Server); err != nil {
		warn(err)
	}
	if err := r.lockList(ctx, &s.Locks); err != nil {
		warn(err)
	}
	if err := r.viewed(ctx, &s.Viewed); err != nil {
		warn(err)
	}
}

func (r *redisReader) presence(ctx context.Context, s *RedisSnapshot) error {
	pipe := r.rdb.Pipeline()
	d := pipe.SCard(ctx, contract.KeyActiveDrivers)
	u := pipe.SCard(ctx, contract.KeyActiveUsers)
	located := pipe.ZCard(ctx, contract.KeyDriverLocationTimes)
	rides := pipe.ZCard(ctx, contract.KeyRidingOrders)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("count %s, %s, %s and %s: %w", contract.KeyActiveDrivers, contract.KeyActiveUsers,
			contract.KeyDriverLocationTimes, contract.KeyRidingOrders, err)
	}
	s.ActiveDrivers, s.ActiveUsers = d.Val(), u.Val()
	s.LocatedDrivers, s.Rides = located.Val(), rides.Val()
	return nil
}

func (r *redisReader) channels(ctx context.Context, s *RedisSnapshot) error {
	names := []string{string(contract.ChannelDrivers), string(contract.ChannelUsers)}
	var m map[string]int64
	var err error
	if r.cluster {
		// The nodes use sharded Pub/Sub on a Cluster (SSUBSCRIBE).
		m, err = r.rdb.PubSubShardNumSub(ctx, names...).Result()
	} else {
		m, err = r.rdb.PubSubNumSub(ctx, names...).Result()
	}
	if err != nil {
		return fmt.Errorf("count channel subscribers: %w", err)
	}
	s.Channels = s.Channels[:0]
	for _, n := range names {
		s.Channels = append(s.Channels, Channel{Name: n, Subscribers: m[n]})
	}
	return nil
}

// info reads INFO from the server, or from every master of a Cluster and
// sums it.
func (r *redisReader) info(ctx context.Context, into *ServerInfo) error {
	var mu sync.Mutex
	var sum ServerInfo
	err := r.forEachMaster(ctx, func(ctx context.Context, node redis.Cmdable) error {
		text, err := node.Info(ctx).Result()
		if err != nil {
			return err
		}
		one := parseInfo(text)
		mu.Lock()
		defer mu.Unlock()
		sum.Version = one.Version
		sum.UsedMemoryBytes += one.UsedMemoryBytes
		sum.MaxMemoryBytes += one.MaxMemoryBytes
		sum.ConnectedClients += one.ConnectedClients
		sum.BlockedClients += one.BlockedClients
		sum.OpsPerSec += one.OpsPerSec
		sum.Masters++
		return nil
	})
	if err != nil {
		return fmt.Errorf("info: %w", err)
	}
	*into = sum
	return nil
}

// parseInfo picks the fields the monitor shows from INFO's "key:value"
// lines.
func parseInfo(text string) ServerInfo {
	var s ServerInfo
	num := func(v string) int64 { n, _ := strconv.ParseInt(v, 10, 64); return n }
	for line := range strings.Lines(text) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "redis_version":
			s.Version = v
		case "used_memory":
			s.UsedMemoryBytes = num(v)
		case "maxmemory":
			s.MaxMemoryBytes = num(v)
		case "connected_clients":
			s.ConnectedClients = num(v)
		case "blocked_clients":
			s.BlockedClients = num(v)
		case "instantaneous_ops_per_sec":
			s.OpsPerSec = num(v)
		}
	}
	return s
}

// lockList keeps the stale locks first (those are the incident), then the
// others, up to maxLocks in all, while counting every lock.
func (r *redisReader) lockList(ctx context.Context, into *Locks) error {
	var stale, live []lockctl.Lock
	totals, err := r.locks.List(ctx, lockctl.Filter{}, func(l lockctl.Lock) error {
		switch {
		case l.Stale() && len(stale) < maxLocks:
			stale = append(stale, l)
		case !l.Stale() && len(live) < maxLocks:
			live = append(live, l)
		}
		return nil
	})
	items := append(append(make([]lockctl.Lock, 0, len(stale)+len(live)), stale...), live...)
	if len(items) > maxLocks {
		items = items[:maxLocks]
	}
	*into = Locks{Total: totals.Matched, Stale: totals.Stale, Items: items, Truncated: totals.Matched > len(items)}
	if err != nil {
		into.Truncated = true
		return fmt.Errorf("locks (partial list): %w", err)
	}
	return nil
}

// viewed walks order_viewers:* with SCAN, sizes each set with SCARD one
// batch at a time, keeps the most viewed, then reads those orders and
// their locks in one pipeline.
func (r *redisReader) viewed(ctx context.Context, into *Viewed) error {
	var mu sync.Mutex
	v := Viewed{Top: []ViewedOrder{}}
	keep := func(batch []ViewedOrder) {
		mu.Lock()
		defer mu.Unlock()
		for _, o := range batch {
			v.Orders++
			v.Viewers += o.Viewers
		}
		v.Top = append(v.Top, batch...)
		if len(v.Top) > 4*maxViewed {
			v.Top = topViewed(v.Top)
		}
	}
	err := r.forEachMaster(ctx, func(ctx context.Context, node redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, contract.ViewersKeyPrefix+"*", scanCount).Result()
			if err != nil {
				return fmt.Errorf("scan: %w", err)
			}
			if len(keys) > 0 {
				batch, err := scard(ctx, node, keys)
				if err != nil {
					return err
				}
				keep(batch)
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	})
	if err != nil {
		return fmt.Errorf("viewed orders: %w", err)
	}
	v.Top = topViewed(v.Top)
	if err := r.orderDetails(ctx, v.Top); err != nil {
		return fmt.Errorf("viewed orders: %w", err)
	}
	*into = v
	return nil
}

func scard(ctx context.Context, node redis.Cmdable, keys []string) ([]ViewedOrder, error) {
	pipe := node.Pipeline()
	cards := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		cards[i] = pipe.SCard(ctx, k)
	}
	_, _ = pipe.Exec(ctx) // checked per command: WRONGTYPE on a foreign key is skipped
	out := make([]ViewedOrder, 0, len(keys))
	for i, k := range keys {
		n, err := cards[i].Result()
		switch {
		case err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE"):
			continue
		case err != nil:
			return nil, fmt.Errorf("scard %s: %w", k, err)
		case n == 0:
			continue // expired since SCAN
		}
		out = append(out, ViewedOrder{OrderID: strings.TrimPrefix(k, contract.ViewersKeyPrefix), Viewers: n})
	}
	return out, nil
}

// topViewed sorts by viewers, then order id for a stable screen, and keeps
// maxViewed. SCAN may return a key twice; duplicates are dropped.
func topViewed(in []ViewedOrder) []ViewedOrder {
	slices.SortFunc(in, func(a, b ViewedOrder) int {
		if a.Viewers != b.Viewers {
			return int(b.Viewers - a.Viewers)
		}
		return strings.Compare(a.OrderID, b.OrderID)
	})
	in = slices.CompactFunc(in, func(a, b ViewedOrder) bool { return a.OrderID == b.OrderID })
	if len(in) > maxViewed {
		in = in[:maxViewed]
	}
	return in
}

func (r *redisReader) orderDetails(ctx context.Context, top []ViewedOrder) error {
	if len(top) == 0 {
		return nil
	}
	pipe := r.rdb.Pipeline()
	hashes := make([]*redis.SliceCmd, len(top))
	locks := make([]*redis.StringCmd, len(top))
	for i, o := range top {
		hashes[i] = pipe.HMGet(ctx, contract.OrderKey(o.OrderID), contract.OrderFieldStatus, contract.OrderFieldUserID, contract.OrderFieldDriverID)
		locks[i] = pipe.Get(ctx, contract.LockKey(o.OrderID))
	}
	_, _ = pipe.Exec(ctx) // checked per command: a missing order or lock is normal
	str := func(v any) string { s, _ := v.(string); return s }
	for i := range top {
		if f, err := hashes[i].Result(); err == nil && len(f) == 3 {
			top[i].Status, top[i].UserID, top[i].DriverID = str(f[0]), str(f[1]), str(f[2])
		} else if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("read order %s: %w", top[i].OrderID, err)
		}
		if owner, err := locks[i].Result(); err == nil {
			top[i].LockOwner = owner
		}
	}
	return nil
}

// forEachMaster runs fn on the one server, or on every master of a
// Cluster, where SCAN and INFO see only that master's share.
func (r *redisReader) forEachMaster(ctx context.Context, fn func(context.Context, redis.Cmdable) error) error {
	cc, ok := r.rdb.(*redis.ClusterClient)
	if !ok {
		return fn(ctx, r.rdb)
	}
	return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return fn(ctx, node) })
}
