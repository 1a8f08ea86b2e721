package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
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

// TestPingTimeoutClosesWith1008 is a client that keeps reading but never
// answers pings: it gets close 1008 "ping timeout", not a dropped socket,
// and the node counts one ping_timeout.
func TestPingTimeoutClosesWith1008(t *testing.T) {
	h := startHub(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /ws/driver/mute HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	for {
		var hdr [2]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			t.Fatalf("socket ended without a close frame: %v", err)
		}
		n := int(hdr[1] & 0x7f)
		switch n {
		case 126:
			var ext [2]byte
			_, _ = io.ReadFull(r, ext[:])
			n = int(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			_, _ = io.ReadFull(r, ext[:])
			n = int(binary.BigEndian.Uint64(ext[:]))
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			t.Fatal(err)
		}
		if hdr[0]&0x0f != 0x8 {
			continue // data frames and pings, which this client ignores
		}
		if len(payload) < 2 {
			t.Fatalf("close frame without a code: %q", payload)
		}
		code, reason := binary.BigEndian.Uint16(payload), string(payload[2:])
		if code != 1008 || reason != "ping timeout" {
			t.Fatalf("close %d %q, want 1008 ping timeout", code, reason)
		}
		break
	}
	checkFor(t, defaultWait, pollEvery, func() error {
		var st Stats
		h.request(t, "GET", "/ws/stats", "", nil, &st)
		if st.Counters.ConnectionsClosed["ping_timeout"] != 1 {
			return fmt.Errorf("closed by reason %v", st.Counters.ConnectionsClosed)
		}
		return nil
	})
}
