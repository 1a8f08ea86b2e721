package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/taxi-hub/taxi/contract"
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

// orderFields is o as its Redis hash; see contract.OrderFields.
func orderFields(o Order) map[string]any { return contract.OrderFields(o) }

// orderFromHash reads an order's hash: ErrOrderNotFound when it is empty,
// ErrInternal when a field is missing or unreadable.
func orderFromHash(h map[string]string) (Order, error) {
	o, err := contract.DecodeOrder(h)
	switch {
	case errors.Is(err, contract.ErrOrderNotFound):
		return Order{}, ErrOrderNotFound
	case err != nil:
		return Order{}, fmt.Errorf("%w: %w", ErrInternal, err)
	}
	return o, nil
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
		r.index(ctx, p, o)
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
	case res == "created" && o.Status == StatusOpen:
		err = r.rdb.ZAdd(ctx, keyOpenOrders, redis.Z{Score: float64(o.CreatedAt.UnixMilli()), Member: o.OrderID}).Err()
	case res == "closed":
		err = r.rdb.ZRem(ctx, keyOpenOrders, o.OrderID).Err()
	}
	if err == nil && res != "kept" {
		_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			r.index(ctx, p, o)
			return nil
		})
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
	orders, err := r.getMany(ctx, keyOpenOrders, ids)
	if err != nil {
		return nil, fmt.Errorf("redis: read open orders: %w", err)
	}
	out := orders[:0]
	var closed []any
	for _, o := range orders {
		if o.Status == StatusOpen {
			out = append(out, o)
		} else {
			closed = append(closed, o.OrderID)
		}
	}
	if len(closed) > 0 {
		// Best effort: a failed trim only leaves work for the next reader.
		_ = r.rdb.ZRem(ctx, keyOpenOrders, closed...).Err()
	}
	return out, nil
}

func (r *redisOrders) Accept(ctx context.Context, orderID, driverID string) (Order, error) {
	token := changeToken()
	res, err := acceptScript.Run(ctx, r.rdb, []string{orderKey(orderID)}, driverID, token).StringSlice()
	if err != nil {
		return Order{}, &unsettled{op: "accept", orderID: orderID, actor: driverID, field: contract.OrderFieldAcceptedAt, token: token,
			err: fmt.Errorf("redis: accept order %s: %w", orderID, err)}
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
	// Only the winner gets here, so the index is trimmed once. The writes
	// are best effort, like every index: the hash is the truth.
	now := time.Now()
	_, _ = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, keyOpenOrders, orderID)
		p.Set(ctx, driverOrderKey(driverID), orderID, r.retention)
		r.ride(ctx, p, orderID, now)
		return nil
	})
	return orderFromPairs(res[1:])
}

// orderFromPairs reads an order from the field, value pairs a script
// returned.
func orderFromPairs(pairs []string) (Order, error) {
	h := make(map[string]string, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		h[pairs[i]] = pairs[i+1]
	}
	return orderFromHash(h)
}

// ride queues the writes that list orderID among the rides under way,
// accepted at, and trim rides older than the order retention.
func (r *redisOrders) ride(ctx context.Context, p redis.Pipeliner, orderID string, at time.Time) {
	p.ZAdd(ctx, keyRidingOrders, redis.Z{Score: float64(at.UnixMilli()), Member: orderID})
	p.ZRemRangeByScore(ctx, keyRidingOrders, "-inf", "("+strconv.FormatInt(at.Add(-r.retention).UnixMilli(), 10))
}

func (r *redisOrders) Complete(ctx context.Context, orderID, driverID string) (Order, error) {
	res, err := completeScript.Run(ctx, r.rdb, []string{orderKey(orderID)}, driverID, time.Now().UTC().Format(time.RFC3339Nano)).StringSlice()
	if err != nil {
		return Order{}, fmt.Errorf("redis: complete order %s: %w", orderID, err)
	}
	switch res[0] {
	case "ok":
		// Best effort, like every index.
		_ = r.rdb.ZRem(ctx, keyRidingOrders, orderID).Err()
		return orderFromPairs(res[1:])
	case "repeat":
		o, err := orderFromPairs(res[1:])
		if err != nil {
			return o, err
		}
		return o, errCompletedAlready
	case "not_found":
		return Order{}, ErrOrderNotFound
	case "not_driver":
		return Order{}, ErrNotAssignedDriver
	default:
		return Order{}, ErrOrderNotAccepted
	}
}

func (r *redisOrders) Riding(ctx context.Context) (int64, error) {
	n, err := r.rdb.ZCard(ctx, keyRidingOrders).Result()
	if err != nil {
		return 0, fmt.Errorf("redis: count rides: %w", err)
	}
	return n, nil
}

