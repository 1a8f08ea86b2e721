package server

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// testOrderLists checks a rider's order list and a driver's current order;
// TestStores runs it against every OrderStore.
func testOrderLists(t *testing.T, s OrderStore) {
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	var want []string // u1's order ids, newest first
	for i := range 7 {
		o := testOrder(fmt.Sprintf("o%d", i), "u1")
		o.CreatedAt = base.Add(time.Duration(i) * time.Second)
		if i >= 5 {
			// Two orders in one millisecond: the id breaks the tie.
			o.CreatedAt = base.Add(5 * time.Second).Add(time.Duration(i) * time.Microsecond)
		}
		if err := s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		want = append([]string{o.OrderID}, want...)
	}
	for _, id := range []string{"x1", "x2"} {
		if err := s.Create(ctx, testOrder(id, "u2")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Accept(ctx, "o3", "d1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cancel(ctx, "o4", "u1"); err != nil {
		t.Fatal(err)
	}

	// Pages of 3: every order once, newest first, with its status.
	var got []string
	status := map[string]Status{}
	cursor := ""
	for page := 0; ; page++ {
		orders, next, err := s.ByUser(ctx, "u1", 3, cursor)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(orders) > 3 || page > 3 {
			t.Fatalf("page %d has %d orders", page, len(orders))
		}
		for _, o := range orders {
			if o.UserID != "u1" {
				t.Fatalf("u1's list holds %+v", o)
			}
			got = append(got, o.OrderID)
			status[o.OrderID] = o.Status
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("u1's orders %v, want %v", got, want)
	}
	if status["o3"] != StatusAccepted || status["o4"] != StatusCancelled || status["o0"] != StatusOpen {
		t.Fatalf("statuses %v", status)
	}
	if orders, next, err := s.ByUser(ctx, "u1", 7, ""); err != nil || len(orders) != 7 || next != "" {
		t.Fatalf("one page of exactly 7: %d orders, next %q, %v", len(orders), next, err)
	}
	if orders, next, err := s.ByUser(ctx, "u2", 10, ""); err != nil || len(orders) != 2 || next != "" {
		t.Fatalf("u2: %d orders, next %q, %v", len(orders), next, err)
	}
	if orders, next, err := s.ByUser(ctx, "nobody", 10, ""); err != nil || len(orders) != 0 || next != "" {
		t.Fatalf("a rider without orders: %v %q %v", orders, next, err)
	}
	for _, bad := range []string{"x", "12", "-o1", "12-", "12-a.b", "a-o1"} {
		if _, _, err := s.ByUser(ctx, "u1", 3, bad); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", bad, err)
		}
	}

	// The driver's current order is the one it accepted last.
	if _, err := s.DriverOrder(ctx, "d9"); !errors.Is(err, ErrOrderNotFound) {
		t.Fatalf("driver without an order: %v", err)
	}
	if o, err := s.DriverOrder(ctx, "d1"); err != nil || o.OrderID != "o3" || o.Status != StatusAccepted {
		t.Fatalf("d1's order: %+v %v", o, err)
	}
	if _, err := s.Accept(ctx, "o0", "d1"); err != nil {
		t.Fatal(err)
	}
	if o, err := s.DriverOrder(ctx, "d1"); err != nil || o.OrderID != "o0" {
		t.Fatalf("d1's order after a second accept: %+v %v", o, err)
	}
}

func TestMemorySweepForgetsListedOrders(t *testing.T) {
	ctx := context.Background()
	m := newMemoryOrders(time.Hour)
	old := testOrder("old", "u1")
	old.CreatedAt = time.Now().Add(-2 * time.Hour)
	for _, o := range []Order{old, testOrder("new", "u1")} {
		if err := m.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Accept(ctx, "old", "d1"); err != nil {
		t.Fatal(err)
	}
	m.sweep()
	if list, _, _ := m.ByUser(ctx, "u1", 10, ""); len(list) != 1 || list[0].OrderID != "new" {
		t.Fatalf("list after sweep: %+v", list)
	}
	if _, err := m.DriverOrder(ctx, "d1"); !errors.Is(err, ErrOrderNotFound) {
		t.Fatalf("driver's swept order: %v", err)
	}
	if len(m.byUser) != 1 || len(m.byDriver) != 0 {
		t.Fatalf("indexes keep swept orders: %v %v", m.byUser, m.byDriver)
	}
}
