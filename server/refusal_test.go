package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// logBuffer collects a node's log lines for a test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func infoLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// dialClosed opens a feed as a browser would (with an Origin) and returns
// the close the hub sent at once.
func dialClosed(t *testing.T, url, origin string) websocket.CloseError {
	t.Helper()
	c, err := dial(t, url, http.Header{"Origin": {origin}})
	if err != nil {
		t.Fatalf("browser handshake refused with HTTP instead of a close: %v", err)
	}
	c.closeStatus(t)
	var ce websocket.CloseError
	if !errors.As(c.err, &ce) {
		t.Fatalf("connection ended without a close frame: %v", c.err)
	}
	return ce
}

func TestFeedRefusals(t *testing.T) {
	logs := &logBuffer{}
	const page = "http://127.0.0.1:8000"
	h := startHub(t, Config{AuthSecret: testSecret, MaxConns: 1, OriginPatterns: []string{"127.0.0.1:8000"}, Logger: infoLogger(logs)})
	d1 := token(t, RoleDriver, "d1", time.Hour)
	expired := token(t, RoleDriver, "d1", -time.Minute)

	tests := []struct {
		name, path, origin string
		reason             string
		close              websocket.StatusCode
		status             int
	}{
		{"bad id", "/ws/driver/a%20b?token=" + d1, page, "invalid_id", 4400, 400},
		{"origin not listed", "/ws/driver/d1?token=" + d1, "http://127.0.0.1:9999", "origin_not_allowed", 4406, 403},
		{"no token", "/ws/driver/d1", page, "unauthorized", 4401, 401},
		{"expired token", "/ws/driver/d1?token=" + expired, page, "unauthorized", 4401, 401},
		{"another driver's token", "/ws/driver/d2?token=" + d1, page, "forbidden", 4403, 403},
		{"a driver's token on a rider feed", "/ws/user/d1?token=" + d1, page, "forbidden", 4403, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.counters.refused.byReason()[tt.reason]
			ce := dialClosed(t, h.wsURL(tt.path), tt.origin)
			if ce.Code != tt.close || !strings.HasPrefix(ce.Reason, tt.reason+": ") {
				t.Fatalf("browser: close %d %q, want %d %q...", ce.Code, ce.Reason, tt.close, tt.reason)
			}
			// A client that is not a browser handshake keeps the HTTP
			// status and the API's error body.
			origin := ""
			if tt.reason == "origin_not_allowed" {
				origin = tt.origin
			} else if _, err := dial(t, h.wsURL(tt.path), nil); err == nil || !strings.Contains(err.Error(), "status "+strconv.Itoa(tt.status)) {
				t.Fatalf("WebSocket client without Origin: %v, want status %d", err, tt.status)
			}
			if status, e := getWithOrigin(t, h, tt.path, origin); status != tt.status || e.Error != tt.reason {
				t.Fatalf("non-browser: %d %+v, want %d %s", status, e, tt.status, tt.reason)
			}
			if got := h.counters.refused.byReason()[tt.reason] - before; got < 2 {
				t.Fatalf("%s counted %d times, want at least 2", tt.reason, got)
			}
		})
	}

	// At capacity and shutting down.
	ok := mustDial(t, h.wsURL("/ws/driver/d1?token="+d1))
	ok.next(t, TypeConnected, nil)
	if ce := dialClosed(t, h.wsURL("/ws/driver/d1?token="+d1), page); ce.Code != 4429 || !strings.HasPrefix(ce.Reason, "at_capacity: ") {
		t.Fatalf("at capacity: %d %q", ce.Code, ce.Reason)
	}
	h.ready.Store(false)
	if ce := dialClosed(t, h.wsURL("/ws/driver/d1?token="+d1), page); ce.Code != 4503 || !strings.HasPrefix(ce.Reason, "shutting_down: ") {
		t.Fatalf("shutting down: %d %q", ce.Code, ce.Reason)
	}
	var e errorBody
	if status := h.request(t, "GET", "/ws/driver/d1?token="+d1, "", nil, &e); status != 503 || e.Error != "shutting_down" {
		t.Fatalf("shutting down without Origin: %d %+v", status, e)
	}
	h.ready.Store(true)

	// Every refusal is in /ws/stats, /metrics and the log at info.
	var st Stats
	h.request(t, "GET", "/ws/stats", "", nil, &st)
	byReason := st.Counters.ConnectionsRefusedByReason
	var sum int64
	for _, why := range []string{"invalid_id", "origin_not_allowed", "unauthorized", "forbidden", "shutting_down", "at_capacity"} {
		if byReason[why] == 0 {
			t.Errorf("stats: no %s refusal counted: %v", why, byReason)
		}
		sum += byReason[why]
	}
	if sum != st.Counters.ConnectionsRefused {
		t.Errorf("stats: reasons add up to %d, connections_refused is %d", sum, st.Counters.ConnectionsRefused)
	}
	metrics := h.getText(t, "/metrics")
	for _, line := range []string{`taxi_connections_refused_total{reason="unauthorized"}`, `taxi_connections_refused_total{reason="origin_not_allowed"}`} {
		if !strings.Contains(metrics, line) {
			t.Errorf("metrics lack %s", line)
		}
	}
	log := logs.String()
	for _, want := range []string{`level=INFO msg="feed handshake refused" node=test-node reason=unauthorized role=driver id=d1`, "reason=forbidden", "reason=origin_not_allowed", "reason=at_capacity", "reason=shutting_down", "reason=invalid_id"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// getWithOrigin sends a plain GET, with an Origin when origin is not empty,
// and decodes the error body.
func getWithOrigin(t *testing.T, h *testHub, path, origin string) (int, errorBody) {
	t.Helper()
	var hdr []string
	if origin != "" {
		hdr = []string{"Origin", origin}
	}
	resp, raw := send(t, "GET", h.URL+path, "", hdr...)
	var e errorBody
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("GET %s: error body %q: %v", path, raw, err)
	}
	return resp.StatusCode, e
}

