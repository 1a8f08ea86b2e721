package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/redistest"
)

// backendFactory builds a fresh, empty backend. The same suite runs against
// every implementation, so memory mode and Redis mode cannot drift apart.
type backendFactory func(t *testing.T) *backend

func backendFactories() map[string]backendFactory {
	return map[string]backendFactory{
		"memory": func(t *testing.T) *backend {
			cfg := Config{}.withDefaults()
			return newMemoryBackend(&cfg, func(Event) {})
		},
		"redis": func(t *testing.T) *backend {
			srv := redistest.Start(t)
			cfg := Config{NodeID: "suite"}.withDefaults()
			rdb := srv.Client(t)
			return newRedisBackend(&cfg, rdb, newRedisBroker(&cfg, rdb, false, func(Event) {}))
		},
	}
}

func testOrder(id, user string) Order {
	return Order{OrderID: id, UserID: user, Status: StatusOpen, Pickup: Point{Lat: 1.5, Lng: 2.25}, Dropoff: Point{Lat: -3, Lng: 4}, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
}

func TestStores(t *testing.T) {
	for name, factory := range backendFactories() {
		t.Run(name, func(t *testing.T) {
			t.Run("orders", func(t *testing.T) { testOrderStore(t, factory(t).orders) })
			t.Run("order lists", func(t *testing.T) { testOrderLists(t, factory(t).orders) })
			t.Run("idempotency", func(t *testing.T) { testIdempotencyStore(t, factory(t).idempotency) })
			t.Run("locks", func(t *testing.T) { testLockStore(t, factory(t).locks) })
			t.Run("viewers", func(t *testing.T) { testViewerStore(t, factory(t).viewers) })
			t.Run("presence", func(t *testing.T) { testPresence(t, factory(t).presence) })
			t.Run("locations", func(t *testing.T) { testLocationStore(t, factory(t).locations) })
			t.Run("order dispatch", func(t *testing.T) { testOrderDispatch(t, factory(t).orders) })
		})
	}
}

func testOrderStore(t *testing.T, s OrderStore) {
	ctx := context.Background()
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, ErrOrderNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	a, b := testOrder("a", "u1"), testOrder("b", "u2")
	b.CreatedAt = a.CreatedAt.Add(time.Millisecond)
	for _, o := range []Order{a, b} {
		if err := s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx, "a")
	if err != nil || got.UserID != "u1" || got.Pickup != a.Pickup || got.Dropoff != a.Dropoff || !got.CreatedAt.Equal(a.CreatedAt) || got.Status != StatusOpen {
		t.Fatalf("Get a = %+v, %v; want %+v", got, err, a)
	}
	open, err := s.Open(ctx)
	if err != nil || len(open) != 2 || open[0].OrderID != "a" || open[1].OrderID != "b" {
		t.Fatalf("Open = %+v, %v", open, err)
	}

	// 50 concurrent accepts: exactly one wins, the others are told who did.
	var wins atomic.Int64
	var winner atomic.Value
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := fmt.Sprintf("d%d", i)
			o, err := s.Accept(ctx, "a", d)
			switch {
			case err == nil:
				wins.Add(1)
				winner.Store(d)
				if o.DriverID != d || o.Status != StatusAccepted {
					t.Errorf("winner got %+v", o)
				}
			case errors.Is(err, ErrOrderTaken):
			default:
				t.Errorf("accept: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d winners", wins.Load())
	}
	got, _ = s.Get(ctx, "a")
	if got.DriverID != winner.Load() {
		t.Fatalf("stored driver %q, winner %q", got.DriverID, winner.Load())
	}
	if _, err := s.Accept(ctx, "missing", "d1"); !errors.Is(err, ErrOrderNotFound) {
		t.Fatalf("accept missing: %v", err)
	}

	if _, err := s.Cancel(ctx, "b", "u1"); !errors.Is(err, ErrNotOrderOwner) {
		t.Fatalf("cancel by another rider: %v", err)
	}
	if _, err := s.Cancel(ctx, "a", "u1"); !errors.Is(err, ErrOrderNotOpen) {
		t.Fatalf("cancel accepted: %v", err)
	}
	if o, err := s.Cancel(ctx, "b", "u2"); err != nil || o.Status != StatusCancelled {
		t.Fatalf("cancel: %+v %v", o, err)
	}
	if _, err := s.Accept(ctx, "b", "d1"); !errors.Is(err, ErrOrderNotOpen) {
		t.Fatalf("accept cancelled: %v", err)
	}
	if open, _ := s.Open(ctx); len(open) != 0 {
		t.Fatalf("open after accept and cancel: %+v", open)
	}
}

func testLockStore(t *testing.T, s LockStore) {
	ctx := context.Background()
	ok, _, err := s.Acquire(ctx, "o1", "d1", time.Second)
	if err != nil || !ok {
		t.Fatalf("first acquire: %v %v", ok, err)
	}
	ok, holder, err := s.Acquire(ctx, "o1", "d2", time.Second)
	if err != nil || ok || holder != "d1" {
		t.Fatalf("second acquire: ok=%v holder=%q err=%v", ok, holder, err)
	}
	if ok, _ := s.Release(ctx, "o1", "d2"); ok {
		t.Fatal("non-owner released")
	}
	if ok, _ := s.Release(ctx, "o1", "d1"); !ok {
		t.Fatal("owner could not release")
	}
	if ok, _, _ := s.Acquire(ctx, "o1", "d2", time.Second); !ok {
		t.Fatal("acquire after release failed")
	}
	// The lock frees itself when it expires.
	checkFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		if ok, _, _ := s.Acquire(ctx, "o1", "d3", time.Second); !ok {
			return errors.New("lock not expired yet")
		}
		return nil
	})
}

