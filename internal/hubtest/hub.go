package hubtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/contract"
	"github.com/taxi-hub/taxi/internal/eventually"
	"github.com/taxi-hub/taxi/internal/redisconn"
	"github.com/taxi-hub/taxi/server"
)

// Timeout is how long a helper of this package waits for anything that
// should already have happened: a node linking to Redis, a frame, a
// shutdown.
const Timeout = 15 * time.Second

// Hub is one hub node served on a loopback port for the length of a test.
// The embedded Server gives its NodeID and effective Config.
type Hub struct {
	*server.Server
	// URL is the node's base URL, http://127.0.0.1:port, without a
	// trailing slash.
	URL string
}

// Option changes the configuration Start gives server.New.
type Option func(*server.Config)

// NodeID names the node (the default is "test-node").
func NodeID(id string) Option { return func(c *server.Config) { c.NodeID = id } }

// Secret makes the node check client tokens signed with secret (at least
// contract.MinSecretLen bytes). An empty secret keeps the default: an
// insecure node that trusts the id in the URL.
func Secret(secret string) Option { return func(c *server.Config) { c.AuthSecret = secret } }

// Redis puts the node in Redis mode on url, any form internal/redisconn
// accepts.
func Redis(url string) Option { return func(c *server.Config) { c.RedisURL = url } }

// Start serves a node on a free 127.0.0.1 port until the test ends, then
// shuts it down, failing the test if the shutdown fails.
//
// The node starts from a configuration fit for tests, which opts change in
// order: node id "test-node"; memory mode unless Redis (or an option that
// sets RedisURL) is given; no authentication unless a secret is; order API
// rate limits of 1000 calls a second (a test of the limits sets its own);
// Redis calls bounded by 500 ms and a heartbeat every 200 ms, so outages
// and dead nodes show within a second; AdvertiseURL set to URL. Every other
// setting is server's default.
//
// In Redis mode Start returns once the node serves in Redis mode with its
// subscriptions up (see WaitRedis), so an order created on any node reaches
// its clients.
func Start(t testing.TB, opts ...Option) *Hub {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start hub: listen: %v", err)
	}
	base := "http://" + ln.Addr().String()
	cfg := server.Config{
		NodeID:            "test-node",
		HTTPRate:          1000,
		HTTPBurst:         1000,
		RedisTimeout:      500 * time.Millisecond,
		HeartbeatInterval: 200 * time.Millisecond,
		// The heartbeat carries this from its first beat; without it the
		// node learns its address only once Serve runs.
		AdvertiseURL: base,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.AuthSecret == "" {
		cfg.Insecure = true
	}
	srv, err := server.New(cfg)
	if err != nil {
		_ = ln.Close()
		t.Fatalf("start hub: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// The serving goroutine exits when ctx ends and the node has shut
	// down, or when the listener fails.
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	h := &Hub{Server: srv, URL: base}
	t.Cleanup(func() {
		cancel()
		// Serve gives the shutdown ShutdownTimeout, then fails.
		wait := h.Config().ShutdownTimeout + Timeout
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("hub %s: %v", h.NodeID(), err)
			}
		case <-time.After(wait):
			t.Errorf("hub %s still running %v after the end of its test", h.NodeID(), wait)
		}
	})
	if cfg.RedisURL != "" && !cfg.Memory {
		h.WaitRedis(t)
	}
	return h
}

// WSURL returns the WebSocket URL of path on the node, ws://127.0.0.1:port
// followed by path.
func (h *Hub) WSURL(path string) string {
	return "ws" + strings.TrimPrefix(h.URL, "http") + path
}

// WaitRedis waits, up to Timeout, until the node serves in Redis mode with
// its subscriptions up: its /ws/stats says mode "redis", and Redis counts a
// subscriber on the node's probe channel and on both feed channels. It
// fails the test with what it last saw. Call it after Start when the test
// has restarted the node's Redis.
func (h *Hub) WaitRedis(t testing.TB) {
	t.Helper()
	rdb, err := redisconn.New(h.Config().RedisURL)
	if err != nil {
		t.Fatalf("wait for redis mode: %v", err)
	}
	defer rdb.Close()
	channels := []string{string(contract.ChannelDrivers), string(contract.ChannelUsers), string(contract.ProbeChannel(h.NodeID()))}
	numsub := func(ctx context.Context) (map[string]int64, error) {
		if redisconn.IsCluster(rdb) {
			return rdb.PubSubShardNumSub(ctx, channels...).Result()
		}
		return rdb.PubSubNumSub(ctx, channels...).Result()
	}
	eventually.Check(t, Timeout, func() error {
		if st, err := h.stats(); err != nil || st.Mode != contract.ModeRedis {
			return fmt.Errorf("node %s: mode %q (%v)", h.NodeID(), st.Mode, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := numsub(ctx)
		if err != nil {
			return fmt.Errorf("node %s: pubsub numsub: %w", h.NodeID(), err)
		}
		for _, ch := range channels {
			if n[ch] == 0 {
				return fmt.Errorf("node %s: no subscriber on %s yet", h.NodeID(), ch)
			}
		}
		return nil
	})
}

// Stats returns the node's GET /ws/stats, failing the test when it cannot.
func (h *Hub) Stats(t testing.TB) server.Stats {
	t.Helper()
	st, err := h.stats()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (h *Hub) stats() (server.Stats, error) {
	var st server.Stats
	resp, err := http.Get(h.URL + "/ws/stats")
	if err != nil {
		return st, fmt.Errorf("get stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("get stats: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("decode stats: %w", err)
	}
	return st, nil
}

// Token returns a client token for id acting as role, signed with the
// node's secret and valid for an hour, or "" when the node has no secret
// (it trusts the id in the URL then).
func (h *Hub) Token(t testing.TB, role contract.Role, id string) string {
	t.Helper()
	secret := h.Config().AuthSecret
	if secret == "" {
		return ""
	}
	tok, err := contract.NewToken(secret, role, id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Call makes one request to the node's order API, path being absolute
// (/orders, /orders/{id}/accept ...), body JSON or "" for none, token sent
// as a bearer token when not "". It fails the test unless the answer's
// status is want, and returns the answer's body.
func (h *Hub) Call(t testing.TB, method, path, token, body string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, h.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != want {
		t.Fatalf("%s %s: %s %s (%v), want %d", method, path, resp.Status, data, err, want)
	}
	return data
}

// CreateOrder creates an order for the rider userID through POST /orders,
// from Berlin's Alexanderplatz to Kreuzberg, with the rider's token when
// the node checks tokens, and returns it as the API answered.
func (h *Hub) CreateOrder(t testing.TB, userID string) contract.Order {
	t.Helper()
	body := fmt.Sprintf(`{"user_id":%q,"pickup":{"lat":52.52,"lng":13.405},"dropoff":{"lat":52.5,"lng":13.42}}`, userID)
	data := h.Call(t, http.MethodPost, "/orders", h.Token(t, contract.RoleUser, userID), body, http.StatusCreated)
	var o contract.Order
	if err := json.Unmarshal(data, &o); err != nil || o.OrderID == "" {
		t.Fatalf("create order: %v: %s", err, data)
	}
	return o
}
