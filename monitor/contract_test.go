package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taxi-hub/taxi/contract"
	"github.com/taxi-hub/taxi/internal/eventually"
	"github.com/taxi-hub/taxi/internal/hubtest"
	"github.com/taxi-hub/taxi/internal/redistest"
	"github.com/taxi-hub/taxi/lockctl"
	"github.com/taxi-hub/taxi/server"
)

// This file proves that taxi lock (package lockctl) and taxi monitor read
// exactly what taxi serve writes: a real hub in Redis mode creates, accepts,
// cancels and shows orders for real clients, and the readers decode its
// Redis keys, frames and heartbeat with package contract.

const contractSecret = "a-contract-secret-of-32-bytes!!!"

// hubACL lets the hub's Redis user write only the keys package contract
// names (and read every key). It may take an acceptance lock but never
// delete one: the hub's release fails (the hub only logs it), so the lock
// it wrote stays for the readers to find until its TTL. Any write to a key
// outside the contract would fail the hub's requests, and the test.
func hubACL(t *testing.T, rdb *redis.Client, rs *redistest.Server) string {
	t.Helper()
	const user, password = "hub", "hub-password"
	args := []any{"ACL", "SETUSER", user, "on", ">" + password, "resetkeys", "resetchannels", "&*", "+@all", "%R~*"}
	for _, pattern := range []string{
		contract.OrderKeyPrefix + "*", contract.KeyOpenOrders, contract.ViewersKeyPrefix + "*",
		contract.KeyActiveDrivers, contract.KeyActiveUsers,
		contract.NodePresencePrefix(contract.RoleDriver) + "*", contract.NodePresencePrefix(contract.RoleUser) + "*",
		contract.PresenceNodesKey(contract.RoleDriver), contract.PresenceNodesKey(contract.RoleUser),
		contract.KeyNodes, contract.NodeKeyPrefix + "*", contract.UserOrdersKeyPrefix + "*",
		contract.EventsKey(contract.ChannelDrivers), contract.EventsKey(contract.ChannelUsers),
		contract.EpochKey(contract.ChannelDrivers), contract.EpochKey(contract.ChannelUsers),
		contract.KeyDriverLocations, contract.KeyDriverLocationTimes, contract.KeyRidingOrders, contract.TrackingKeyPrefix + "*",
	} {
		args = append(args, "~"+pattern)
	}
	args = append(args, "(+set ~"+contract.LockKeyPrefix+"*)")
	if err := rdb.Do(context.Background(), args...).Err(); err != nil {
		t.Fatalf("acl setuser: %v", err)
	}
	return "redis://" + user + ":" + password + "@" + rs.Addr() + "/0"
}

