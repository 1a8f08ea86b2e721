package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestGracefulShutdownClosesWith1001(t *testing.T) {
	s, err := New(Config{Insecure: true, NodeID: "going-away", ShutdownTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, nil) }()

	h := &testHub{Server: s, URL: "http://" + ln.Addr().String()}
	d := mustDial(t, h.wsURL("/ws/driver/d1"))
	u := mustDial(t, h.wsURL("/ws/user/u1"))
	d.next(t, TypeConnected, nil)
	u.next(t, TypeConnected, nil)
	if code := h.request(t, "GET", "/readyz", "", nil, nil); code != http.StatusOK {
		t.Fatalf("readyz before shutdown: %d", code)
	}

	cancel()
	for name, c := range map[string]*wsClient{"driver": d, "rider": u} {
		if code := c.closeStatus(t); code != websocket.StatusGoingAway {
			t.Errorf("%s closed with %v, want 1001", name, code)
		}
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s")
	}
	if s.ready.Load() {
		t.Error("still ready after shutdown")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("listener still accepts after shutdown")
	}
}

func TestReadyzTurns503WhenShuttingDown(t *testing.T) {
	h := startHub(t, Config{})
	h.ready.Store(false)
	var e errorBody
	if code := h.request(t, "GET", "/readyz", "", nil, &e); code != http.StatusServiceUnavailable || e.Error != "shutting_down" {
		t.Fatalf("readyz: %d %+v", code, e)
	}
	_, err := dial(t, h.wsURL("/ws/driver/d1"), nil)
	if err == nil {
		t.Fatal("a WebSocket opened on a node that is shutting down")
	}
	h.ready.Store(true)
}

func TestShutdownReturnsWhenContextEnds(t *testing.T) {
	h := startHub(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// With no connection the wait is immediate; the point is that a done
	// context never blocks Shutdown.
	if err := h.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestDrainDelayAnswersReadyz503BeforeClosing(t *testing.T) {
	s, err := New(Config{Insecure: true, NodeID: "draining", DrainDelay: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, nil) }()
	h := &testHub{Server: s, URL: "http://" + ln.Addr().String()}
	checkFor(t, defaultWait, pollEvery, func() error {
		if code := h.request(t, "GET", "/readyz", "", nil, nil); code != http.StatusOK {
			return errors.New("not ready yet")
		}
		return nil
	})
	cancel()
	checkFor(t, defaultWait, pollEvery, func() error {
		if code := h.request(t, "GET", "/readyz", "", nil, nil); code != http.StatusServiceUnavailable {
			return errors.New("readyz still 200")
		}
		return nil
	})
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
