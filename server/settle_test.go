package server

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/redistest"
)

// TestLateReplyStillPublishes is a state change whose reply from Redis comes
// after --redis-timeout (here late enough that the node also degrades): the
// caller hears 503, but the change took effect, so its event must still
// reach every client concerned, once.
func TestLateReplyStillPublishes(t *testing.T) {
	// An accept's lock is taken before its script runs, so with every
	// reply late the accept fails before it changes anything; the settler
	// handles a late reply of the accept script the same way as cancel's.
	for _, op := range []string{"cancel"} {
		t.Run(op, func(t *testing.T) {
			srv := redistest.Start(t)
			proxy := redistest.StartProxy(t, srv.Addr())
			slow := startBehind(t, "slow", proxy.URL())
			other := startBehind(t, "other", srv.URL())
			d := mustDial(t, other.wsURL("/ws/driver/watcher"))
			d.next(t, TypeConnected, nil)
			rider := mustDial(t, other.wsURL("/ws/user/u1"))
			rider.next(t, TypeConnected, nil)
			// Load the scripts: a late NOSCRIPT reply would mean the
			// change never ran, which is not the case under test.
			warm := other.createOrder(t, "u1")
			slow.request(t, "POST", "/orders/"+warm.OrderID+"/accept", "", map[string]string{"driver_id": "d0"}, nil)
			warm = other.createOrder(t, "u1")
			slow.request(t, "POST", "/orders/"+warm.OrderID+"/cancel", "", map[string]string{"user_id": "u1"}, nil)
			o := other.createOrder(t, "u1")
			for {
				var n Order
				d.next(t, TypeNewOrder, &n)
				if n.OrderID == o.OrderID {
					break
				}
			}
			d.drain(t, 200*time.Millisecond)
			rider.drain(t, 200*time.Millisecond)

			proxy.Delay(faultTimeout * 3 / 2)
			var e errorBody
			var code int
			if op == "cancel" {
				code = slow.request(t, "POST", "/orders/"+o.OrderID+"/cancel", "", map[string]string{"user_id": "u1"}, &e)
			} else {
				code = slow.request(t, "POST", "/orders/"+o.OrderID+"/accept", "", map[string]string{"driver_id": "d1"}, &e)
			}
			if code != http.StatusServiceUnavailable {
				// The reply came in time after all: nothing to test.
				t.Skipf("%s answered %d %+v with replies late", op, code, e)
			}
			proxy.Delay(0)
			want := map[string]string{"cancel": TypeOrderCancelled, "accept": TypeOrderAccepted}[op]
			for name, c := range map[string]*wsClient{"driver": d, "rider": rider} {
				var got struct {
					OrderID string `json:"order_id"`
				}
				c.next(t, want, &got)
				if got.OrderID != o.OrderID {
					t.Fatalf("%s got %s for %s", name, want, got.OrderID)
				}
				for _, f := range c.drain(t, 300*time.Millisecond) {
					var m struct {
						OrderID string `json:"order_id"`
					}
					_ = json.Unmarshal(f.Message, &m)
					if f.Type == want && m.OrderID == o.OrderID {
						t.Fatalf("%s got %s twice", name, want)
					}
				}
			}
		})
	}
}
