package server

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// memoryOrders is the OrderStore of a single node.
type memoryOrders struct {
	mu     sync.Mutex
	orders map[string]*Order
	// byUser indexes each rider's order ids; byDriver holds the id of the
	// order each driver accepted last.
	byUser   map[string]map[string]struct{}
	byDriver map[string]string
	// retention is how long a closed order stays readable; open orders are
	// kept that long after creation too, as Redis keeps them.
	retention time.Duration
	now       func() time.Time
}

var _ OrderStore = (*memoryOrders)(nil)

func newMemoryOrders(retention time.Duration) *memoryOrders {
	return &memoryOrders{
		orders:    make(map[string]*Order),
		byUser:    make(map[string]map[string]struct{}),
		byDriver:  make(map[string]string),
		retention: retention,
		now:       time.Now,
	}
}

func (m *memoryOrders) Create(_ context.Context, o Order) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := o
	m.orders[o.OrderID] = &cp
	m.index(&cp)
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
	case StatusAccepted, StatusCompleted:
		return *o, ErrOrderTaken
	case StatusCancelled:
		return *o, ErrOrderNotOpen
	}
	o.Status = StatusAccepted
	o.DriverID = driverID
	m.byDriver[driverID] = orderID
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

func (m *memoryOrders) Complete(_ context.Context, orderID, driverID string) (Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[orderID]
	switch {
	case !ok:
		return Order{}, ErrOrderNotFound
	case o.Status != StatusAccepted && o.Status != StatusCompleted:
		return *o, ErrOrderNotAccepted
	case o.DriverID != driverID:
		return Order{}, ErrNotAssignedDriver
	case o.Status == StatusCompleted:
		return *o, errCompletedAlready
	}
	o.Status = StatusCompleted
	return *o, nil
}

func (m *memoryOrders) Riding(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, o := range m.orders {
		if o.Status == StatusAccepted {
			n++
		}
	}
	return n, nil
}

// sweep forgets orders past their retention.
func (m *memoryOrders) sweep() {
	cutoff := m.now().Add(-m.retention)
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, o := range m.orders {
		if o.CreatedAt.Before(cutoff) {
			delete(m.orders, id)
			m.unindex(o)
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

// index records a stored order in its rider's index and, when it comes
// accepted (written back after an outage), as its driver's order unless the
// driver has a newer one. The caller holds m.mu.
func (m *memoryOrders) index(o *Order) {
	ids := m.byUser[o.UserID]
	if ids == nil {
		ids = make(map[string]struct{})
		m.byUser[o.UserID] = ids
	}
	ids[o.OrderID] = struct{}{}
	if o.Status == StatusAccepted && o.DriverID != "" {
		if cur, ok := m.orders[m.byDriver[o.DriverID]]; !ok || newestFirst(*o, *cur) <= 0 {
			m.byDriver[o.DriverID] = o.OrderID
		}
	}
}

// unindex forgets o, which sweep removed. The caller holds m.mu.
func (m *memoryOrders) unindex(o *Order) {
	if ids := m.byUser[o.UserID]; ids != nil {
		delete(ids, o.OrderID)
		if len(ids) == 0 {
			delete(m.byUser, o.UserID)
		}
	}
	if m.byDriver[o.DriverID] == o.OrderID {
		delete(m.byDriver, o.DriverID)
	}
}

func (m *memoryOrders) ByUser(_ context.Context, userID string, limit int, before string) ([]Order, string, error) {
	var cur *listCursor
	if before != "" {
		c, err := parseCursor(before)
		if err != nil {
			return nil, "", fmt.Errorf("list orders of %s: %w", userID, err)
		}
		cur = &c
	}
	m.mu.Lock()
	page := make([]Order, 0, len(m.byUser[userID]))
	for id := range m.byUser[userID] {
		o := m.orders[id]
		if cur == nil || !cur.newerThan(o.CreatedAt.UnixMilli(), o.OrderID) {
			page = append(page, *o)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(page, newestFirst)
	if len(page) <= limit {
		return page, "", nil
	}
	page = page[:limit]
	return page, cursorOf(page[limit-1]).String(), nil
}

func (m *memoryOrders) DriverOrder(_ context.Context, driverID string) (Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[m.byDriver[driverID]]
	if !ok {
		return Order{}, ErrOrderNotFound
	}
	return *o, nil
}
