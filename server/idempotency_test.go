package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/redistest"
)

// testIdempotencyStore checks an IdempotencyStore; TestStores runs it
// against every implementation.
func testIdempotencyStore(t *testing.T, s IdempotencyStore) {
	ctx := context.Background()
	claim := IdempotencyRecord{Hash: "h1", Claim: "c1"}
	if held, ok, err := s.Claim(ctx, "u1", "k", claim, time.Minute); err != nil || !ok || held.Claim != "c1" {
		t.Fatalf("first claim: %+v %v %v", held, ok, err)
	}
	other := IdempotencyRecord{Hash: "h2", Claim: "c2"}
	if held, ok, err := s.Claim(ctx, "u1", "k", other, time.Minute); err != nil || ok || held.Hash != "h1" || held.Response != nil {
		t.Fatalf("second claim: %+v %v %v, want the pending h1", held, ok, err)
	}
	// Keys are per rider.
	if _, ok, err := s.Claim(ctx, "u2", "k", other, time.Minute); err != nil || !ok {
		t.Fatalf("another rider's key: %v %v", ok, err)
	}
	// Only the claim's holder settles it.
	done := IdempotencyRecord{Hash: "h1", OrderID: "o1", Response: []byte(`{"order_id":"o1"}`)}
	if err := s.Settle(ctx, "u1", "k", other, &done, time.Hour); err != nil {
		t.Fatal(err)
	}
	if held, _, _ := s.Claim(ctx, "u1", "k", other, time.Minute); held.Response != nil {
		t.Fatalf("settled by a stranger: %+v", held)
	}
	if err := s.Settle(ctx, "u1", "k", claim, &done, time.Hour); err != nil {
		t.Fatal(err)
	}
	held, ok, err := s.Claim(ctx, "u1", "k", other, time.Minute)
	if err != nil || ok || held.OrderID != "o1" || !bytes.Equal(held.Response, done.Response) {
		t.Fatalf("after settling: %+v %v %v", held, ok, err)
	}
	// A failed request frees its key.
	if _, ok, _ := s.Claim(ctx, "u1", "k2", claim, time.Minute); !ok {
		t.Fatal("claim k2")
	}
	if err := s.Settle(ctx, "u1", "k2", claim, nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Claim(ctx, "u1", "k2", other, time.Minute); !ok {
		t.Fatal("k2 still taken after its claim was freed")
	}
	// A claim expires by itself.
	if _, ok, _ := s.Claim(ctx, "u1", "k3", claim, time.Second); !ok {
		t.Fatal("claim k3")
	}
	checkFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		if _, ok, _ := s.Claim(ctx, "u1", "k3", other, time.Minute); !ok {
			return errors.New("claim not expired yet")
		}
		return nil
	})
}

// postOrder sends POST /orders with an Idempotency-Key and returns the
// status, the raw body and the response headers.
func postOrder(t *testing.T, url, key, body string) (int, []byte, http.Header) {
	t.Helper()
	resp, raw := send(t, "POST", url+"/orders", body, "Idempotency-Key", key)
	return resp.StatusCode, raw, resp.Header
}

const u1Order = `{"user_id":"u1","pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4}}`

func TestIdempotentCreate(t *testing.T) {
	h := startHub(t, Config{})
	d := mustDial(t, h.wsURL("/ws/driver/d1"))
	d.next(t, TypeConnected, nil)

	code, first, hdr := postOrder(t, h.URL, "key-1", u1Order)
	if code != http.StatusCreated || hdr.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first create: %d %s %v", code, first, hdr)
	}
	// The same request again, formatted differently: the same 201 and body.
	code, again, hdr := postOrder(t, h.URL, "key-1", `{ "dropoff":{"lng":4,"lat":3}, "pickup":{"lat":1.0,"lng":2}, "user_id":"u1" }`)
	if code != http.StatusCreated || !bytes.Equal(first, again) || hdr.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s %v, want 201 %s", code, again, hdr, first)
	}
	// Another request with the key is refused; other keys and other riders
	// are not affected.
	code, raw, _ := postOrder(t, h.URL, "key-1", `{"user_id":"u1","pickup":{"lat":1,"lng":2},"dropoff":{"lat":5,"lng":4}}`)
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), `"idempotency_key_reused"`) {
		t.Fatalf("key reused for another order: %d %s", code, raw)
	}
	if code, raw, _ = postOrder(t, h.URL, "key-1", strings.Replace(u1Order, "u1", "u2", 1)); code != http.StatusCreated || bytes.Equal(raw, first) {
		t.Fatalf("another rider's key-1: %d %s", code, raw)
	}
	for _, bad := range []string{"", "has space", strings.Repeat("k", 256), "é"} {
		if code, raw, _ := postOrder(t, h.URL, bad, u1Order); code != http.StatusBadRequest || !strings.Contains(string(raw), "invalid_idempotency_key") {
			t.Errorf("key %q: %d %s", bad, code, raw)
		}
	}

	// The driver saw one new_order for key-1, then u2's: never a second.
	var o Order
	d.next(t, TypeNewOrder, &o)
	if !strings.Contains(string(first), o.OrderID) {
		t.Fatalf("first new_order %s is not the created order", o.OrderID)
	}
	d.next(t, TypeNewOrder, &o)
	if o.UserID != "u2" {
		t.Fatalf("second new_order is %+v, want u2's", o)
	}
	var st Stats
	h.request(t, "GET", "/ws/stats", "", nil, &st)
	if st.Counters.OrdersCreated != 2 {
		t.Fatalf("orders_created %d, want 2", st.Counters.OrdersCreated)
	}

	// While the first request with a key runs, a retry is told to wait.
	pending := IdempotencyRecord{Hash: requestHash("u1", Point{Lat: 1, Lng: 2}, Point{Lat: 3, Lng: 4}), Claim: "running"}
	if _, ok, err := h.backend().idempotency.Claim(t.Context(), "u1", "key-2", pending, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	code, raw, hdr = postOrder(t, h.URL, "key-2", u1Order)
	if code != http.StatusConflict || !strings.Contains(string(raw), "idempotency_key_in_use") || hdr.Get("Retry-After") != "1" {
		t.Fatalf("retry while the first runs: %d %s %v", code, raw, hdr)
	}
}

// TestIdempotentCreateAcrossNodes retries on another node: the key lives in
// Redis, so the retry gets the first order and no node fans out another.
func TestIdempotentCreateAcrossNodes(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startNodes(t, srv.URL(), 2)
	var drivers []*wsClient
	for i, h := range nodes {
		drivers = append(drivers, dialMany(t, h, "d"+string(rune('a'+i)), 1)...)
	}
	code, first, _ := postOrder(t, nodes[0].URL, "retry-me", u1Order)
	if code != http.StatusCreated {
		t.Fatalf("create on n0: %d %s", code, first)
	}
	code, again, hdr := postOrder(t, nodes[1].URL, "retry-me", u1Order)
	if code != http.StatusCreated || !bytes.Equal(first, again) || hdr.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry on n1: %d %s, want %s", code, again, first)
	}
	marker := nodes[1].createOrder(t, "u9")
	for _, d := range drivers {
		var o Order
		d.next(t, TypeNewOrder, &o)
		if !strings.Contains(string(first), o.OrderID) {
			t.Fatalf("first new_order %+v is not the created order", o)
		}
		d.next(t, TypeNewOrder, &o)
		if o.OrderID != marker.OrderID {
			t.Fatalf("a driver got %+v before the marker: the retry fanned out", o)
		}
	}
}
