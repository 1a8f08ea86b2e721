package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// TestShutdownClientsResumeOnAnotherNode is a node that shuts down (close
// 1001) while orders keep changing on another node: each of its drivers and
// riders reconnects to the other node with the last event id it saw, gets
// "recovered": true, and over its two connections receives exactly the log
// filtered to it: nothing missed, nothing twice, in order.
func TestShutdownClientsResumeOnAnotherNode(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	nodes := startNodes(t, srv.URL(), 2)
	leaving, staying := nodes[0], nodes[1]

	// Both logs have an event, so every connected frame carries an id to
	// resume from.
	first := staying.createOrder(t, "u0")
	staying.request(t, "POST", "/orders/"+first.OrderID+"/cancel", "", map[string]string{"user_id": "u0"}, nil)

	type member struct {
		role   Role
		id     string
		path   string
		start  string // last_event_id of the first connection
		frames []Envelope
	}
	var members []*member
	var conns []*wsClient
	for i := range 8 {
		members = append(members, &member{role: RoleDriver, id: fmt.Sprintf("d%d", i)})
	}
	for i := range 4 {
		members = append(members, &member{role: RoleUser, id: fmt.Sprintf("u%d", i)})
	}
	for _, m := range members {
		m.path = "/ws/" + map[Role]string{RoleDriver: "driver", RoleUser: "user"}[m.role] + "/" + m.id
		c := mustDial(t, leaving.wsURL(m.path))
		var hello ConnectedMessage
		c.next(t, TypeConnected, &hello)
		if hello.LastEventID == "" {
			t.Fatalf("%s %s: connected without last_event_id", m.role, m.id)
		}
		m.start = hello.LastEventID
		conns = append(conns, c)
	}

	// Orders change on the staying node before, during and after the
	// shutdown, and until every client is back.
	traffic := startTraffic(t, staying, 4)
	traffic.waitOps(t, 20)

	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := leaving.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for i, m := range members {
		frames, code := conns[i].untilClosed(t)
		if code != websocket.StatusGoingAway {
			t.Fatalf("%s %s closed with %v, want 1001", m.role, m.id, code)
		}
		m.frames = frames
	}
	traffic.waitOps(t, traffic.ops()+20)

	for n, m := range members {
		since := m.start
		if ids := eventIDs(m.frames); len(ids) > 0 {
			since = ids[len(ids)-1]
		}
		c := mustDial(t, staying.wsURL(m.path+"?since="+url.QueryEscape(since)))
		var hello connectedFrame
		c.next(t, TypeConnected, &hello)
		if hello.Recovered == nil || !*hello.Recovered {
			t.Fatalf("%s %s resuming from %s: recovered %v", m.role, m.id, since, hello.Recovered)
		}
		if hello.OpenOrders != nil || hello.Orders != nil {
			t.Fatalf("%s %s: a recovered connected frame carries a snapshot", m.role, m.id)
		}
		conns[n] = c
	}
	traffic.waitOps(t, traffic.ops()+20)
	traffic.stop(t)
	waitLinked(t, staying)

	for i, m := range members {
		got := append(eventIDs(m.frames), eventIDs(conns[i].drain(t, 500*time.Millisecond))...)
		want := idsAfter(t, logFor(t, rdb, channelOf(m.role), m.role, m.id), m.start)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s %s over two connections received %d events\n%v\nthe log after %s has %d\n%v",
				m.role, m.id, len(got), got, m.start, len(want), want)
		}
		if len(want) == 0 {
			t.Fatalf("%s %s: no event reached it; the test proves nothing", m.role, m.id)
		}
	}
	t.Logf("%d operations on the staying node; each client's events matched the log", traffic.ops())
}

// traffic creates, accepts and cancels orders of riders u0..u{riders-1}
// on one node from a goroutine of its own, until stop.
type traffic struct {
	h    *testHub
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	n    int
	errs []error
}

// startTraffic starts the traffic goroutine; it ends with stop, or when the
// test ends.
func startTraffic(t *testing.T, h *testHub, riders int) *traffic {
	tr := &traffic{h: h, done: make(chan struct{})}
	tr.wg.Add(1)
	go tr.run(riders)
	t.Cleanup(func() { tr.stop(t) })
	return tr
}

// run loops through create, then accept or cancel, at most 2,000 times.
func (tr *traffic) run(riders int) {
	defer tr.wg.Done()
	for n := range 2000 {
		select {
		case <-tr.done:
			return
		default:
		}
		user := fmt.Sprintf("u%d", n%riders)
		var o Order
		body := map[string]any{"user_id": user, "pickup": Point{Lat: 1, Lng: 2}, "dropoff": Point{Lat: 3, Lng: 4}}
		code, err := tryRequest(tr.h, "POST", "/orders", body, &o)
		if err == nil && code != http.StatusCreated {
			err = fmt.Errorf("create order: status %d", code)
		}
		if err == nil {
			switch n % 3 {
			case 0:
				code, err = tryRequest(tr.h, "POST", "/orders/"+o.OrderID+"/accept", map[string]string{"driver_id": "dx"}, nil)
			case 1:
				code, err = tryRequest(tr.h, "POST", "/orders/"+o.OrderID+"/cancel", map[string]string{"user_id": user}, nil)
			default:
				code = http.StatusOK // stays open
			}
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("change order %s: status %d", o.OrderID, code)
			}
		}
		tr.mu.Lock()
		tr.n++
		if err != nil {
			tr.errs = append(tr.errs, err)
		}
		tr.mu.Unlock()
	}
}

func (tr *traffic) ops() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.n
}

// waitOps waits until n operations are done.
func (tr *traffic) waitOps(t *testing.T, n int) {
	t.Helper()
	checkFor(t, 30*time.Second, pollEvery, func() error {
		if got := tr.ops(); got < n {
			return fmt.Errorf("%d of %d operations", got, n)
		}
		return nil
	})
}

// stop ends the traffic and fails the test if any operation failed. It is
// safe to call twice.
func (tr *traffic) stop(t *testing.T) {
	t.Helper()
	select {
	case <-tr.done:
	default:
		close(tr.done)
	}
	tr.wg.Wait()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, err := range tr.errs {
		t.Errorf("traffic: %v", err)
	}
	tr.errs = nil
}