func (r *redisOrders) Cancel(ctx context.Context, orderID, userID string) (Order, error) {
	token := changeToken()
	res, err := cancelScript.Run(ctx, r.rdb, []string{orderKey(orderID)}, userID, token).Text()
	if err != nil {
		return Order{}, &unsettled{op: "cancel", orderID: orderID, actor: userID, field: contract.OrderFieldCancelledAt, token: token,
			err: fmt.Errorf("redis: cancel order %s: %w", orderID, err)}
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

// index queues the writes that list o among its rider's orders and, when it
// is accepted, name it its driver's order. The rider's index keeps ids for
// the retention after its newest order; entries older than the retention
// are trimmed here, and entries whose hash expired are trimmed by readers.
func (r *redisOrders) index(ctx context.Context, p redis.Pipeliner, o Order) {
	key := userOrdersKey(o.UserID)
	p.ZAdd(ctx, key, redis.Z{Score: float64(o.CreatedAt.UnixMilli()), Member: o.OrderID})
	p.ZRemRangeByScore(ctx, key, "-inf", "("+strconv.FormatInt(time.Now().Add(-r.retention).UnixMilli(), 10))
	p.Expire(ctx, key, r.retention)
	if o.Status == StatusAccepted && o.DriverID != "" {
		p.Set(ctx, driverOrderKey(o.DriverID), o.OrderID, r.retention)
		r.ride(ctx, p, o.OrderID, time.Now())
	}
	if o.Status == StatusCompleted {
		p.ZRem(ctx, keyRidingOrders, o.OrderID)
	}
}

// ByUser walks the rider's index newest first from the cursor and reads
// the orders behind it in one pipeline per batch.
func (r *redisOrders) ByUser(ctx context.Context, userID string, limit int, before string) ([]Order, string, error) {
	key, maxScore := userOrdersKey(userID), "+inf"
	var cur *listCursor
	if before != "" {
		c, err := parseCursor(before)
		if err != nil {
			return nil, "", fmt.Errorf("list orders of %s: %w", userID, err)
		}
		cur, maxScore = &c, strconv.FormatInt(c.ms, 10)
	}
	out := make([]Order, 0, limit)
	// seen guards against an order listed twice when a newer one shifts
	// the offsets between two batches.
	seen := make(map[string]bool)
	var offset int64
	for {
		// A few more than needed: entries at the cursor's own millisecond
		// and entries whose order expired are skipped.
		batch := int64(limit-len(out)) + 4
		zs, err := r.rdb.ZRevRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Min: "-inf", Max: maxScore, Offset: offset, Count: batch}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("redis: list orders of %s: %w", userID, err)
		}
		offset += int64(len(zs))
		ids := make([]string, 0, len(zs))
		for _, z := range zs {
			id, _ := z.Member.(string)
			if !seen[id] && (cur == nil || !cur.newerThan(int64(z.Score), id)) {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		orders, err := r.getMany(ctx, key, ids)
		if err != nil {
			return nil, "", fmt.Errorf("redis: list orders of %s: %w", userID, err)
		}
		for _, o := range orders {
			if len(out) == limit {
				return out, cursorOf(out[limit-1]).String(), nil
			}
			out = append(out, o)
		}
		if int64(len(zs)) < batch {
			return out, "", nil
		}
	}
}

// getMany reads the orders ids in one pipeline, in order, and trims from
// the index key the ids whose order expired. It returns nil for no ids.
func (r *redisOrders) getMany(ctx context.Context, index string, ids []string) ([]Order, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, orderKey(id))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([]Order, 0, len(ids))
	var stale []any
	for i, c := range cmds {
		o, err := orderFromHash(c.Val())
		if err != nil {
			stale = append(stale, ids[i])
			continue
		}
		out = append(out, o)
	}
	if len(stale) > 0 {
		// Best effort: a failed trim only leaves work for the next reader.
		_ = r.rdb.ZRem(ctx, index, stale...).Err()
	}
	return out, nil
}

func (r *redisOrders) DriverOrder(ctx context.Context, driverID string) (Order, error) {
	id, err := r.rdb.Get(ctx, driverOrderKey(driverID)).Result()
	if errors.Is(err, redis.Nil) {
		return Order{}, ErrOrderNotFound
	}
	if err != nil {
		return Order{}, fmt.Errorf("redis: order of driver %s: %w", driverID, err)
	}
	return r.Get(ctx, id)
}

// changeToken names one state-changing call: a time to the nanosecond and a
// random suffix, kept in the order hash by the script that applies it.
func changeToken() string {
	return time.Now().UTC().Format(time.RFC3339Nano) + "/" + newOrderID()[:8]
}

// appliedBy reports whether the order's field holds token: the call that
// sent it changed the order.
func (r *redisOrders) appliedBy(ctx context.Context, orderID, field, token string) (bool, error) {
	v, err := r.rdb.HGet(ctx, orderKey(orderID), field).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("redis: read %s of order %s: %w", field, orderID, err)
	}
	return v == token, nil
}
