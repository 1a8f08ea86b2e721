package server

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// TestPresenceConvergesUnderChurn connects, disconnects and reconnects the
// same few drivers and riders at random on two nodes, one of which reaches
// Redis through a proxy that delays every reply, and then checks that
// active_drivers and active_users hold exactly the ids connected somewhere,
// within two heartbeats, and keep holding them.
func TestPresenceConvergesUnderChurn(t *testing.T) {
	const heartbeat = 250 * time.Millisecond
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	proxy := redistest.StartProxy(t, srv.Addr())
	var nodes []*testHub
	for i, url := range []string{proxy.URL(), srv.URL()} {
		nodes = append(nodes, startHub(t, Config{
			NodeID:            fmt.Sprintf("p%d", i),
			RedisURL:          url,
			RedisTimeout:      faultTimeout,
			HeartbeatInterval: heartbeat,
			ProbeInterval:     2 * faultTimeout,
		}))
		waitLinked(t, nodes[i])
	}
	proxy.Delay(40 * time.Millisecond)

	type key struct {
		node int
		role Role
		id   string
	}
	conns := map[key]*wsClient{}
	path := func(k key) string {
		if k.role == RoleDriver {
			return "/ws/driver/" + k.id
		}
		return "/ws/user/" + k.id
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for range 150 {
		k := key{node: rng.IntN(2), role: RoleDriver, id: fmt.Sprintf("d%d", rng.IntN(6))}
		if rng.IntN(3) == 0 {
			k.role, k.id = RoleUser, fmt.Sprintf("u%d", rng.IntN(4))
		}
		c, open := conns[k]
		switch {
		case !open:
			conns[k] = mustDial(t, nodes[k.node].wsURL(path(k)))
		case rng.IntN(3) == 0:
			// A reconnect: the old connection vanishes, a new one opens.
			_ = c.conn.CloseNow()
			conns[k] = mustDial(t, nodes[k.node].wsURL(path(k)))
		case rng.IntN(2) == 0:
			_ = c.conn.CloseNow()
			delete(conns, k)
		default:
			_ = c.conn.Close(websocket.StatusNormalClosure, "")
			delete(conns, k)
		}
	}

	// Then about half the connections end, so that some ids must leave.
	for _, k := range slices.SortedFunc(maps.Keys(conns), func(a, b key) int {
		return cmp.Or(a.node-b.node, cmp.Compare(a.role, b.role), cmp.Compare(a.id, b.id))
	}) {
		if rng.IntN(2) == 0 {
			_ = conns[k].conn.CloseNow()
			delete(conns, k)
		}
	}

	// The truth: what each node's registry holds once every connect and
	// disconnect has reached it.
	want := map[Role]map[string]bool{RoleDriver: {}, RoleUser: {}}
	for k := range conns {
		want[k.role][k.id] = true
	}
	checkFor(t, defaultWait, pollEvery, func() error {
		for n, h := range nodes {
			for _, role := range []Role{RoleDriver, RoleUser} {
				for i := range 6 {
					id := fmt.Sprintf("%c%d", role[0], i)
					_, ok := conns[key{n, role, id}]
					if has := h.hub.has(role, id); has != ok {
						return fmt.Errorf("node %d: %s %s registered %v, connected %v", n, role, id, has, ok)
					}
				}
			}
		}
		return nil
	})
	settled := time.Now()
	same := func() error {
		for role, key := range map[Role]string{RoleDriver: "active_drivers", RoleUser: "active_users"} {
			if got := members(t, rdb, key); !maps.Equal(got, want[role]) {
				return fmt.Errorf("%s = %v, connected %v", key, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want[role])))
			}
		}
		return nil
	}
	checkFor(t, 2*heartbeat, 10*time.Millisecond, same)
	t.Logf("presence matched %d drivers and %d riders %v after the registries settled (heartbeat %v, one node's replies 40ms late)",
		len(want[RoleDriver]), len(want[RoleUser]), time.Since(settled).Round(time.Millisecond), heartbeat)
	// And it stays so through the next heartbeats' re-assertions.
	for until := time.Now().Add(2 * heartbeat); time.Now().Before(until); {
		if err := same(); err != nil {
			t.Fatalf("presence drifted after converging: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
