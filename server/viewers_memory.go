package server

import (
	"context"
	"sync"
	"time"
)

// memoryViewers is the ViewerStore of a single node.
type memoryViewers struct {
	mu   sync.Mutex
	sets map[string]*viewerSet
	now  func() time.Time
}

type viewerSet struct {
	drivers map[string]struct{}
	expires time.Time
}

var _ ViewerStore = (*memoryViewers)(nil)

func newMemoryViewers() *memoryViewers {
	return &memoryViewers{sets: make(map[string]*viewerSet), now: time.Now}
}

// live returns the order's set, dropping it when it has expired.
func (m *memoryViewers) live(orderID string, now time.Time) *viewerSet {
	s, ok := m.sets[orderID]
	if ok && !now.Before(s.expires) {
		delete(m.sets, orderID)
		return nil
	}
	return s
}

func (m *memoryViewers) View(_ context.Context, orderID, driverID string, ttl time.Duration) (int, bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.live(orderID, now)
	if s == nil {
		s = &viewerSet{drivers: make(map[string]struct{})}
		m.sets[orderID] = s
	}
	s.expires = now.Add(ttl)
	_, was := s.drivers[driverID]
	s.drivers[driverID] = struct{}{}
	return len(s.drivers), !was, nil
}

func (m *memoryViewers) Unview(_ context.Context, orderID, driverID string) (int, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.live(orderID, m.now())
	if s == nil {
		return 0, false, nil
	}
	_, was := s.drivers[driverID]
	delete(s.drivers, driverID)
	n := len(s.drivers)
	if n == 0 {
		delete(m.sets, orderID)
	}
	return n, was, nil
}

func (m *memoryViewers) Count(_ context.Context, orderID string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.live(orderID, m.now())
	if s == nil {
		return 0, nil
	}
	return len(s.drivers), nil
}

func (m *memoryViewers) sweep() {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range m.sets {
		m.live(id, now)
	}
}

func (m *memoryViewers) Clear(_ context.Context, orderID string) error {
	m.mu.Lock()
	delete(m.sets, orderID)
	m.mu.Unlock()
	return nil
}
