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
		return Order{}, fmt.Errorf("order %s: created_at %q: %w: %w", h["order_id"], h["created_at"], ErrInternal, err)
	}
	switch Status(h["status"]) {
	case StatusOpen, StatusAccepted, StatusCancelled:
	default:
		return Order{}, fmt.Errorf("order %s: status %q: %w", h["order_id"], h["status"], ErrInternal)
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
		r.indexByUser(ctx, p, o)
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

// restore writes back an order made during an outage; see restore.lua.
func (r *redisOrders) restore(ctx context.Context, o Order) error {
	args := []any{int64(r.retention / time.Second)}
	for k, v := range orderFields(o) {
		args = append(args, k, v)
	}
	res, err := restoreScript.Run(ctx, r.rdb, []string{orderKey(o.OrderID)}, args...).Text()
	if err != nil {
		return fmt.Errorf("redis: restore order %s: %w", o.OrderID, err)
	}
	switch {
	case res == "created":
		_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			r.indexByUser(ctx, p, o)
			if o.Status == StatusOpen {
				p.ZAdd(ctx, keyOpenOrders, redis.Z{Score: float64(o.CreatedAt.UnixMilli()), Member: o.OrderID})
			}
			return nil
		})
	case res == "closed":
		err = r.rdb.ZRem(ctx, keyOpenOrders, o.OrderID).Err()
	}
	if err != nil {
		return fmt.Errorf("redis: index restored order %s: %w", o.OrderID, err)
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
	h := make(map[string]string, (len(res)-1)/2)
	for i := 1; i+1 < len(res); i += 2 {
		h[res[i]] = res[i+1]
	}
	return orderFromHash(h)
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

// indexByUser adds o to its rider's index, which lives as long as the
// rider's newest order.
func (r *redisOrders) indexByUser(ctx context.Context, p redis.Pipeliner, o Order) {
	key := userOrdersKey(o.UserID)
	p.ZAdd(ctx, key, redis.Z{Score: float64(o.CreatedAt.UnixMilli()), Member: o.OrderID})
	p.Expire(ctx, key, r.retention)
}

func (r *redisOrders) ByUser(ctx context.Context, userID string, limit int, before string) ([]Order, string, error) {
	key := userOrdersKey(userID)
	max := "+inf"
	if before != "" {
		score, err := r.rdb.ZScore(ctx, key, before).Result()
		if errors.Is(err, redis.Nil) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("redis: orders of %s: %w", userID, err)
		}
		max = "(" + strconv.FormatFloat(score, 'f', -1, 64)
	}
	// Expired orders leave their ids behind until the index expires: read
	// a little more than a page and skip them.
	ids, err := r.rdb.ZRevRangeByScore(ctx, key, &redis.ZRangeBy{Max: max, Min: "-inf", Count: int64(limit) + 16}).Result()
	if err != nil {
		return nil, "", fmt.Errorf("redis: orders of %s: %w", userID, err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, orderKey(id))
		}
		return nil
	}); err != nil {
		return nil, "", fmt.Errorf("redis: read orders of %s: %w", userID, err)
	}
	out := make([]Order, 0, len(ids))
	for _, c := range cmds {
		o, err := orderFromHash(c.Val())
		if errors.Is(err, ErrOrderNotFound) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		out = append(out, o)
	}
	return page(out, limit)
}