func TestReadersDecodeWhatServeWrites(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	ctx := context.Background()
	// Start returns once the hub is subscribed to both feed channels and
	// its probe channel.
	hub := hubtest.Start(t, hubtest.Redis(hubACL(t, rdb, rs)), hubtest.NodeID("n1"), hubtest.Secret(contractSecret),
		func(c *server.Config) { c.LockTTL = time.Minute })

	// Clients with tokens minted by contract.NewToken.
	var drivers []*contractFeed
	for _, id := range []string{"d1", "d2", "d3"} {
		drivers = append(drivers, openContractFeed(t, hub, contract.RoleDriver, id))
	}
	rider := openContractFeed(t, hub, contract.RoleUser, "u1")

	// Two drivers with a position, as the hub stores them.
	for _, id := range []string{"d1", "d2"} {
		apiCall(t, hub, "POST", "/drivers/"+id+"/location", contract.RoleDriver, id, `{"lat":52.52,"lng":13.405}`, http.StatusNoContent, nil)
	}
	var created []contract.Order
	for i := range 3 {
		var o contract.Order
		body := fmt.Sprintf(`{"user_id":"u1","pickup":{"lat":52.5%d,"lng":13.4},"dropoff":{"lat":52.4,"lng":13.45%d}}`, i, i)
		apiCall(t, hub, "POST", "/orders", contract.RoleUser, "u1", body, http.StatusCreated, &o)
		created = append(created, o)
	}
	accepted, viewed, cancelled := created[0].OrderID, created[1].OrderID, created[2].OrderID
	var want [3]contract.Order
	apiCall(t, hub, "POST", "/orders/"+accepted+"/accept", contract.RoleDriver, "d1", `{"driver_id":"d1"}`, http.StatusOK, &want[0])
	apiCall(t, hub, "POST", "/orders/"+cancelled+"/cancel", contract.RoleUser, "u1", `{"user_id":"u1"}`, http.StatusOK, &want[2])
	drivers[1].Send(t, contract.TypeViewOrder, contract.OrderRequestMessage{OrderID: viewed})
	rider.wait(t, contract.TypeOrderViewers, 1)
	apiCall(t, hub, "GET", "/orders/"+viewed, contract.RoleDriver, "d2", "", http.StatusOK, &want[1])
	if want[1].Viewers == nil || *want[1].Viewers != 1 {
		t.Fatalf("GET /orders/%s viewers = %v, want 1", viewed, want[1].Viewers)
	}
	want[1].Viewers = nil

	// Frames: every driver got every order, decoded exactly.
	for _, d := range drivers {
		news := d.wait(t, contract.TypeNewOrder, 3)
		for i, m := range news {
			if o := m.(*contract.Order); !reflect.DeepEqual(*o, created[i]) {
				t.Errorf("driver %s new_order %d = %+v, want %+v", d.id, i, *o, created[i])
			}
		}
		d.wait(t, contract.TypeOrderAccepted, 1)
		d.wait(t, contract.TypeOrderCancelled, 1)
	}
	if m := rider.wait(t, contract.TypeOrderAccepted, 1)[0].(*contract.OrderAcceptedMessage); *m != (contract.OrderAcceptedMessage{OrderID: accepted, DriverID: "d1", UserID: "u1"}) {
		t.Errorf("order_accepted = %+v", *m)
	}

	// The order hashes decode to what the API answered, and encode back to
	// the very strings the hub wrote.
	for i, w := range want {
		h := rdb.HGetAll(ctx, contract.OrderKey(w.OrderID)).Val()
		o, err := contract.DecodeOrder(h)
		if err != nil {
			t.Fatalf("decode %s: %v", contract.OrderKey(w.OrderID), err)
		}
		if !o.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("order %d created_at %v, API said %v", i, o.CreatedAt, w.CreatedAt)
		}
		o.CreatedAt, w.CreatedAt = w.CreatedAt, o.CreatedAt
		if !reflect.DeepEqual(o, w) {
			t.Errorf("order %d decodes to %+v, API said %+v", i, o, w)
		}
		written := maps.Clone(h)
		// accepted_at and cancelled_at are "<RFC 3339 time>/<token>", on
		// accepted and cancelled orders only.
		for field, status := range map[string]contract.Status{
			contract.OrderFieldAcceptedAt:  contract.StatusAccepted,
			contract.OrderFieldCancelledAt: contract.StatusCancelled,
		} {
			at, ok := written[field]
			if ok != (w.Status == status) {
				t.Errorf("order %d (%s) %s = %q, %v", i, w.Status, field, at, ok)
			} else if stamp, _, _ := strings.Cut(at, "/"); ok {
				if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil {
					t.Errorf("order %d %s: %v", i, field, err)
				}
			}
			delete(written, field)
		}
		encoded := map[string]string{}
		for k, v := range contract.OrderFields(o) {
			encoded[k] = v.(string)
		}
		if !maps.Equal(written, encoded) {
			t.Errorf("order %d: hub wrote %v, OrderFields gives %v", i, written, encoded)
		}
	}
	if open := rdb.ZRange(ctx, contract.KeyOpenOrders, 0, -1).Val(); !slices.Equal(open, []string{viewed}) {
		t.Errorf("%s = %v, want only %s", contract.KeyOpenOrders, open, viewed)
	}

	// taxi lock: the lock the hub took, the order and its viewers.
	ctl := lockctl.New(rdb)
	d, err := ctl.Show(ctx, accepted)
	if err != nil || d.Lock == nil || d.Lock.Owner != "d1" || d.Lock.TTL <= 0 || d.Lock.TTL > time.Minute {
		t.Fatalf("lockctl.Show(%s) = lock %+v, %v; want d1's lock with a TTL up to a minute", accepted, d.Lock, err)
	}
	wantOrder := lockctl.Order{OrderID: accepted, UserID: "u1", Status: contract.StatusAccepted, DriverID: "d1",
		PickupLat: want[0].Pickup.Lat, PickupLng: want[0].Pickup.Lng, DropoffLat: want[0].Dropoff.Lat, DropoffLng: want[0].Dropoff.Lng}
	if d.Order == nil || !d.Order.CreatedAt.Equal(want[0].CreatedAt) || len(d.Warnings) > 0 {
		t.Fatalf("lockctl.Show(%s) order = %+v, warnings %v", accepted, d.Order, d.Warnings)
	}
	wantOrder.CreatedAt = d.Order.CreatedAt
	if *d.Order != wantOrder {
		t.Errorf("lockctl.Show(%s) order = %+v, want %+v", accepted, *d.Order, wantOrder)
	}
	d, err = ctl.Show(ctx, viewed)
	if err != nil || d.Lock != nil || d.Order == nil || d.Order.Status != contract.StatusOpen || !slices.Equal(d.Viewers, []string{"d2"}) {
		t.Fatalf("lockctl.Show(%s) = %+v, %v; want an open order viewed by d2, without lock", viewed, d, err)
	}

	// taxi monitor: presence, channels, the lock, the viewed order and the
	// node's heartbeat, once the heartbeat counts every client.
	c, err := newCollector(Options{RedisURL: rs.URL()}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	var snap Snapshot
	eventually.Check(t, 10*time.Second, func() error {
		snap = c.Collect(ctx)
		if len(snap.Nodes) != 1 || snap.Nodes[0].Heartbeat == nil || snap.Nodes[0].Heartbeat.Drivers != 3 || snap.Nodes[0].Heartbeat.Users != 1 {
			return fmt.Errorf("nodes %+v: want n1 beating with 3 drivers and 1 rider", snap.Nodes)
		}
		return nil
	})
	r := snap.Redis
	if r.Error != "" || len(r.Warnings) > 0 || r.ActiveDrivers != 3 || r.ActiveUsers != 1 {
		t.Errorf("redis snapshot: error %q, warnings %v, %d drivers, %d riders; want 3 and 1", r.Error, r.Warnings, r.ActiveDrivers, r.ActiveUsers)
	}
	if r.LocatedDrivers != 2 || r.Rides != 1 {
		t.Errorf("redis snapshot: %d located drivers, %d rides; want 2 and 1 (d1's)", r.LocatedDrivers, r.Rides)
	}
	wantChannels := []Channel{{string(contract.ChannelDrivers), 1}, {string(contract.ChannelUsers), 1}}
	if !slices.Equal(r.Channels, wantChannels) {
		t.Errorf("channels %+v, want %+v", r.Channels, wantChannels)
	}
	if r.Locks.Total != 1 || len(r.Locks.Items) != 1 || r.Locks.Items[0].OrderID != accepted || r.Locks.Items[0].Owner != "d1" {
		t.Errorf("locks %+v, want d1's lock on %s", r.Locks, accepted)
	}
	wantViewed := []ViewedOrder{{OrderID: viewed, Viewers: 1, Status: string(contract.StatusOpen), UserID: "u1"}}
	if !slices.Equal(r.Viewed.Top, wantViewed) {
		t.Errorf("viewed %+v, want %+v", r.Viewed.Top, wantViewed)
	}
	n := snap.Nodes[0]
	host, _ := os.Hostname()
	hb := *n.Heartbeat
	if !n.Up || hb.NodeID != "n1" || hb.StatsURL != hub.URL+"/ws/stats" || hb.Mode != contract.ModeRedis ||
		hb.Version != server.Version || hb.Hostname != host || hb.PID != os.Getpid() ||
		time.Since(hb.StartedAt) > time.Minute || time.Since(hb.UpdatedAt) > time.Minute {
		t.Errorf("node %+v, heartbeat %+v", n, hb)
	}
	raw, err := rdb.Get(ctx, contract.NodeKey("n1")).Bytes()
	if err != nil {
		t.Fatalf("read heartbeat: %v", err)
	}
	decodeExactly(t, raw, &contract.NodeHeartbeat{})

	// The presence the hub keeps beside the contract sets.
	for _, k := range []struct {
		key  string
		want []string
	}{
		{contract.NodePresenceKey(contract.RoleDriver, "n1"), []string{"d1", "d2", "d3"}},
		{contract.NodePresenceKey(contract.RoleUser, "n1"), []string{"u1"}},
		{contract.PresenceNodesKey(contract.RoleDriver), []string{"n1"}},
		{contract.PresenceNodesKey(contract.RoleUser), []string{"n1"}},
		{contract.KeyNodes, []string{"n1"}},
	} {
		got := rdb.SMembers(ctx, k.key).Val()
		slices.Sort(got)
		if !slices.Equal(got, k.want) {
			t.Errorf("%s = %v, want %v", k.key, got, k.want)
		}
	}
}

