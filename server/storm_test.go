package server

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// TestConnectStormIsAbsorbed connects 300 drivers at the same instant to a
// Redis-mode node with 2,000 open orders, as when another node leaves:
// the node does not mistake the burst for an outage, and every driver is
// either greeted with every open order or closed with 1013 to reconnect,
// within a bounded time.
func TestConnectStormIsAbsorbed(t *testing.T) {
	const drivers, open = 300, 2000
	srv := redistest.Start(t)
	h := startNodes(t, srv.URL(), 1)[0]
	orders := h.cluster.failover.redis.orders
	var wg sync.WaitGroup
	errs := make(chan error, open)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < open; i += 8 {
				if err := orders.Create(context.Background(), testOrder(fmt.Sprintf("storm-%04d", i), "u1")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	type outcome struct {
		orders int // open orders in the connected frame; -1 when closed 1013
		took   time.Duration
		err    error
	}
	outcomes := make(chan outcome, drivers)
	start := make(chan struct{})
	began := time.Now()
	for i := range drivers {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			n, err := greetOne(h.wsURL(fmt.Sprintf("/ws/driver/s%d", i)))
			outcomes <- outcome{orders: n, took: time.Since(t0), err: err}
		})
	}
	close(start)
	wg.Wait()
	close(outcomes)
	elapsed := time.Since(began)

	greeted, later := 0, 0
	var slowest time.Duration
	for o := range outcomes {
		switch {
		case o.err != nil:
			t.Error(o.err)
		case o.orders == -1:
			later++
		case o.orders != open:
			t.Errorf("a driver was greeted with %d open orders of %d", o.orders, open)
		default:
			greeted++
		}
		slowest = max(slowest, o.took)
	}
	t.Logf("%d drivers at once, %d open orders: %d greeted with every order, %d closed 1013, all answered in %v (slowest %v)",
		drivers, open, greeted, later, elapsed.Round(time.Millisecond), slowest.Round(time.Millisecond))
	// A driver waits at most greetWait for a slot, and its greeting is
	// bounded by greetWait too; the rest is for a loaded machine.
	if bound := 3 * greetWait; elapsed > bound {
		t.Errorf("the storm took %v to answer, more than %v", elapsed, bound)
	}
	st := statsOf(t, h)
	if st.Mode != "redis" || st.Redis.Outages != 0 {
		t.Fatalf("the storm was taken for an outage: mode %s, redis %+v", st.Mode, st.Redis)
	}
	if n := st.Counters.ConnectionsClosed["greet_failed"]; n != int64(later) {
		t.Fatalf("greet_failed = %d, drivers closed with 1013 = %d", n, later)
	}
}

// greetOne connects a driver at url, reads its first frame and ends the
// connection. It returns how many open orders the connected frame lists,
// or -1 when the node closed the connection with 1013 instead. It reads
// the frame without decoding it (300 drivers each receive the same 2,000
// orders) and counts their ids.
func greetOne(url string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*greetWait)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return 0, fmt.Errorf("dial %s: %w", url, err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 24)
	_, data, err := conn.Read(ctx)
	if err != nil {
		if code := websocket.CloseStatus(err); code != websocket.StatusTryAgainLater {
			return 0, fmt.Errorf("closed before connected with %v: %w", code, err)
		}
		return -1, nil
	}
	if !bytes.HasPrefix(data, []byte(`{"type":"connected"`)) {
		return 0, fmt.Errorf("first frame %.100s", data)
	}
	if bytes.Contains(data, []byte(`"incomplete":true`)) || !bytes.Contains(data, []byte(`"open_orders":[`)) {
		return 0, fmt.Errorf("connected frame without a complete list: %.200s", data)
	}
	return bytes.Count(data, []byte(`"order_id":`)), nil
}
