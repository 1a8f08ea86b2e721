package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisLocations keeps positions in the GEO set driver_locations and their
// report times in the sorted set {driver_locations}:updated, written and
// trimmed together by scripts (locate.lua, trim_locations.lua). Nearby is
// GEOSEARCH filtered by report time (nearby.lua): its cost follows the
// drivers within the radius, not the fleet.
//
// Positions arrive by thousands a second; Update writes them in batches
// (see positionBatch), so that a node spends one round trip, and one pooled
// connection, on every position that arrived while the previous write ran.
type redisLocations struct {
	rdb   redis.UniversalClient
	batch positionBatch
}

var _ LocationStore = (*redisLocations)(nil)

// locationKeys are the keys every location script takes.
var locationKeys = []string{keyDriverLocations, keyDriverLocationTimes}

// trimBatch is how many positions one run of trim_locations.lua forgets at
// most, so that no run holds Redis for long.
const trimBatch = 1000

func (r *redisLocations) Update(ctx context.Context, driverID string, p Point, at time.Time) error {
	if err := r.batch.write(ctx, r.rdb, positionWrite{driverID: driverID, p: p, at: at}); err != nil {
		return fmt.Errorf("redis: record position of %s: %w", driverID, err)
	}
	return nil
}

// maxPositionBatch bounds the positions of one locate.lua run: Lua's stack
// bounds the arguments of one call.
const maxPositionBatch = 1000

// positionWrite is one position waiting to be written, and where its
// outcome goes.
type positionWrite struct {
	driverID string
	p        Point
	at       time.Time
	done     chan error
}

// positionBatch writes positions in groups, without a goroutine of its own:
// the first writer to find no write in progress becomes the flusher and
// writes what has queued, again and again, until the queue is empty;
// writers that arrive meanwhile queue and wait for their outcome. Under low
// load every position is written at once; under high load each round trip
// carries every position that arrived during the previous one.
type positionBatch struct {
	mu       sync.Mutex
	queue    []positionWrite
	flushing bool
}

// write queues w and returns its outcome, or ctx's error when ctx ends
// first (the position may still be written).
func (b *positionBatch) write(ctx context.Context, rdb redis.UniversalClient, w positionWrite) error {
	w.done = make(chan error, 1)
	b.mu.Lock()
	b.queue = append(b.queue, w)
	if !b.flushing {
		b.flushing = true
		b.flush(ctx, rdb) // returns with b.mu unlocked
	} else {
		b.mu.Unlock()
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush writes the queue until it is empty. It is called with b.mu held
// and returns with it released. Each write is bounded by ctx's deadline but
// not by its cancellation: it serves other callers too.
func (b *positionBatch) flush(ctx context.Context, rdb redis.UniversalClient) {
	wctx := context.WithoutCancel(ctx)
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(wctx, d)
		defer cancel()
	}
	for len(b.queue) > 0 {
		n := min(len(b.queue), maxPositionBatch)
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()
		args := make([]any, 0, 4*len(batch))
		for _, w := range batch {
			args = append(args, w.driverID, w.p.Lng, w.p.Lat, w.at.UnixMilli())
		}
		err := locateScript.Run(wctx, rdb, locationKeys, args...).Err()
		for _, w := range batch {
			w.done <- err
		}
		b.mu.Lock()
	}
	b.queue = nil
	b.flushing = false
	b.mu.Unlock()
}

func (r *redisLocations) Nearby(ctx context.Context, p Point, radiusM float64, limit int, since time.Time) ([]NearbyDriver, error) {
	raw, err := nearbyScript.Run(ctx, r.rdb, locationKeys, p.Lng, p.Lat, radiusM, since.UnixMilli(), max(limit, 0)).Slice()
	if err != nil {
		return nil, fmt.Errorf("redis: drivers near %v: %w", p, err)
	}
	out := make([]NearbyDriver, 0, len(raw))
	for _, row := range raw {
		d, err := nearbyFromRow(row)
		if err != nil {
			return nil, fmt.Errorf("redis: drivers near %v: %w: %w", p, ErrInternal, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// nearbyFromRow reads one row of nearby.lua: id, distance, lng, lat and
// report time, as strings.
func nearbyFromRow(row any) (NearbyDriver, error) {
	f, ok := row.([]any)
	if !ok || len(f) != 5 {
		return NearbyDriver{}, fmt.Errorf("nearby row %v", row)
	}
	var s [5]string
	for i := range s {
		if s[i], ok = f[i].(string); !ok {
			return NearbyDriver{}, fmt.Errorf("nearby row %v", row)
		}
	}
	var nums [4]float64
	for i := range nums {
		v, err := strconv.ParseFloat(s[i+1], 64)
		if err != nil {
			return NearbyDriver{}, fmt.Errorf("nearby row %v: %w", row, err)
		}
		nums[i] = v
	}
	return NearbyDriver{DriverID: s[0], DistanceM: nums[0], Lng: nums[1], Lat: nums[2],
		UpdatedAt: time.UnixMilli(int64(nums[3])).UTC()}, nil
}

func (r *redisLocations) Trim(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		n, err := trimLocationsScript.Run(ctx, r.rdb, locationKeys, cutoff.UnixMilli(), trimBatch).Int()
		total += n
		if err != nil {
			return total, fmt.Errorf("redis: trim positions: %w", err)
		}
		if n < trimBatch {
			return total, nil
		}
	}
}

func (r *redisLocations) Count(ctx context.Context, since time.Time) (int64, error) {
	n, err := r.rdb.ZCount(ctx, keyDriverLocationTimes, strconv.FormatInt(since.UnixMilli(), 10), "+inf").Result()
	if err != nil {
		return 0, fmt.Errorf("redis: count positions: %w", err)
	}
	return n, nil
}

func (r *redisLocations) Track(ctx context.Context, orderID string, every time.Duration) (bool, error) {
	err := r.rdb.SetArgs(ctx, trackingKey(orderID), "1", redis.SetArgs{Mode: "NX", TTL: every}).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("redis: tracking gate of %s: %w", orderID, err)
	}
	return true, nil
}
