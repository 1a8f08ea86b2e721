package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// dialUnread opens a driver's feed whose socket takes only a few kilobytes,
// and never reads it until the test does: a phone that stopped reading.
func dialUnread(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	conn, _, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}},
	})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 24)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

// waitDrivers waits until h holds n driver connections.
func waitDrivers(t *testing.T, h *testHub, n int64) {
	t.Helper()
	checkFor(t, defaultWait, pollEvery, func() error {
		if got := h.hub.drivers.Load(); got != n {
			return fmt.Errorf("%d drivers registered, want %d", got, n)
		}
		return nil
	})
}

// readToEnd reads conn until it ends and returns the error that ended it.
func readToEnd(t *testing.T, conn *websocket.Conn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), defaultWait)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("connection still open after %v", defaultWait)
			}
			return err
		}
	}
}

// checkClosedOnce checks that the node counted exactly one ended connection,
// for reason, in /ws/stats and in /metrics.
func checkClosedOnce(t *testing.T, h *testHub, reason string) {
	t.Helper()
	checkFor(t, defaultWait, pollEvery, func() error {
		closed := statsOf(t, h).Counters.ConnectionsClosed
		var total int64
		for _, n := range closed {
			total += n
		}
		if closed[reason] != 1 || total != 1 {
			return fmt.Errorf("connections_closed = %v, want %s once and nothing else", closed, reason)
		}
		return nil
	})
	_, body := send(t, "GET", h.URL+"/metrics", "")
	if line := fmt.Sprintf("taxi_connections_closed_total{reason=%q} 1\n", reason); !strings.Contains(string(body), line) {
		t.Fatalf("/metrics has no %q", line)
	}
}

// TestStuckWriteIsDroppedAndCountedOnce is a driver that stops reading
// while its queue never fills: the write watchdog drops it without a close
// frame (its socket cannot take one), the node counts one stuck_write, and
// a driver that reads keeps every frame.
func TestStuckWriteIsDroppedAndCountedOnce(t *testing.T) {
	h := startHubOn(t, Config{NodeID: "stuck", SendQueue: 1 << 20, WriteTimeout: 300 * time.Millisecond}, smallBuffer)
	stuck := dialUnread(t, h.wsURL("/ws/driver/stuck"))
	reader := mustDial(t, h.wsURL("/ws/driver/reader"))
	reader.next(t, TypeConnected, nil)
	waitDrivers(t, h, 2)
	const frames = 100
	for i := range frames {
		h.hub.broadcastDrivers(EventID{}, wireFrame(encodeFrame(TypeNewOrder, Order{OrderID: fmt.Sprintf("o%d", i), UserID: strings.Repeat("x", 32<<10)})))
		var o Order
		reader.next(t, TypeNewOrder, &o)
		if o.OrderID != fmt.Sprintf("o%d", i) {
			t.Fatalf("reading driver: frame %d is %s", i, o.OrderID)
		}
	}
	waitDrivers(t, h, 1)
	checkClosedOnce(t, h, "stuck_write")
	// The stuck driver finds frames, then the end of the socket: no close
	// frame could be sent.
	err := readToEnd(t, stuck)
	if code := websocket.CloseStatus(err); code != -1 {
		t.Fatalf("stuck driver saw close %v, want a dropped socket", code)
	}
	if st := statsOf(t, h); st.Counters.SlowClientsDisconnected != 1 {
		t.Fatalf("slow_clients_disconnected = %d", st.Counters.SlowClientsDisconnected)
	}
}

// TestFullQueueClosesWith1008AndIsCountedOnce is a driver that stops
// reading until its send queue fills: it gets close 1008 "slow consumer:
// send queue full" when it reads again, the node counts one slow_consumer,
// and a driver that reads keeps every frame.
func TestFullQueueClosesWith1008AndIsCountedOnce(t *testing.T) {
	const queue, burst = 16, 8
	h := startHubOn(t, Config{NodeID: "full", SendQueue: queue, WriteTimeout: time.Minute}, smallBuffer)
	slow := dialUnread(t, h.wsURL("/ws/driver/slow"))
	reader := mustDial(t, h.wsURL("/ws/driver/reader"))
	reader.next(t, TypeConnected, nil)
	waitDrivers(t, h, 2)
	// Bursts smaller than the queue, each read by the reading driver before
	// the next, until the slow driver's queue overflows: its socket takes a
	// few frames, its queue 16 more.
	sent := 0
	checkFor(t, defaultWait, time.Millisecond, func() error {
		if h.counters.slowClients.Load() == 1 {
			return nil
		}
		if sent >= 200*burst {
			return fmt.Errorf("queue never filled after %d frames", sent)
		}
		for range burst {
			h.hub.broadcastDrivers(EventID{}, wireFrame(encodeFrame(TypeNewOrder, Order{OrderID: fmt.Sprintf("o%d", sent), UserID: strings.Repeat("x", 2<<10)})))
			sent++
		}
		for i := sent - burst; i < sent; i++ {
			var o Order
			reader.next(t, TypeNewOrder, &o)
			if o.OrderID != fmt.Sprintf("o%d", i) {
				t.Fatalf("reading driver: frame %d is %s", i, o.OrderID)
			}
		}
		return errors.New("slow driver not dropped yet")
	})
	// Reading again, the slow driver finds the frames its socket held,
	// then the close frame.
	err := readToEnd(t, slow)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason != "slow consumer: send queue full" {
		t.Fatalf("slow driver ended with %v, want 1008 slow consumer", err)
	}
	checkClosedOnce(t, h, "slow_consumer")
	if h.hub.drivers.Load() != 1 || h.counters.framesDropped.Load() == 0 {
		t.Fatalf("after the slow consumer: %d drivers, %d frames dropped", h.hub.drivers.Load(), h.counters.framesDropped.Load())
	}
}