// getText returns the body of GET path.
func (h *testHub) getText(t *testing.T, path string) string {
	t.Helper()
	_, raw := send(t, "GET", h.URL+path, "")
	return string(raw)
}

func TestCloseReasonFitsAFrame(t *testing.T) {
	r := refusalText(refusedUnauthorized, strings.Repeat("é", 100))
	if len(r) > maxCloseReason || !strings.HasPrefix(r, "unauthorized: ") || strings.ContainsRune(r, '\uFFFD') {
		t.Fatalf("reason of %d bytes: %q", len(r), r)
	}
}

// TestRefusalDuringTheUpgrade covers a node that fills up or begins
// shutting down between its checks and the registration of the upgraded
// connection: non-browser clients keep 1013, browsers get the refusal's
// code.
func TestRefusalDuringTheUpgrade(t *testing.T) {
	h := startHub(t, Config{})
	h.hub.mu.Lock()
	h.hub.closing = true // what register sees once the node is full or closing
	h.hub.mu.Unlock()
	c := mustDial(t, h.wsURL("/ws/driver/d1"))
	if code := c.closeStatus(t); code != websocket.StatusTryAgainLater {
		t.Fatalf("non-browser: close %v, want 1013", code)
	}
	if ce := dialClosed(t, h.wsURL("/ws/driver/d1"), h.URL); ce.Code != 4429 {
		t.Fatalf("browser while ready: close %d %q, want 4429", ce.Code, ce.Reason)
	}
	h.hub.mu.Lock()
	h.hub.closing = false
	h.hub.mu.Unlock()
	if got := h.counters.refused.byReason(); got["at_capacity"] != 2 {
		t.Fatalf("refusals %v, want 2 at_capacity", got)
	}
}