func testViewerStore(t *testing.T, s ViewerStore) {
	ctx := context.Background()
	n, changed, err := s.View(ctx, "o1", "d1", time.Minute)
	if err != nil || n != 1 || !changed {
		t.Fatalf("view: %d %v %v", n, changed, err)
	}
	if n, changed, _ = s.View(ctx, "o1", "d1", time.Minute); n != 1 || changed {
		t.Fatalf("repeat view: %d %v", n, changed)
	}
	if n, changed, _ = s.View(ctx, "o1", "d2", time.Minute); n != 2 || !changed {
		t.Fatalf("second viewer: %d %v", n, changed)
	}
	if n, changed, _ = s.Unview(ctx, "o1", "d1"); n != 1 || !changed {
		t.Fatalf("unview: %d %v", n, changed)
	}
	if _, changed, _ = s.Unview(ctx, "o1", "d9"); changed {
		t.Fatal("unview of a non-viewer changed the set")
	}
	if n, _ := s.Count(ctx, "o1"); n != 1 {
		t.Fatalf("count %d", n)
	}
	// The set expires as a whole after its TTL.
	if _, _, err := s.View(ctx, "o2", "d1", time.Second); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		if n, _ := s.Count(ctx, "o2"); n != 0 {
			return fmt.Errorf("%d viewers after expiry", n)
		}
		return nil
	})
}

func testPresence(t *testing.T, p Presence) {
	ctx := context.Background()
	for _, id := range []string{"d1", "d2"} {
		if err := p.Join(ctx, RoleDriver, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Join(ctx, RoleUser, "u1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := p.Count(ctx, RoleDriver); n != 2 {
		t.Fatalf("drivers %d", n)
	}
	if err := p.Leave(ctx, RoleDriver, "d1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := p.Count(ctx, RoleDriver); n != 1 {
		t.Fatalf("drivers after leave %d", n)
	}
	if n, _ := p.Count(ctx, RoleUser); n != 1 {
		t.Fatalf("users %d", n)
	}
}

func TestRestoreNeverUndoesRedis(t *testing.T) {
	srv := redistest.Start(t)
	cfg := Config{NodeID: "restore"}.withDefaults()
	b := newRedisBackend(&cfg, srv.Client(t), nil)
	r := b.orders.(*redisOrders)
	ctx := context.Background()

	// Absent: written whole and indexed as open.
	o := testOrder("r1", "u1")
	if err := r.restore(ctx, o); err != nil {
		t.Fatal(err)
	}
	if open, _ := r.Open(ctx); len(open) != 1 {
		t.Fatalf("open after restore: %+v", open)
	}
	// Redis accepted it since; an outage copy still open must not reopen it.
	if _, err := r.Accept(ctx, "r1", "d-redis"); err != nil {
		t.Fatal(err)
	}
	if err := r.restore(ctx, o); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Get(ctx, "r1"); got.Status != StatusAccepted || got.DriverID != "d-redis" {
		t.Fatalf("restore undid Redis's accept: %+v", got)
	}
	// Open in Redis, accepted during the outage: the outage's state wins.
	o2 := testOrder("r2", "u1")
	_ = r.Create(ctx, o2)
	o2.Status, o2.DriverID = StatusAccepted, "d-outage"
	if err := r.restore(ctx, o2); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Get(ctx, "r2"); got.Status != StatusAccepted || got.DriverID != "d-outage" {
		t.Fatalf("outage accept not written back: %+v", got)
	}
	if open, _ := r.Open(ctx); len(open) != 0 {
		t.Fatalf("closed orders still indexed: %+v", open)
	}
	// The rider's list and the driver's current order know what came back.
	if got, err := r.DriverOrder(ctx, "d-outage"); err != nil || got.OrderID != "r2" {
		t.Fatalf("driver's order after restore: %+v %v", got, err)
	}
	if list, _, err := r.ByUser(ctx, "u1", 10, ""); err != nil || len(list) != 2 {
		t.Fatalf("rider's list after restore: %+v %v", list, err)
	}
}
