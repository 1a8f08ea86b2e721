package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisOrders keeps orders as hashes (order:{id}) with a retention TTL, and
// the ids of open orders in a sorted set by creation time. The hash's status
// is the truth; the sorted set is an index that may briefly list an order
// that just closed, and readers filter by status.
type redisOrders struct {
	rdb       redis.UniversalClient
	retention time.Duration
}

var _ OrderStore = (*redisOrders)(nil)

func orderFields(o Order) map[string]any {
	return map[string]any{
		"order_id":    o.OrderID,
		"user_id":     o.UserID,
		"status":      string(o.Status),
		"driver_id":   o.DriverID,
		"pickup_lat":  strconv.FormatFloat(o.Pickup.Lat, 'f', -1, 64),
		"pickup_lng":  strconv.FormatFloat(o.Pickup.Lng, 'f', -1, 64),
		"dropoff_lat": strconv.FormatFloat(o.Dropoff.Lat, 'f', -1, 64),
		"dropoff_lng": strconv.FormatFloat(o.Dropoff.Lng, 'f', -1, 64),
		"created_at":  o.CreatedAt.UTC().Format(time.RFC3339Nano),
	}
}

func orderFromHash(h map[string]string) (Order, error) {
	if len(h) == 0 {
		return Order{}, ErrOrderNotFound
	}
	f := func(k string) float64 {
		v, _ := strconv.ParseFloat(h[k], 64)
		return v
	}
	created, err := time.Parse(time.RFC3339Nano, h["created_at"])
	if err != nil {
		return Order{}, fmt.Errorf("order %s: created_at %q: %w", h["order_id"], h["created_at"], err)
	}
	return Order{
		OrderID:   h["order_id"],
		UserID:    h["user_id"],
		Status:    Status(h["status"]),
		DriverID:  h["driver_id"],
		Pickup:    Point{Lat: f("pickup_lat"), Lng: f("pickup_lng")},
		Dropoff:   Point{Lat: f("dropoff_lat"), Lng: f("dropoff_lng")},
		CreatedAt: created,
	}, nil
}

// Create writes the order and indexes it as open. It is also how orders
// made during an outage are written back, whatever their status.
func (r *redisOrders) Create(ctx context.Context, o Order) error {
	key := orderKey(o.OrderID)
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, orderFields(o))
		p.Expire(ctx, key, r.retention)
		if o.Status == StatusOpen {
			p.ZAdd(ctx, keyOpenOrders, redis.Z{Score: float64(o.CreatedAt.UnixMilli()), Member: o.OrderID})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: store order %s: %w", o.OrderID, err)
	}
	return nil
}

func (r *redisOrders) Get(ctx context.Context, orderID string) (Order, error) {
	h, err := r.rdb.HGetAll(ctx, orderKey(orderID)).Result()
	if err != nil {
		return Order{}, fmt.Errorf("redis: get order %s: %w", orderID, err)
	}
	return orderFromHash(h)
}

// Open reads the open-order index and the orders behind it in one pipeline,
// and trims index entries whose order closed or expired.
func (r *redisOrders) Open(ctx context.Context) ([]Order, error) {
	ids, err := r.rdb.ZRange(ctx, keyOpenOrders, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: list open orders: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, orderKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redis: read open orders: %w", err)
	}
	out := make([]Order, 0, len(ids))
	var stale []any
	for i, c := range cmds {
		o, err := orderFromHash(c.Val())
		if err != nil || o.Status != StatusOpen {
			stale = append(stale, ids[i])
			continue
		}
		out = append(out, o)
	}
	if len(stale) > 0 {
		// Best effort: a failed trim only leaves work for the next reader.
		_ = r.rdb.ZRem(ctx, keyOpenOrders, stale...).Err()
	}
	return out, nil
}

func (r *redisOrders) Accept(ctx context.Context, orderID, driverID string) (Order, error) {
	res, err := acceptScript.Run(ctx, r.rdb, []string{orderKey(orderID)}, driverID, time.Now().UTC().Format(time.RFC3339Nano)).StringSlice()
	if err != nil {
		return Order{}, fmt.Errorf("redis: accept order %s: %w", orderID, err)
	}
	switch res[0] {
	case "ok":
	case "not_found":
		return Order{}, ErrOrderNotFound
	case "taken":
		return Order{OrderID: orderID, Status: StatusAccepted, DriverID: res[1]}, ErrOrderTaken
	default:
		return Order{}, ErrOrderNotOpen
	}
	// Only the winner gets here, so the index is trimmed once.
	_ = r.rdb.ZRem(ctx, keyOpenOrders, orderID).Err()
	return r.Get(ctx, orderID)
}

func (r *redisOrders) Cancel(ctx context.Context, orderID, userID string) (Order, error) {
	res, err := cancelScript.Run(ctx, r.rdb, []string{orderKey(orderID)}, userID).Text()
	if err != nil {
		return Order{}, fmt.Errorf("redis: cancel order %s: %w", orderID, err)
	}
	switch res {
	case "ok":
	case "not_found":
		return Order{}, ErrOrderNotFound
	case "not_owner":
		return Order{}, ErrNotOrderOwner
	default:
		return Order{}, ErrOrderNotOpen
	}
	_ = r.rdb.ZRem(ctx, keyOpenOrders, orderID).Err()
	return r.Get(ctx, orderID)
}

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