// The secret rule of contract.NewToken is the one taxi serve applies, so
// taxi token never mints a token that serve would refuse to check.
func TestTokenSecretRuleIsServes(t *testing.T) {
	t.Parallel()
	for n := range 2 * contract.MinSecretLen {
		secret := strings.Repeat("s", n)
		_, serveErr := server.New(server.Config{NodeID: "n1", AuthSecret: secret})
		_, mintErr := contract.NewToken(secret, contract.RoleDriver, "d1", time.Minute)
		if (serveErr == nil) != (mintErr == nil) {
			t.Errorf("secret of %d bytes: serve says %v, NewToken says %v", n, serveErr, mintErr)
		}
	}
}

// apiCall makes one order API call as role/id with a contract token, checks
// the status, and decodes the answer exactly into out.
func apiCall(t *testing.T, hub *hubtest.Hub, method, path string, role contract.Role, id, body string, status int, out any) {
	t.Helper()
	data := hub.Call(t, method, path, hub.Token(t, role, id), body, status)
	if out != nil {
		decodeExactly(t, data, out)
	}
}

// decodeExactly decodes data into v, refusing fields v does not have, and
// checks that v encodes back to the same JSON: nothing the hub wrote is
// unknown to the contract, lost or renamed.
func decodeExactly(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s into %T: %v", data, v, err)
	}
	back, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var wrote, reencoded any
	if err := json.Unmarshal(data, &wrote); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(back, &reencoded); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(wrote, reencoded) {
		t.Fatalf("%T does not round-trip:\n hub wrote %s\nre-encoded %s", v, data, back)
	}
}

