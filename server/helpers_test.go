package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taxi-hub/taxi/internal/eventually"
)

// checkFor waits for fn to hold, polling every every; see eventually.
func checkFor(t testing.TB, total, every time.Duration, fn func() error) {
	t.Helper()
	eventually.CheckEvery(t, total, every, fn)
}

// testHub is a node served over a real HTTP server on a loopback port.
type testHub struct {
	*Server
	URL  string
	http *httptest.Server
}

func startHub(t testing.TB, cfg Config) *testHub {
	t.Helper()
	return startHubOn(t, cfg, nil)
}

// startHubOn is startHub with the listener wrapped by wrap, when not nil.
func startHubOn(t testing.TB, cfg Config, wrap func(net.Listener) net.Listener) *testHub {
	t.Helper()
	if cfg.AuthSecret == "" {
		cfg.Insecure = true
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "test-node"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	if wrap != nil {
		ts.Listener = wrap(ts.Listener)
	}
	ts.Start()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := s.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
		cancel()
	})
	return &testHub{Server: s, URL: ts.URL, http: ts}
}

// wsURL turns the hub's http URL into a ws URL for path.
func (h *testHub) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(h.URL, "http") + path
}

// request sends a JSON request and decodes the JSON answer into out (when
// not nil). It returns the status code.
func (h *testHub) request(t testing.TB, method, path, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

func (h *testHub) createOrder(t testing.TB, userID string) Order {
	t.Helper()
	var o Order
	body := map[string]any{"user_id": userID, "pickup": Point{Lat: 1, Lng: 2}, "dropoff": Point{Lat: 3, Lng: 4}}
	if code := h.request(t, "POST", "/orders", "", body, &o); code != http.StatusCreated {
		t.Fatalf("create order: status %d", code)
	}
	return o
}

// wsClient is a test WebSocket client. A reader goroutine puts every frame
// on a channel, so tests can wait for frames with a deadline without
// closing the connection.
type wsClient struct {
	conn   *websocket.Conn
	frames chan Envelope
	done   chan struct{}
	err    error // why the reader stopped; read after done closes
	// pending holds frames that next skipped while looking for another
	// type, so that waiting for one frame never loses another.
	pending []Envelope
}

func dial(t testing.TB, url string, hdr http.Header) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: status %d: %w", url, resp.StatusCode, err)
		}
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	conn.SetReadLimit(1 << 24)
	c := &wsClient{conn: conn, frames: make(chan Envelope, 1024), done: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() {
		_ = conn.CloseNow()
		<-c.done
	})
	return c, nil
}

func mustDial(t testing.TB, url string) *wsClient {
	t.Helper()
	c, err := dial(t, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readLoop ends when the connection closes.
func (c *wsClient) readLoop() {
	defer close(c.done)
	defer close(c.frames)
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var env Envelope
		if err := json.Unmarshal(data, &env); err != nil {
			c.err = fmt.Errorf("frame %q is not an envelope: %w", data, err)
			return
		}
		c.frames <- env
	}
}

// next returns the first frame of type typ, keeping frames of other types
// for later calls, or fails the test after timeout.
func (c *wsClient) next(t testing.TB, typ string, out any) {
	t.Helper()
	decode := func(env Envelope) {
		if out != nil {
			if err := json.Unmarshal(env.Message, out); err != nil {
				t.Fatalf("decode %s message %s: %v", typ, env.Message, err)
			}
		}
	}
	for i, env := range c.pending {
		if env.Type == typ {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			decode(env)
			return
		}
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case env, ok := <-c.frames:
			if !ok {
				t.Fatalf("waiting for %s: connection closed: %v", typ, c.err)
			}
			if env.Type != typ {
				c.pending = append(c.pending, env)
				continue
			}
			decode(env)
			return
		case <-timer.C:
			t.Fatalf("no %s frame within 10s", typ)
		}
	}
}

// nextAny returns the next frame of any type, pending ones first.
func (c *wsClient) nextAny(t testing.TB) Envelope {
	t.Helper()
	if len(c.pending) > 0 {
		env := c.pending[0]
		c.pending = c.pending[1:]
		return env
	}
	select {
	case env, ok := <-c.frames:
		if !ok {
			t.Fatalf("connection closed: %v", c.err)
		}
		return env
	case <-timeoutC(t):
		t.Fatal("no frame within 10s")
	}
	return Envelope{}
}

func (c *wsClient) send(t testing.TB, typ string, msg any) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"type": typ, "message": msg})
	if err != nil {
		t.Fatal(err)
	}
	c.sendRaw(t, raw)
}

func (c *wsClient) sendRaw(t testing.TB, raw []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// closeStatus waits for the connection to end and returns the close code
// the server sent.
func (c *wsClient) closeStatus(t testing.TB) websocket.StatusCode {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				return websocket.CloseStatus(c.err)
			}
		case <-timer.C:
			t.Fatal("connection not closed within 10s")
		}
	}
}

// dialMany connects n drivers concurrently and waits for each one's
// connected frame.
func dialMany(t testing.TB, h *testHub, prefix string, n int) []*wsClient {
	t.Helper()
	clients := make([]*wsClient, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := dial(t, h.wsURL(fmt.Sprintf("/ws/driver/%s%d", prefix, i)), nil)
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		c.next(t, TypeConnected, nil)
	}
	return clients
}

func collect(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

// backend returns the stores the node uses now.
func (s *Server) backend() *backend { return s.backends.current() }

// connectedFrame decodes a connected frame with its open orders as orders.
type connectedFrame struct {
	ConnectedMessage
	OpenOrders *[]Order `json:"open_orders"`
}
