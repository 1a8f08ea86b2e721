package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisLocations keeps positions in the GEO set driver_locations and their
// report times in the sorted set {driver_locations}:updated, written and
// trimmed together by scripts (locate.lua, trim_locations.lua). Nearby is
// GEOSEARCH filtered by report time (nearby.lua): its cost follows the
// drivers within the radius, not the fleet.
type redisLocations struct {
	rdb redis.UniversalClient
}

var _ LocationStore = (*redisLocations)(nil)

// locationKeys are the keys every location script takes.
var locationKeys = []string{keyDriverLocations, keyDriverLocationTimes}

// trimBatch is how many positions one run of trim_locations.lua forgets at
// most, so that no run holds Redis for long.
const trimBatch = 1000

func (r *redisLocations) Update(ctx context.Context, driverID string, p Point, at time.Time) error {
	err := locateScript.Run(ctx, r.rdb, locationKeys, driverID, p.Lng, p.Lat, at.UnixMilli()).Err()
	if err != nil {
		return fmt.Errorf("redis: record position of %s: %w", driverID, err)
	}
	return nil
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
