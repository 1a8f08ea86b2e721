package server

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// smallBufListener shrinks each accepted socket's send buffer so that a
// client that stops reading fills it after a few frames instead of megabytes.
type smallBufListener struct{ net.Listener }

func smallBuffer(l net.Listener) net.Listener { return smallBufListener{l} }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

func TestSlowClientIsDroppedWithoutDelayingOthers(t *testing.T) {
	h := startHubOn(t, Config{NodeID: "slow-test", SendQueue: 64, WriteTimeout: time.Minute}, smallBuffer)
	s := h.Server

	// The slow driver's socket takes little and it never reads.
	dialUnread(t, h.wsURL("/ws/driver/slow"))

	fast := dialMany(t, h, "fast", 5)
	checkFor(t, defaultWait, pollEvery, func() error {
		if n := s.hub.drivers.Load(); n != 6 {
			return fmt.Errorf("%d drivers", n)
		}
		return nil
	})

	// Bursts of 32 frames: each fits a reading client's queue, while the
	// slow client's queue only grows.
	const frames, burst = 640, 32
	payload := strings.Repeat("x", 1024)
	start := time.Now()
	for b := 0; b < frames; b += burst {
		for i := b; i < b+burst; i++ {
			s.hub.broadcastDrivers(EventID{}, wireFrame(encodeFrame(TypeNewOrder, Order{OrderID: fmt.Sprintf("o%d", i), UserID: payload})))
		}
		for n, c := range fast {
			for i := b; i < b+burst; i++ {
				var o Order
				c.next(t, TypeNewOrder, &o)
				if o.OrderID != fmt.Sprintf("o%d", i) {
					t.Fatalf("fast driver %d: frame %d is %s", n, i, o.OrderID)
				}
			}
		}
	}
	t.Logf("fast drivers received %d frames each in %v", frames, time.Since(start))

	checkFor(t, defaultWait, pollEvery, func() error {
		if n := s.counters.slowClients.Load(); n != 1 {
			return fmt.Errorf("slow_clients_disconnected = %d", n)
		}
		if n := s.hub.drivers.Load(); n != 5 {
			return fmt.Errorf("%d drivers still registered", n)
		}
		return nil
	})
	if s.counters.framesDropped.Load() == 0 {
		t.Error("frames_dropped not counted")
	}
}

func TestStuckWriterIsClosedByTheWatchdog(t *testing.T) {
	h := startHubOn(t, Config{NodeID: "watchdog", SendQueue: 1 << 20, WriteTimeout: 300 * time.Millisecond}, smallBuffer)
	s := h.Server
	conn, _, err := websocket.Dial(t.Context(), h.wsURL("/ws/driver/stuck"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	checkFor(t, defaultWait, pollEvery, func() error {
		if s.hub.drivers.Load() != 1 {
			return errors.New("not registered")
		}
		return nil
	})
	// The queue never fills (it is huge); only the stuck write can end it.
	big := encodeFrame(TypeNewOrder, Order{OrderID: "o", UserID: strings.Repeat("x", 64<<10)})
	for range 200 {
		s.hub.broadcastDrivers(EventID{}, wireFrame(big))
	}
	checkFor(t, defaultWait, pollEvery, func() error {
		if s.hub.drivers.Load() != 0 {
			return fmt.Errorf("stuck driver still connected; slow=%d", s.counters.slowClients.Load())
		}
		return nil
	})
	if s.counters.slowClients.Load() != 1 {
		t.Fatalf("slow_clients_disconnected = %d", s.counters.slowClients.Load())
	}
}
