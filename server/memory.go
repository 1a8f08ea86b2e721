package server

import (
	"context"
	"sort"
	"sync"
	"time"
)

// memoryOrders is the OrderStore of a single node.
type memoryOrders struct {
	mu     sync.Mutex
	orders map[string]*Order
	// retention is how long a closed order stays readable; open orders are
	// kept that long after creation too, as Redis keeps them.
	retention time.Duration
	now       func() time.Time
}

var _ OrderStore = (*memoryOrders)(nil)

func newMemoryOrders(retention time.Duration) *memoryOrders {
	return &memoryOrders{orders: make(map[string]*Order), retention: retention, now: time.Now}
}

func (m *memoryOrders) Create(_ context.Context, o Order) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := o
	m.orders[o.OrderID] = &cp
	return nil
}

func (m *memoryOrders) Get(_ context.Context, orderID string) (Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[orderID]
	if !ok {
		return Order{}, ErrOrderNotFound
	}
	return *o, nil
}

func (m *memoryOrders) Open(_ context.Context) ([]Order, error) {
	m.mu.Lock()
	out := make([]Order, 0, 16)
	for _, o := range m.orders {
		if o.Status == StatusOpen {
			out = append(out, *o)
		}
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].OrderID < out[j].OrderID
		}
		return out[i].CreatedAt.Before(out[j].CreatedAt)
	})
	return out, nil
}

func (m *memoryOrders) Accept(_ context.Context, orderID, driverID string) (Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[orderID]
	if !ok {
		return Order{}, ErrOrderNotFound
	}
	switch o.Status {
	case StatusAccepted:
		return *o, ErrOrderTaken
	case StatusCancelled:
		return *o, ErrOrderNotOpen
	}
	o.Status = StatusAccepted
	o.DriverID = driverID
	return *o, nil
}

func (m *memoryOrders) Cancel(_ context.Context, orderID, userID string) (Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[orderID]
	if !ok {
		return Order{}, ErrOrderNotFound
	}
	if o.UserID != userID {
		return Order{}, ErrNotOrderOwner
	}
	if o.Status != StatusOpen {
		return *o, ErrOrderNotOpen
	}
	o.Status = StatusCancelled
	return *o, nil
}

// sweep forgets orders past their retention.
func (m *memoryOrders) sweep() {
	cutoff := m.now().Add(-m.retention)
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, o := range m.orders {
		if o.CreatedAt.Before(cutoff) {
			delete(m.orders, id)
		}
	}
}

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

// memoryBroker hands every frame straight to this node: with one node there
// is nobody else to tell.
type memoryBroker struct {
	deliver deliverFunc
}

var _ Broker = (*memoryBroker)(nil)

func (b *memoryBroker) Publish(_ context.Context, ch Channel, frame []byte) error {
	b.deliver(ch, frame)
	return nil
}

// all returns every order the store holds, whatever its status.
func (m *memoryOrders) all() []Order {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Order, 0, len(m.orders))
	for _, o := range m.orders {
		out = append(out, *o)
	}
	return out
}
