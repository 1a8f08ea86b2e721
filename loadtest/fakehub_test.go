package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
)

// fakeHub speaks enough of the hub's API for bench's tests, and can misbehave
// on purpose: drop, repeat or misnumber some event frames, let two drivers
// win one order, or answer a resume with a snapshot.
type fakeHub struct {
	t   *testing.T
	srv *httptest.Server

	dropEvery   int64 // drop every n-th new_order frame (0: never)
	repeatEvery int64 // send every n-th new_order frame twice
	staleEvery  int64 // give every n-th new_order an id lower than the last
	twoWinners  bool  // the first two accepts of every order win
	noStats     bool  // /ws/stats answers 500
	noResume    bool  // answer ?since= with a snapshot, never recovered
	refuse      int64 // close the first n driver feeds with 1013 before greeting them
	emptyGreet  bool  // greet drivers (but a storm's probe) with no open order, whatever is open

	mu      sync.Mutex
	drivers map[string]*fakeConn
	users   map[string]*fakeConn
	winners map[string]int
	owners  map[string]string // order id → rider
	open    []string          // open order ids, oldest first
	events  []fakeEvent       // every event, in id order
	nextID  int64
	seq     uint64 // last event sequence number

	frames, dropped atomic.Int64
	refused         atomic.Int64 // driver feeds closed with 1013
	repeated        atomic.Int64 // new_order frames sent a second time
	created         atomic.Int64
	handlers        sync.WaitGroup
}

type fakeConn struct {
	c    *websocket.Conn
	send chan []byte
}

// fakeEvent is one event of the fake hub's log: to every driver, or to one
// rider.
type fakeEvent struct {
	seq   uint64
	rider string // empty: a drivers' event
	frame []byte
}

func newFakeHub(t *testing.T, configure func(*fakeHub)) *fakeHub {
	t.Helper()
	h := &fakeHub{t: t, drivers: map[string]*fakeConn{}, users: map[string]*fakeConn{}, winners: map[string]int{},
		owners: map[string]string{}}
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
	if strings.HasPrefix(r.URL.Path, "/ws/driver/") && h.refused.Add(1) <= h.refuse {
		c.Close(websocket.StatusTryAgainLater, "could not load the first frame; reconnect")
		return
	}
	fc := &fakeConn{c: c, send: make(chan []byte, 4096)}
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
	h.mu.Lock()
	h.greet(fc, strings.HasPrefix(r.URL.Path, "/ws/driver/"), id, r.URL.Query().Get("since"))
	set[id] = fc
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		if set[id] == fc {
			delete(set, id)
		}
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

// greet queues the connected frame, and the events after since when the
// feed resumes; h.mu is held.
func (h *fakeHub) greet(fc *fakeConn, driver bool, id, since string) {
	last := ""
	if h.seq > 0 {
		last = fmt.Sprintf(`,"last_event_id":"1000-%d"`, h.seq)
	}
	var after uint64
	resumed := since != "" && !h.noResume
	if resumed {
		_, err := fmt.Sscanf(since, "1000-%d", &after)
		resumed = err == nil
	}
	switch {
	case resumed:
		fc.send <- fmt.Appendf(nil, `{"type":"connected","message":{"node_id":"fake","recovered":true%s}}`, last)
		for _, ev := range h.events {
			if ev.seq > after && (ev.rider == "") == driver && (driver || ev.rider == id) {
				fc.send <- ev.frame
			}
		}
	case driver:
		recovered := ""
		if since != "" {
			recovered = `"recovered":false,`
		}
		open := make([]string, len(h.open))
		for i, o := range h.open {
			open[i] = fmt.Sprintf(`{"order_id":%q,"status":"open"}`, o)
		}
		if h.emptyGreet && !strings.HasSuffix(id, "-probe") {
			open = nil
		}
		fc.send <- fmt.Appendf(nil, `{"type":"connected","message":{"node_id":"fake",%s"open_orders":[%s]%s}}`,
			recovered, strings.Join(open, ","), last)
	default:
		fc.send <- fmt.Appendf(nil, `{"type":"connected","message":{"node_id":"fake","orders":[]%s}}`, last)
	}
}

// event logs a new event and returns its frame; h.mu is held.
func (h *fakeHub) event(typ, rider, message string) []byte {
	h.seq++
	frame := fmt.Appendf(nil, `{"type":%q,"id":"1000-%d","message":%s}`, typ, h.seq, message)
	h.events = append(h.events, fakeEvent{seq: h.seq, rider: rider, frame: frame})
	return frame
}

// kick closes every feed as a node does when it shuts down.
func (h *fakeHub) kick() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range []map[string]*fakeConn{h.drivers, h.users} {
		for id, c := range set {
			h.handlers.Go(func() { _ = c.c.Close(websocket.StatusGoingAway, "server shutting down") })
			delete(set, id)
		}
	}
}

func (h *fakeHub) win(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.winners[id]++
	if h.winners[id] == 1 {
		// The first winner closes the order: drivers and its rider hear.
		h.open = slices.DeleteFunc(h.open, func(o string) bool { return o == id })
		rider := h.owners[id]
		msg := fmt.Sprintf(`{"order_id":%q,"driver_id":"d","user_id":%q}`, id, rider)
		frame := h.event("order_accepted", "", msg)
		for _, c := range h.drivers {
			c.send <- frame
		}
		frame = h.event("order_accepted", rider, msg)
		if c := h.users[rider]; c != nil {
			c.send <- frame
		}
	}
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
	h.owners[id] = in.UserID
	h.open = append(h.open, id)
	// Fan out before answering, as a real hub may: bench must hold these
	// early deliveries until the answer tells it the order's id.
	frame := h.event("new_order", "", fmt.Sprintf(`{"order_id":%q,"user_id":%q,"status":"open"}`, id, in.UserID))
	if h.staleEvery > 0 && h.nextID%h.staleEvery == 0 {
		frame = bytes.Replace(frame, fmt.Appendf(nil, `"id":"1000-%d"`, h.seq), []byte(`"id":"999-0"`), 1)
	}
	for _, c := range h.drivers {
		n := h.frames.Add(1)
		if h.dropEvery > 0 && n%h.dropEvery == 0 {
			h.dropped.Add(1)
			continue
		}
		sends := 1
		if h.repeatEvery > 0 && n%h.repeatEvery == 0 {
			sends = 2
			h.repeated.Add(1)
		}
		for range sends {
			select {
			case c.send <- frame:
			default:
				h.dropped.Add(1)
			}
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
