package server

import (
	"context"
	"sync"
)

// memoryPresence is the Presence of a single node: the hub already counts
// connections per id, so a set per role is enough.
type memoryPresence struct {
	mu  sync.Mutex
	ids map[Role]map[string]struct{}
}

var _ Presence = (*memoryPresence)(nil)

func newMemoryPresence() *memoryPresence {
	return &memoryPresence{ids: map[Role]map[string]struct{}{
		RoleDriver: {},
		RoleUser:   {},
	}}
}

func (m *memoryPresence) Join(_ context.Context, role Role, id string) error {
	m.mu.Lock()
	m.ids[role][id] = struct{}{}
	m.mu.Unlock()
	return nil
}

func (m *memoryPresence) Leave(_ context.Context, role Role, id string) error {
	m.mu.Lock()
	delete(m.ids[role], id)
	m.mu.Unlock()
	return nil
}

func (m *memoryPresence) Count(_ context.Context, role Role) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.ids[role])), nil
}
