package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// TestRaceLosersHearOrderTaken races 100 drivers over 3 nodes for one
// order, over HTTP and over their feeds: exactly one wins, and every loser
// hears order_taken, never order_locked: the race is decided by the time
// they hear of it.
func TestRaceLosersHearOrderTaken(t *testing.T) {
	const racers = 100
	srv := redistest.Start(t)
	nodes := startNodes(t, srv.URL(), 3)

	t.Run("http", func(t *testing.T) {
		for round := range 3 {
			o := nodes[round].createOrder(t, "u1")
			replies := make([]reply, racers)
			errs := make([]error, racers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range racers {
				wg.Go(func() {
					<-start
					replies[i], errs[i] = call(nodes[i%3], "POST", "/orders/"+o.OrderID+"/accept", map[string]string{"driver_id": fmt.Sprintf("h%d", i)})
				})
			}
			close(start)
			wg.Wait()
			won, reasons := 0, map[string]int{}
			for i, r := range replies {
				switch {
				case errs[i] != nil:
					t.Fatal(errs[i])
				case r.status == http.StatusOK:
					won++
				default:
					reasons[fmt.Sprintf("%d %s", r.status, r.errorCode())]++
				}
			}
			if won != 1 || reasons["409 order_taken"] != racers-1 {
				t.Fatalf("round %d: %d winners; losers heard %v", round, won, reasons)
			}
		}
	})

	t.Run("feeds", func(t *testing.T) {
		var drivers []*wsClient
		for i, h := range nodes {
			drivers = append(drivers, dialMany(t, h, fmt.Sprintf("w%d-", i), racers/3+1)...)
		}
		drivers = drivers[:racers]
		for round := range 2 {
			o := nodes[round].createOrder(t, "u1")
			for _, d := range drivers {
				d.next(t, TypeNewOrder, nil)
			}
			frame, _ := json.Marshal(map[string]any{"type": TypeAcceptOrder, "message": map[string]string{"order_id": o.OrderID}})
			errs := make([]error, racers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, d := range drivers {
				wg.Go(func() {
					<-start
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					errs[i] = d.conn.Write(ctx, websocket.MessageText, frame)
				})
			}
			close(start)
			wg.Wait()
			won, reasons := 0, map[string]int{}
			for i, d := range drivers {
				if errs[i] != nil {
					t.Fatalf("driver %d: send accept_order: %v", i, errs[i])
				}
				var res AcceptResultMessage
				d.next(t, TypeAcceptResult, &res)
				if res.OrderID != o.OrderID {
					t.Fatalf("driver %d: accept_result for %s, want %s", i, res.OrderID, o.OrderID)
				}
				if res.Accepted {
					won++
				} else {
					reasons[res.Reason]++
				}
				d.next(t, TypeOrderAccepted, nil)
			}
			if won != 1 || reasons["order_taken"] != racers-1 {
				t.Fatalf("round %d: %d winners; losers heard %v", round, won, reasons)
			}
		}
	})
}
