package loadtest

import (
	"fmt"
	"testing"
)

func TestParseFrame(t *testing.T) {
	for _, tt := range []struct {
		name, in      string
		typ, orderID  string
		id            string
		accepted, bad bool
	}{
		{name: "new order as the hub sends it",
			in:  `{"type":"new_order","id":"1764469088123-0","message":{"order_id":"o-1","user_id":"u1","status":"open","pickup":{"lat":1,"lng":2}}}`,
			typ: "new_order", id: "1764469088123-0", orderID: "o-1"},
		{name: "viewers",
			in:  `{"type":"order_viewers","id":"5-1","message":{"order_id":"o-8","user_id":"u1","count":2}}`,
			typ: "order_viewers", id: "5-1", orderID: "o-8"},
		{name: "spaces around colons",
			in:  `{ "type" : "new_order", "message" : { "order_id" : "o-2" } }`,
			typ: "new_order", orderID: "o-2"},
		{name: "message before type",
			in:  `{"message":{"order_id":"o-3"},"type":"order_accepted"}`,
			typ: "order_accepted", orderID: "o-3"},
		{name: "escaped id falls back to a full decode",
			in:  `{"type":"new_order","id":"7-0","message":{"order_id":"o\u002d4"}}`,
			typ: "new_order", id: "7-0", orderID: "o-4"},
		{name: "accept result is decoded in full",
			in:  `{"type":"accept_result","message":{"order_id":"o-5","accepted":true,"reason":""}}`,
			typ: "accept_result", orderID: "o-5", accepted: true},
		{name: "lost accept",
			in:  `{"type":"accept_result","message":{"order_id":"o-6","accepted":false,"reason":"order_taken"}}`,
			typ: "accept_result", orderID: "o-6"},
		{name: "connected frame",
			in:  `{"type":"connected","message":{"node_id":"n1","open_orders":[{"order_id":"o-7"}]}}`,
			typ: "connected"},
		{name: "not JSON", in: `hello`, bad: true},
		{name: "no type", in: `{"message":{}}`, bad: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := parseFrame([]byte(tt.in))
			if ok == tt.bad {
				t.Fatalf("ok = %t, want %t", ok, !tt.bad)
			}
			if tt.bad {
				return
			}
			if string(f.Type) != tt.typ || string(f.OrderID) != tt.orderID || f.Accepted != tt.accepted || string(f.ID) != tt.id {
				t.Errorf("got type %q id %q order %q accepted %t, want %q %q %q %t",
					f.Type, f.ID, f.OrderID, f.Accepted, tt.typ, tt.id, tt.orderID, tt.accepted)
			}
		})
	}
}

func TestParseGreeting(t *testing.T) {
	for _, tt := range []struct {
		name, in   string
		recovered  string // "", "true" or "false"
		last       string
		snapshot   bool
		orders     int
		incomplete bool
	}{
		{name: "first greeting of a driver",
			in:       `{"type":"connected","message":{"node_id":"n1","role":"driver","id":"d1","last_event_id":"9-2","open_orders":[{"order_id":"a"},{"order_id":"b"}]}}`,
			last:     "9-2",
			snapshot: true, orders: 2},
		{name: "recovered",
			in:        `{"type":"connected","message":{"node_id":"n1","role":"driver","id":"d1","recovered":true,"last_event_id":"9-3"}}`,
			recovered: "true", last: "9-3"},
		{name: "a rider's snapshot",
			in:        `{"type":"connected","message":{"node_id":"n1","role":"user","id":"u1","recovered":false,"orders":[{"order_id":"a","status":"accepted"}]}}`,
			recovered: "false", snapshot: true, orders: 1},
		{name: "incomplete, no events logged yet",
			in:       `{"type":"connected","message":{"node_id":"n1","role":"driver","id":"d1","open_orders":[],"incomplete":true}}`,
			snapshot: true, incomplete: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := parseGreeting([]byte(tt.in))
			rec := ""
			if g.recovered != nil {
				rec = fmt.Sprint(*g.recovered)
			}
			if rec != tt.recovered || string(g.lastEventID) != tt.last || g.snapshot != tt.snapshot ||
				g.orders != tt.orders || g.incomplete != tt.incomplete {
				t.Errorf("got %+v (recovered %q)", g, rec)
			}
		})
	}
	var ids []string
	eachOrderID([]byte(`{"open_orders":[{"order_id":"a","user_id":"u"},{"order_id":"b\u0030"},{"order_id":"c"}]}`),
		func(id []byte) { ids = append(ids, string(id)) })
	if fmt.Sprint(ids) != "[a c]" {
		t.Errorf("order ids %v, want [a c] (escaped ids skipped)", ids)
	}
}

func TestEventIDs(t *testing.T) {
	for _, bad := range []string{"", "-", "1-", "-1", "1", "a-1", "1-b", "1-2-3"} {
		if _, ok := parseEventID([]byte(bad)); ok {
			t.Errorf("%q parsed as an event id", bad)
		}
	}
	a, _ := parseEventID([]byte("1764469088123-0"))
	b, _ := parseEventID([]byte("1764469088123-1"))
	c, _ := parseEventID([]byte("1764469088124-0"))
	if !b.after(a) || !c.after(b) || a.after(a) || a.after(c) || a.String() != "1764469088123-0" {
		t.Errorf("ids %v %v %v do not order", a, b, c)
	}
	// A client's ledger: a repeat of an older id and an older id are both
	// out of order; a frame without id is only counted.
	var l ledger
	for _, id := range []string{"1-0", "2-0", "2-0", "1-5", "3-0", ""} {
		l.observe([]byte(id))
	}
	if l.received.Load() != 5 || l.outOfOrder.Load() != 2 || l.withoutID.Load() != 1 || l.resume.String() != "3-0" {
		t.Errorf("ledger: %d received, %d out of order, %d without id, resume %v",
			l.received.Load(), l.outOfOrder.Load(), l.withoutID.Load(), l.resume)
	}
}

func BenchmarkParseFrame(b *testing.B) {
	in := []byte(`{"type":"new_order","id":"1764469088123-0","message":{"order_id":"0f9c2a7e-5b1d-4c1e-9a3f-2d7c1b0e4a11","user_id":"u1","status":"open","pickup":{"lat":52.3,"lng":4.8},"dropoff":{"lat":52.35,"lng":4.85},"created_at":"2025-01-01T00:00:00Z"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseFrame(in); !ok {
			b.Fatal("parse failed")
		}
	}
}