// contractMessage returns a new message of the type a frame of typ carries.
func contractMessage(typ string) any {
	switch typ {
	case contract.TypeConnected:
		return &contract.ConnectedMessage{}
	case contract.TypeNewOrder:
		return &contract.Order{}
	case contract.TypeOrderAccepted:
		return &contract.OrderAcceptedMessage{}
	case contract.TypeOrderCancelled:
		return &contract.OrderCancelledMessage{}
	case contract.TypeOrderViewers:
		return &contract.OrderViewersMessage{}
	case contract.TypeOpenOrders:
		return &contract.OpenOrdersMessage{}
	case contract.TypeAcceptResult:
		return &contract.AcceptResultMessage{}
	case contract.TypeError:
		return &contract.ErrorMessage{}
	}
	return nil
}

// contractFeed is a driver's or rider's WebSocket whose frames are decoded
// exactly with the contract's types.
type contractFeed struct {
	*hubtest.Client
	id string
}

// openContractFeed connects id as role with a token (minted by
// contract.NewToken) in the URL and checks the connected frame.
func openContractFeed(t *testing.T, hub *hubtest.Hub, role contract.Role, id string) *contractFeed {
	t.Helper()
	f := &contractFeed{Client: hub.Feed(t, role, id), id: id}
	m := f.wait(t, contract.TypeConnected, 1)[0].(*contract.ConnectedMessage)
	if m.NodeID != "n1" || m.Role != role || m.ID != id || (m.OpenOrders != nil) != (role == contract.RoleDriver) {
		t.Fatalf("connected frame of %s %s: %+v", role, id, *m)
	}
	return f
}

// wait returns the messages of the first n frames of typ, waiting for them,
// after decoding every frame received so far exactly.
func (f *contractFeed) wait(t *testing.T, typ string, n int) []any {
	t.Helper()
	var out []any
	eventually.Check(t, 10*time.Second, func() error {
		out = out[:0]
		for _, data := range f.Frames() {
			var env contract.Envelope
			decodeExactly(t, data, &env)
			msg := contractMessage(env.Type)
			if msg == nil {
				t.Fatalf("%s got a frame of unknown type: %s", f.id, data)
			}
			decodeExactly(t, env.Message, msg)
			if env.Type == typ && len(out) < n {
				out = append(out, msg)
			}
		}
		if len(out) < n {
			return fmt.Errorf("%s has %d %s frames, want %d", f.id, len(out), typ, n)
		}
		return nil
	})
	return out
}
