package hubtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/taxi-hub/taxi/contract"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// TestMain fails the package when a hub, a client's reader or a Redis
// client outlives its test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A memory-mode hub serves the order API and feeds, and is gone once its
// test has ended.
func TestMemoryHub(t *testing.T) {
	t.Parallel()
	var url string
	t.Run("serve", func(t *testing.T) {
		h := Start(t, NodeID("m1"))
		url = h.URL
		if st := h.Stats(t); st.NodeID != "m1" || st.Mode != contract.ModeMemory {
			t.Fatalf("stats: node %q, mode %q; want m1 in memory mode", st.NodeID, st.Mode)
		}
		d := h.Feed(t, contract.RoleDriver, "d1")
		d.Wait(t, contract.TypeConnected, 1)
		o := h.CreateOrder(t, "u1")
		if o.UserID != "u1" || o.Status != contract.StatusOpen {
			t.Fatalf("created %+v", o)
		}
		if got := d.Wait(t, contract.TypeNewOrder, 1)[0]; !strings.Contains(string(got.Message), o.OrderID) {
			t.Fatalf("new_order %s, want order %s", got.Message, o.OrderID)
		}
		if n, total := d.Count(contract.TypeNewOrder); n != 1 || total != len(d.Frames()) || total < 2 {
			t.Fatalf("count: %d new_order of %d frames (%d recorded)", n, total, len(d.Frames()))
		}
		// The API answers as the hub does; want is checked.
		h.Call(t, http.MethodPost, "/orders/"+o.OrderID+"/accept", "", `{"driver_id":"d1"}`, http.StatusOK)
		h.Call(t, http.MethodPost, "/orders/"+o.OrderID+"/accept", "", `{"driver_id":"d2"}`, http.StatusConflict)
		if err := Ready(h.URL); err != nil {
			t.Fatalf("ready: %v", err)
		}
	})
	if _, err := http.Get(url + "/readyz"); err == nil {
		t.Fatalf("the hub at %s still answers after its test", url)
	}
}

// With a secret the hub checks tokens, and the helpers bring the right
// ones.
func TestHubWithSecret(t *testing.T) {
	t.Parallel()
	h := Start(t, Secret("a-secret-of-16-bytes!"))
	h.Call(t, http.MethodGet, "/orders?user_id=u1", "", "", http.StatusUnauthorized)
	h.Call(t, http.MethodGet, "/orders?user_id=u1", h.Token(t, contract.RoleUser, "u1"), "", http.StatusOK)
	o := h.CreateOrder(t, "u1")
	d := h.Feed(t, contract.RoleDriver, "d1")
	var c contract.ConnectedMessage
	if err := json.Unmarshal(d.Wait(t, contract.TypeConnected, 1)[0].Message, &c); err != nil || c.OpenOrders == nil ||
		len(*c.OpenOrders) != 1 || (*c.OpenOrders)[0].OrderID != o.OrderID {
		t.Fatalf("connected %+v (%v), want order %s open", c, err, o.OrderID)
	}
	if tok := Start(t).Token(t, contract.RoleUser, "u1"); tok != "" {
		t.Fatalf("an insecure hub's token is %q, want none", tok)
	}
}

// Hubs on one Redis are linked when Start returns: an order created on one
// reaches a driver on the other.
func TestRedisHubs(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	n1 := Start(t, Redis(rs.URL()), NodeID("n1"))
	n2 := Start(t, Redis(rs.URL()), NodeID("n2"))
	rdb := rs.Client(t)
	for _, h := range []*Hub{n1, n2} {
		probe := string(contract.ProbeChannel(h.NodeID()))
		n, err := rdb.PubSubNumSub(context.Background(), probe).Result()
		if st := h.Stats(t); st.Mode != contract.ModeRedis || err != nil || n[probe] != 1 {
			t.Fatalf("node %s after Start: %s mode, %d subscribers on %s (%v)", h.NodeID(), st.Mode, n[probe], probe, err)
		}
	}
	d := n2.Feed(t, contract.RoleDriver, "d1")
	d.Wait(t, contract.TypeConnected, 1)
	o := n1.CreateOrder(t, "u1")
	if got := d.Wait(t, contract.TypeNewOrder, 1)[0]; !strings.Contains(string(got.Message), o.OrderID) {
		t.Fatalf("new_order on n2 %s, want order %s from n1", got.Message, o.OrderID)
	}

	// After an outage WaitRedis waits for the node to rejoin.
	rs.Kill()
	rs.Restart(t)
	n1.WaitRedis(t)
}

// fatalTB records a Fatalf and ends the goroutine, as the real one does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Wait stops waiting when the connection ends, and says so.
func TestWaitEndsWithConnection(t *testing.T) {
	t.Parallel()
	h := Start(t)
	d := h.Feed(t, contract.RoleDriver, "d1")
	d.Wait(t, contract.TypeConnected, 1)
	_ = d.conn.CloseNow()
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		d.Wait(tb, contract.TypeNewOrder, 1)
	}()
	<-done
	if !strings.Contains(tb.msg, "0 came before the connection ended") || time.Since(start) > Timeout/2 {
		t.Fatalf("Wait on a closed connection: %q after %v", tb.msg, time.Since(start))
	}
}

// A dead address refuses connections, and nothing else can listen on it
// while the test runs.
func TestDeadAddr(t *testing.T) {
	t.Parallel()
	addr := DeadAddr(t)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
	if err := Ready("http://" + addr); err == nil {
		t.Fatalf("Ready(%s) = nil", addr)
	}
	if runtime.GOOS == "linux" {
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			t.Fatalf("listened on the dead address %s", addr)
		}
	}
	free := FreeAddr(t)
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", free)
	if err != nil {
		t.Fatalf("listen on the free address %s: %v", free, err)
	}
	ln.Close()
}
