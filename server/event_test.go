package server

import (
	"encoding/json"
	"testing"
)

func TestEventIDOrderAndText(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"1-0", "1-1"}, {"1-9", "2-0"}, {"9-0", "10-0"}, {"1764469088123-0", "1764469088123-12"},
	} {
		a, err1 := ParseEventID(tc.a)
		b, err2 := ParseEventID(tc.b)
		if err1 != nil || err2 != nil || !a.Less(b) || b.Less(a) || a.String() != tc.a {
			t.Fatalf("%s < %s: %v %v", tc.a, tc.b, err1, err2)
		}
	}
	for _, bad := range []string{"", "1", "-1", "a-b", "1-", "1-2-3", "99999999999999999999999-0"} {
		if _, err := ParseEventID(bad); err == nil {
			t.Fatalf("%q parsed", bad)
		}
	}
}

// TestEventFrameRoundTrip checks that an event read back from the frame a
// broker carried says what was published: same type, id, rider and content,
// so that skip marks made from memory events match their Redis copies.
func TestEventFrameRoundTrip(t *testing.T) {
	msg := OrderAcceptedMessage{OrderID: "o1", DriverID: "d1", UserID: "u1"}
	for _, ch := range []Channel{ChannelDrivers, ChannelUsers} {
		user := ""
		if ch == ChannelUsers {
			user = "u1"
		}
		ev := newEvent(ch, TypeOrderAccepted, msg, user).withID(EventID{Ms: 42, Seq: 7})
		got, err := parseEventFrame(ch, ev.Frame)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != ev.ID || got.Type != ev.Type || got.UserID != ev.UserID || got.content() != ev.content() {
			t.Fatalf("%s: read %+v from %s", ch, got, ev.Frame)
		}
	}
	if _, err := parseEventFrame(ChannelUsers, newEvent(ChannelUsers, TypeOrderAccepted, OrderCancelledMessage{OrderID: "o1"}, "").withID(EventID{Ms: 1}).Frame); err == nil {
		t.Fatal("a rider event without user_id was accepted")
	}
}

func TestConnectedFrameSplicesOpenOrders(t *testing.T) {
	open := []byte(`[{"order_id":"o1","user_id":"u1","status":"open","pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4},"created_at":"2026-11-30T00:00:00Z"}]`)
	frame := encodeConnected(ConnectedMessage{NodeID: "n1", Role: RoleDriver, ID: "d1", LastEventID: "5-0", OpenOrders: open})
	var env Envelope
	var hello connectedFrame
	if err := json.Unmarshal(frame, &env); err != nil {
		t.Fatalf("%s: %v", frame, err)
	}
	if err := json.Unmarshal(env.Message, &hello); err != nil {
		t.Fatalf("%s: %v", env.Message, err)
	}
	if env.Type != TypeConnected || hello.NodeID != "n1" || hello.LastEventID != "5-0" || hello.OpenOrders == nil || len(*hello.OpenOrders) != 1 || (*hello.OpenOrders)[0].OrderID != "o1" {
		t.Fatalf("decoded %+v from %s", hello, frame)
	}
	if bare := encodeConnected(ConnectedMessage{NodeID: "n1", Role: RoleUser, ID: "u1"}); !json.Valid(bare) {
		t.Fatalf("rider frame %s", bare)
	}
}
