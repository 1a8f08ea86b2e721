package server

import (
	"context"
	"sync"
	"time"
)

// memoryLocks is the LockStore of a single node.
type memoryLocks struct {
	mu    sync.Mutex
	locks map[string]memoryLock
	now   func() time.Time
}

type memoryLock struct {
	owner   string
	expires time.Time
}

var _ LockStore = (*memoryLocks)(nil)

func newMemoryLocks() *memoryLocks {
	return &memoryLocks{locks: make(map[string]memoryLock), now: time.Now}
}

func (m *memoryLocks) Acquire(_ context.Context, orderID, owner string, ttl time.Duration) (bool, string, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.locks[orderID]; ok && now.Before(l.expires) {
		return false, l.owner, nil
	}
	m.locks[orderID] = memoryLock{owner: owner, expires: now.Add(ttl)}
	return true, owner, nil
}

func (m *memoryLocks) Release(_ context.Context, orderID, owner string) (bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.locks[orderID]
	if !ok || l.owner != owner || !now.Before(l.expires) {
		return false, nil
	}
	delete(m.locks, orderID)
	return true, nil
}

func (m *memoryLocks) sweep() {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, l := range m.locks {
		if !now.Before(l.expires) {
			delete(m.locks, id)
		}
	}
}
