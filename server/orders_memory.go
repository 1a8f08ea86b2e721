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

func (m *memoryOrders) ByUser(_ context.Context, userID string, limit int, before string) ([]Order, string, error) {
	m.mu.Lock()
	var all []Order
	for _, o := range m.orders {
		if o.UserID == userID {
			all = append(all, *o)
		}
	}
	m.mu.Unlock()
	sort.Slice(all, func(i, j int) bool {
		if all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].OrderID > all[j].OrderID
		}
		return all[i].CreatedAt.After(all[j].CreatedAt)
	})
	if before != "" {
		for i, o := range all {
			if o.OrderID == before {
				all = all[i+1:]
				break
			}
		}
	}
	return page(all, limit)
}

// page cuts orders to limit and names the cursor of the next page.
func page(orders []Order, limit int) ([]Order, string, error) {
	if len(orders) <= limit {
		return orders, "", nil
	}
	return orders[:limit], orders[limit-1].OrderID, nil
}
