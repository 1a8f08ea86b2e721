package server

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestDeadPeerIsDroppedByPing(t *testing.T) {
	h := startHub(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
	// A peer that never reads never answers pings, like a phone that lost
	// its network without closing the socket.
	conn, _, err := websocket.Dial(t.Context(), h.wsURL("/ws/driver/gone"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	checkFor(t, defaultWait, pollEvery, func() error {
		if h.hub.drivers.Load() != 1 {
			return errors.New("not registered yet")
		}
		return nil
	})
	checkFor(t, defaultWait, pollEvery, func() error {
		if n := h.hub.drivers.Load(); n != 0 {
			return fmt.Errorf("dead peer still connected (%d)", n)
		}
		return nil
	})
}

func TestLivePeerStaysConnectedThroughPings(t *testing.T) {
	h := startHub(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: time.Second})
	d := mustDial(t, h.wsURL("/ws/driver/alive"))
	d.next(t, TypeConnected, nil)
	// Several ping intervals pass while the client answers pongs.
	deadline := time.Now().Add(500 * time.Millisecond)
	checkFor(t, defaultWait, pollEvery, func() error {
		if time.Now().Before(deadline) {
			return errors.New("waiting for ten ping intervals")
		}
		return nil
	})
	o := h.createOrder(t, "u1")
	var got Order
	d.next(t, TypeNewOrder, &got)
	if got.OrderID != o.OrderID || h.hub.drivers.Load() != 1 {
		t.Fatalf("live peer lost after pings: %+v, %d drivers", got, h.hub.drivers.Load())
	}
}
