package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
)

// fakeHub speaks enough of the hub's API for bench's tests, and can misbehave
// on purpose: drop some new_order frames, or let two drivers win one order.
type fakeHub struct {
	t   *testing.T
	srv *httptest.Server

	dropEvery  int64 // drop every n-th new_order frame (0: never)
	twoWinners bool  // the first two accepts of every order win
	noStats    bool  // /ws/stats answers 500

	mu      sync.Mutex
	drivers map[string]*fakeConn
	users   map[string]*fakeConn
	winners map[string]int
	nextID  int64

	frames, dropped atomic.Int64
	created         atomic.Int64
	handlers        sync.WaitGroup
}

type fakeConn struct {
	c    *websocket.Conn
	send chan []byte
}

func newFakeHub(t *testing.T, configure func(*fakeHub)) *fakeHub {
	t.Helper()
	h := &fakeHub{t: t, drivers: map[string]*fakeConn{}, users: map[string]*fakeConn{}, winners: map[string]int{}}
	if configure != nil {
		configure(h)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/driver/{id}", func(w http.ResponseWriter, r *http.Request) { h.feed(w, r, h.drivers) })
	mux.HandleFunc("GET /ws/user/{id}", func(w http.ResponseWriter, r *http.Request) { h.feed(w, r, h.users) })
	mux.HandleFunc("POST /orders", h.createOrder)
	mux.HandleFunc("POST /orders/{id}/accept", h.accept)
	mux.HandleFunc("POST /orders/{id}/cancel", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /ws/stats", h.stats)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.close)
	return h
}

func (h *fakeHub) URL() string { return h.srv.URL }

func (h *fakeHub) close() {
	h.mu.Lock()
	for _, c := range h.drivers {
		c.c.CloseNow()
	}
	for _, c := range h.users {
		c.c.CloseNow()
	}
	h.mu.Unlock()
	h.handlers.Wait()
	h.srv.Close()
}

func (h *fakeHub) feed(w http.ResponseWriter, r *http.Request, set map[string]*fakeConn) {
	h.handlers.Add(1)
	defer h.handlers.Done()
	id := r.PathValue("id")
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	fc := &fakeConn{c: c, send: make(chan []byte, 1024)}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var writer sync.WaitGroup
	writer.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case b := <-fc.send:
				if c.Write(ctx, websocket.MessageText, b) != nil {
					return
				}
			}
		}
	})
	defer func() {
		cancel()
		writer.Wait()
	}()
	fc.send <- []byte(`{"type":"connected","message":{"node_id":"fake","open_orders":[]}}`)
	h.mu.Lock()
	set[id] = fc
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(set, id)
		h.mu.Unlock()
	}()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			c.CloseNow()
			return
		}
		var in struct {
			Type    string `json:"type"`
			Message struct {
				OrderID string `json:"order_id"`
			} `json:"message"`
		}
		if json.Unmarshal(data, &in) != nil || in.Type != "accept_order" {
			continue
		}
		won := h.win(in.Message.OrderID)
		fc.send <- fmt.Appendf(nil, `{"type":"accept_result","message":{"order_id":%q,"accepted":%t}}`, in.Message.OrderID, won)
	}
}

func (h *fakeHub) win(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.winners[id]++
	if h.twoWinners {
		return h.winners[id] <= 2
	}
	return h.winners[id] == 1
}

func (h *fakeHub) createOrder(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID string `json:"user_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.UserID == "" {
		http.Error(w, `{"error":"bad_request"}`, http.StatusBadRequest)
		return
	}
	h.created.Add(1)
	h.mu.Lock()
	h.nextID++
	id := fmt.Sprintf("o%d", h.nextID)
	// Fan out before answering, as a real hub may: bench must hold these
	// early deliveries until the answer tells it the order's id.
	frame := fmt.Appendf(nil, `{"type":"new_order","message":{"order_id":%q,"user_id":%q,"status":"open"}}`, id, in.UserID)
	for _, c := range h.drivers {
		n := h.frames.Add(1)
		if h.dropEvery > 0 && n%h.dropEvery == 0 {
			h.dropped.Add(1)
			continue
		}
		select {
		case c.send <- frame:
		default:
			h.dropped.Add(1)
		}
	}
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"order_id":%q,"user_id":%q,"status":"open"}`, id, in.UserID)
}

func (h *fakeHub) accept(w http.ResponseWriter, r *http.Request) {
	if h.win(r.PathValue("id")) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, `{"status":"accepted"}`)
		return
	}
	w.WriteHeader(http.StatusConflict)
	fmt.Fprint(w, `{"error":"order_taken","detail":"another driver won"}`)
}

func (h *fakeHub) stats(w http.ResponseWriter, _ *http.Request) {
	if h.noStats {
		http.Error(w, "no", http.StatusInternalServerError)
		return
	}
	h.mu.Lock()
	d, u := len(h.drivers), len(h.users)
	h.mu.Unlock()
	fmt.Fprintf(w, `{"node_id":"fake","mode":"memory","connections":{"drivers":%d,"users":%d},`+
		`"counters":{"frames_sent":%d,"frames_dropped":%d},"rss_bytes":%d,"cpu_seconds":%g,"extra":true}`,
		d, u, h.frames.Load(), h.dropped.Load(), 1<<20+(d+u)*3000, float64(h.frames.Load())/1e6)
}
