package loadtest

import "testing"

func TestParseFrame(t *testing.T) {
	for _, tt := range []struct {
		name, in      string
		typ, orderID  string
		accepted, bad bool
	}{
		{name: "new order as the hub sends it",
			in:  `{"type":"new_order","message":{"order_id":"o-1","user_id":"u1","status":"open","pickup":{"lat":1,"lng":2}}}`,
			typ: "new_order", orderID: "o-1"},
		{name: "spaces around colons",
			in:  `{ "type" : "new_order", "message" : { "order_id" : "o-2" } }`,
			typ: "new_order", orderID: "o-2"},
		{name: "message before type",
			in:  `{"message":{"order_id":"o-3"},"type":"order_accepted"}`,
			typ: "order_accepted", orderID: "o-3"},
		{name: "escaped id falls back to a full decode",
			in:  `{"type":"new_order","message":{"order_id":"o\u002d4"}}`,
			typ: "new_order", orderID: "o-4"},
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
			if string(f.Type) != tt.typ || string(f.OrderID) != tt.orderID || f.Accepted != tt.accepted {
				t.Errorf("got type %q order %q accepted %t, want %q %q %t", f.Type, f.OrderID, f.Accepted, tt.typ, tt.orderID, tt.accepted)
			}
		})
	}
}

func BenchmarkParseFrame(b *testing.B) {
	in := []byte(`{"type":"new_order","message":{"order_id":"0f9c2a7e-5b1d-4c1e-9a3f-2d7c1b0e4a11","user_id":"u1","status":"open","pickup":{"lat":52.3,"lng":4.8},"dropoff":{"lat":52.35,"lng":4.85},"created_at":"2025-01-01T00:00:00Z"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseFrame(in); !ok {
			b.Fatal("parse failed")
		}
	}
}
