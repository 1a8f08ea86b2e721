package server

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sync"
	"time"
)

// memoryLocations is the LocationStore of a single node. Nearby scans every
// position, ruling most out with a bounding box before it measures.
type memoryLocations struct {
	mu  sync.Mutex
	pos map[string]memoryPosition
	// tracked holds, per order, when Track may next say true.
	tracked map[string]time.Time
}

type memoryPosition struct {
	p  Point
	at time.Time
}

var _ LocationStore = (*memoryLocations)(nil)

func newMemoryLocations() *memoryLocations {
	return &memoryLocations{pos: make(map[string]memoryPosition), tracked: make(map[string]time.Time)}
}

func (m *memoryLocations) Update(_ context.Context, driverID string, p Point, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Milliseconds, as Redis keeps them.
	m.pos[driverID] = memoryPosition{p: p, at: time.UnixMilli(at.UnixMilli()).UTC()}
	return nil
}

func (m *memoryLocations) Nearby(_ context.Context, p Point, radiusM float64, limit int, since time.Time) ([]NearbyDriver, error) {
	dLat, dLng := boundingBox(p, radiusM)
	var out []NearbyDriver
	m.mu.Lock()
	for id, q := range m.pos {
		if q.at.Before(since) || math.Abs(q.p.Lat-p.Lat) > dLat || lngDelta(q.p.Lng, p.Lng) > dLng {
			continue
		}
		if d := distanceM(p, q.p); d <= radiusM {
			out = append(out, NearbyDriver{DriverID: id, Lat: q.p.Lat, Lng: q.p.Lng, DistanceM: d, UpdatedAt: q.at})
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b NearbyDriver) int {
		return cmp.Or(cmp.Compare(a.DistanceM, b.DistanceM), cmp.Compare(a.DriverID, b.DriverID))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memoryLocations) Trim(_ context.Context, cutoff time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, q := range m.pos {
		if q.at.Before(cutoff) {
			delete(m.pos, id)
			n++
		}
	}
	now := time.Now()
	for id, next := range m.tracked {
		if next.Before(now) {
			delete(m.tracked, id)
		}
	}
	return n, nil
}

func (m *memoryLocations) Track(_ context.Context, orderID string, every time.Duration) (bool, error) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if next, ok := m.tracked[orderID]; ok && now.Before(next) {
		return false, nil
	}
	m.tracked[orderID] = now.Add(every)
	return true, nil
}

func (m *memoryLocations) Count(_ context.Context, since time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, q := range m.pos {
		if !q.at.Before(since) {
			n++
		}
	}
	return n, nil
}
