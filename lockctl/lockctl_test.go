package lockctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taxi-hub/taxi/internal/hubtest"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// longTTL outlives any test, so a lock "with TTL" never expires mid-test.
const longTTL = 10 * time.Minute

func newController(t *testing.T) (*Controller, *redis.Client, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	return New(rdb), rdb, srv
}

// seedLocks creates n locks order_lock:<i> owned by driver-<i%7>, pipelined
// in batches; stale(i) chooses the ones without expiry.
func seedLocks(t *testing.T, rdb redis.Cmdable, n int, stale func(i int) bool) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 1000 {
		pipe := rdb.Pipeline()
		for i := start; i < min(start+1000, n); i++ {
			ttl := longTTL
			if stale(i) {
				ttl = 0
			}
			pipe.Set(ctx, LockKey(fmt.Sprint(i)), fmt.Sprintf("driver-%d", i%7), ttl)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("seed locks: %v", err)
		}
	}
}

func odd(i int) bool { return i%2 == 1 }

// collect lists with f and returns the locks by order id, checking that
// Totals agree with what the callback saw.
func collect(t *testing.T, ctl *Controller, f Filter) (map[string]Lock, Totals) {
	t.Helper()
	got := map[string]Lock{}
	calls, stale := 0, 0
	totals, err := ctl.List(context.Background(), f, func(l Lock) error {
		calls++
		if l.Stale() {
			stale++
		}
		got[l.OrderID] = l
		return nil
	})
	if err != nil {
		t.Fatalf("List(%+v): %v", f, err)
	}
	if totals.Matched != calls || totals.Stale != stale {
		t.Fatalf("Totals %+v disagree with %d callbacks, %d stale", totals, calls, stale)
	}
	return got, totals
}

// checkTenThousand asserts the listing of seedLocks(10000, odd) under f.
func checkTenThousand(t *testing.T, ctl *Controller) {
	t.Helper()
	const n = 10000
	all, totals := collect(t, ctl, Filter{})
	if len(all) != n {
		t.Fatalf("listed %d distinct locks, want %d (totals %+v)", len(all), n, totals)
	}
	// SCAN may repeat a key while Redis rehashes, never miss one.
	if totals.Matched < n || totals.Scanned < n {
		t.Fatalf("totals %+v, want at least %d matched and scanned", totals, n)
	}
	for i := range n {
		l, ok := all[fmt.Sprint(i)]
		if !ok {
			t.Fatalf("order %d missing from the list", i)
		}
		if want := fmt.Sprintf("driver-%d", i%7); l.Owner != want {
			t.Fatalf("order %d owner %q, want %q", i, l.Owner, want)
		}
		if odd(i) != l.Stale() {
			t.Fatalf("order %d stale=%v ttl=%v, want stale=%v", i, l.Stale(), l.TTL, odd(i))
		}
		if !l.Stale() && (l.TTL <= 0 || l.TTL > longTTL) {
			t.Fatalf("order %d TTL %v, want within (0, %v]", i, l.TTL, longTTL)
		}
	}

	stale, _ := collect(t, ctl, Filter{Stale: true})
	if len(stale) != n/2 {
		t.Fatalf("--stale listed %d, want %d", len(stale), n/2)
	}
	for id, l := range stale {
		if !l.Stale() {
			t.Fatalf("--stale listed %s with TTL %v", id, l.TTL)
		}
	}

	owned, _ := collect(t, ctl, Filter{Owner: "driver-3"})
	want := 0
	for i := range n {
		if i%7 == 3 {
			want++
		}
	}
	if len(owned) != want {
		t.Fatalf("--owner driver-3 listed %d, want %d", len(owned), want)
	}

	both, _ := collect(t, ctl, Filter{Owner: "driver-3", Stale: true})
	for id, l := range both {
		if l.Owner != "driver-3" || !l.Stale() {
			t.Fatalf("--owner driver-3 --stale listed %s: %+v", id, l)
		}
	}
	if len(both) == 0 || len(both) >= len(owned) {
		t.Fatalf("--owner --stale listed %d of %d owned, want a strict non-empty subset", len(both), len(owned))
	}

	one, totals := collect(t, ctl, Filter{OrderID: "42"})
	if len(one) != 1 || one["42"].Owner != "driver-0" || one["42"].Stale() || totals.Scanned != 1 {
		t.Fatalf("--order 42 = %+v (totals %+v), want only order 42 read directly", one, totals)
	}
	none, _ := collect(t, ctl, Filter{OrderID: "no-such-order"})
	if len(none) != 0 {
		t.Fatalf("--order no-such-order listed %+v", none)
	}
}

func TestListTenThousandLocks(t *testing.T) {
	t.Parallel()
	ctl, rdb, _ := newController(t)
	ctx := context.Background()
	seedLocks(t, rdb, 10000, odd)
	// Neighbouring keys that are not locks must not be listed as locks.
	rdb.HSet(ctx, "order:1", "status", "open")
	rdb.SAdd(ctx, "order_viewers:1", "driver-1")
	rdb.Set(ctx, "order_lockout", "x", 0)
	checkTenThousand(t, ctl)
}

func TestListCountsKeysThatAreNotLocks(t *testing.T) {
	t.Parallel()
	ctl, rdb, _ := newController(t)
	rdb.HSet(context.Background(), LockKey("77"), "owner", "driver-1")
	seedLocks(t, rdb, 3, func(int) bool { return false })
	_, totals := collect(t, ctl, Filter{})
	if totals.NotLocks != 1 || totals.Matched != 3 {
		t.Fatalf("totals %+v, want 3 locks and 1 key that is not a lock", totals)
	}
}

func TestListStopsAtCallbackError(t *testing.T) {
	t.Parallel()
	ctl, rdb, _ := newController(t)
	seedLocks(t, rdb, 3000, odd)
	stop := errors.New("reader went away")
	calls := 0
	totals, err := ctl.List(context.Background(), Filter{}, func(Lock) error {
		calls++
		if calls == 5 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Fatalf("List error = %v, want the callback's error as is", err)
	}
	if calls != 5 || totals.Matched != 5 {
		t.Fatalf("callback ran %d times (totals %+v) after it failed, want 5", calls, totals)
	}
}

func TestLockJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lock Lock
		want string
	}{
		{Lock{OrderID: "8121", Owner: "driver-7", TTL: 4200 * time.Millisecond},
			`{"order_id":"8121","key":"order_lock:8121","owner":"driver-7","ttl_ms":4200,"stale":false}`},
		{Lock{OrderID: "8121", Owner: "driver-7", TTL: NoExpiry},
			`{"order_id":"8121","key":"order_lock:8121","owner":"driver-7","ttl_ms":-1,"stale":true}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.lock)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("json.Marshal(%+v) = %s, want %s", tt.lock, b, tt.want)
		}
	}
}

func TestShow(t *testing.T) {
	t.Parallel()
	ctl, rdb, _ := newController(t)
	ctx := context.Background()
	created := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	rdb.HSet(ctx, "order:8121", map[string]any{
		"order_id": "8121", "user_id": "rider-5", "status": "open", "driver_id": "",
		"pickup_lat": "52.52", "pickup_lng": "13.405", "dropoff_lat": "oops", "dropoff_lng": "13.3",
		"created_at": created.Format(time.RFC3339Nano),
	})
	rdb.SAdd(ctx, "order_viewers:8121", "driver-9", "driver-2")
	rdb.Set(ctx, LockKey("8121"), "driver-2", 0)

	d, err := ctl.Show(ctx, "8121")
	if err != nil {
		t.Fatalf("Show: %v", err)
	}
	if d.Lock == nil || d.Lock.Owner != "driver-2" || !d.Lock.Stale() {
		t.Fatalf("lock = %+v, want a stale lock held by driver-2", d.Lock)
	}
	o := d.Order
	if o == nil || o.UserID != "rider-5" || o.Status != "open" || o.DriverID != "" ||
		o.PickupLat != 52.52 || o.PickupLng != 13.405 || o.DropoffLng != 13.3 || !o.CreatedAt.Equal(created) {
		t.Fatalf("order = %+v", o)
	}
	if strings.Join(d.Viewers, ",") != "driver-2,driver-9" {
		t.Fatalf("viewers = %v, want sorted driver-2,driver-9", d.Viewers)
	}
	// A damaged field is reported, never fatal.
	if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "dropoff_lat") {
		t.Fatalf("warnings = %v, want one about dropoff_lat", d.Warnings)
	}

	empty, err := ctl.Show(ctx, "404")
	if err != nil || empty.Lock != nil || empty.Order != nil || len(empty.Viewers) != 0 {
		t.Fatalf("Show(404) = %+v, %v; want an empty detail", empty, err)
	}
}

func TestClearOwnerMismatchLeavesKey(t *testing.T) {
	t.Parallel()
	ctl, rdb, _ := newController(t)
	ctx := context.Background()
	rdb.Set(ctx, LockKey("8121"), "driver-1", longTTL)

	r, err := ctl.Clear(ctx, "8121", ClearOptions{Owner: "driver-2", Actor: "alice"})
	if !errors.Is(err, ErrOwnerDiffers) || r.Outcome != OwnerDiffers || r.Owner != "driver-1" {
		t.Fatalf("Clear = %+v, %v; want owner_differs naming driver-1", r, err)
	}
	if got := rdb.Get(ctx, LockKey("8121")).Val(); got != "driver-1" {
		t.Fatalf("lock now %q, want it left to driver-1", got)
	}
	if ttl := rdb.PTTL(ctx, LockKey("8121")).Val(); ttl <= 0 {
		t.Fatalf("lock TTL now %v, want it untouched", ttl)
	}
}

func TestLockRetakenBetweenShowAndClearSurvives(t *testing.T) {
	t.Parallel()
	ctl, rdb, _ := newController(t)
	ctx := context.Background()
	rdb.Set(ctx, LockKey("8121"), "driver-1", 0)

	d, err := ctl.Show(ctx, "8121")
	if err != nil || d.Lock == nil {
		t.Fatalf("Show: %+v, %v", d, err)
	}
	// Meanwhile the stuck lock is released and another driver accepts.
	rdb.Del(ctx, LockKey("8121"))
	rdb.SetNX(ctx, LockKey("8121"), "driver-2", 5*time.Second)

	r, err := ctl.Clear(ctx, "8121", ClearOptions{Owner: d.Lock.Owner, Actor: "alice"})
	if !errors.Is(err, ErrOwnerDiffers) {
		t.Fatalf("Clear after re-take = %+v, %v; want ErrOwnerDiffers", r, err)
	}
	if got := rdb.Get(ctx, LockKey("8121")).Val(); got != "driver-2" {
		t.Fatalf("lock now %q, want driver-2's new lock to survive", got)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	ctl, rdb, _ := newController(t)
	ctx := context.Background()
	rdb.Set(ctx, LockKey("1"), "driver-1", longTTL)
	rdb.Set(ctx, LockKey("2"), "driver-2", 0)

	r, err := ctl.Clear(ctx, "1", ClearOptions{DryRun: true, Actor: "alice"})
	if err != nil || r.Outcome != WouldClear || r.Owner != "driver-1" || r.TTL <= 0 || r.AuditID != "" {
		t.Fatalf("dry-run Clear = %+v, %v", r, err)
	}
	var seen []Result
	totals, err := ctl.ClearStale(ctx, ClearOptions{DryRun: true}, func(r Result) error {
		seen = append(seen, r)
		return nil
	})
	if err != nil || totals != (ClearTotals{Found: 1}) || len(seen) != 1 || seen[0].Outcome != WouldClear || seen[0].OrderID != "2" {
		t.Fatalf("dry-run ClearStale = %+v %+v, %v", totals, seen, err)
	}

	if rdb.Get(ctx, LockKey("1")).Val() != "driver-1" || rdb.PTTL(ctx, LockKey("1")).Val() <= 0 {
		t.Fatal("dry run changed lock 1")
	}
	if rdb.Get(ctx, LockKey("2")).Val() != "driver-2" || rdb.PTTL(ctx, LockKey("2")).Val() != -1 {
		t.Fatal("dry run changed lock 2")
	}
	if n := rdb.Exists(ctx, AuditStream).Val(); n != 0 {
		t.Fatal("dry run wrote to the audit stream")
	}
}

func TestClearRecordsAudit(t *testing.T) {
	t.Parallel()
	ctl, rdb, _ := newController(t)
	ctx := context.Background()
	rdb.Set(ctx, LockKey("8121"), "driver-1", 0)
	before := time.Now()

	r, err := ctl.Clear(ctx, "8121", ClearOptions{Actor: "alice"})
	if err != nil || r.Outcome != Cleared || r.Owner != "driver-1" || r.TTL != NoExpiry || r.AuditID == "" {
		t.Fatalf("Clear = %+v, %v", r, err)
	}
	if n := rdb.Exists(ctx, LockKey("8121")).Val(); n != 0 {
		t.Fatal("lock still there after Clear")
	}
	// A second attempt finds nothing, and is recorded too.
	r2, err := ctl.Clear(ctx, "8121", ClearOptions{Owner: "driver-1", Actor: "bob"})
	if !errors.Is(err, ErrLockNotFound) || r2.Outcome != NotFound {
		t.Fatalf("second Clear = %+v, %v; want ErrLockNotFound", r2, err)
	}

	recs, err := ctl.Audit(ctx, 10)
	if err != nil || len(recs) != 2 {
		t.Fatalf("Audit = %+v, %v; want 2 records", recs, err)
	}
	newest, first := recs[0], recs[1]
	if newest.Outcome != NotFound || newest.Actor != "bob" || newest.ExpectedOwner != "driver-1" {
		t.Fatalf("newest record = %+v", newest)
	}
	host := ctl.host
	if first.ID != r.AuditID || first.Actor != "alice" || first.Host != host || first.Key != "order_lock:8121" ||
		first.OrderID != "8121" || first.Owner != "driver-1" || first.TTL != NoExpiry || first.Outcome != Cleared ||
		first.ExpectedOwner != "" || first.Time.Before(before.Add(-time.Second)) || time.Since(first.Time) > time.Minute {
		t.Fatalf("first record = %+v", first)
	}
	if one, _ := ctl.Audit(ctx, 1); len(one) != 1 || one[0].ID != newest.ID {
		t.Fatalf("Audit(1) = %+v, want the newest record", one)
	}
}

func TestAuditStreamIsCapped(t *testing.T) {
	t.Parallel()
	ctl, rdb, _ := newController(t)
	ctx := context.Background()
	ctl.auditMaxLen = 100 // the real cap is AuditMaxLen; the mechanism is the same
	for i := range 1000 {
		if _, err := ctl.appendAudit(ctx, Result{OrderID: fmt.Sprint(i), Key: LockKey(fmt.Sprint(i)), Outcome: Cleared}, ClearOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	n := rdb.XLen(ctx, AuditStream).Val()
	if n < 100 || n >= 1000 {
		t.Fatalf("stream length %d after 1000 appends capped at ~100", n)
	}
}

func TestAuditEmpty(t *testing.T) {
	t.Parallel()
	ctl, _, _ := newController(t)
	recs, err := ctl.Audit(context.Background(), 20)
	if err != nil || len(recs) != 0 {
		t.Fatalf("Audit on an empty stream = %+v, %v", recs, err)
	}
}

func TestClearStale(t *testing.T) {
	t.Parallel()
	ctl, rdb, _ := newController(t)
	ctx := context.Background()
	rdb.Set(ctx, LockKey("a"), "driver-1", 0)
	rdb.Set(ctx, LockKey("b"), "driver-2", 0)
	rdb.Set(ctx, LockKey("c"), "driver-2", 0)
	rdb.Set(ctx, LockKey("d"), "driver-2", longTTL)
	rdb.Set(ctx, LockKey("e"), "driver-1", longTTL)

	totals, err := ctl.ClearStale(ctx, ClearOptions{Owner: "driver-2", Actor: "alice"}, func(Result) error { return nil })
	if err != nil || totals != (ClearTotals{Found: 2, Cleared: 2}) {
		t.Fatalf("ClearStale --owner driver-2 = %+v, %v", totals, err)
	}
	if rdb.Exists(ctx, LockKey("b"), LockKey("c")).Val() != 0 || rdb.Exists(ctx, LockKey("a")).Val() != 1 {
		t.Fatal("ClearStale --owner cleared the wrong locks")
	}
	totals, err = ctl.ClearStale(ctx, ClearOptions{Actor: "alice"}, func(Result) error { return nil })
	if err != nil || totals != (ClearTotals{Found: 1, Cleared: 1}) {
		t.Fatalf("ClearStale = %+v, %v", totals, err)
	}
	if rdb.Exists(ctx, LockKey("d"), LockKey("e")).Val() != 2 || rdb.Exists(ctx, LockKey("a")).Val() != 0 {
		t.Fatal("ClearStale touched locks with an expiry or missed a stale one")
	}
	recs, _ := ctl.Audit(ctx, 10)
	if len(recs) != 3 {
		t.Fatalf("%d audit records, want 3", len(recs))
	}
	for _, r := range recs {
		if r.Outcome != Cleared || r.TTL != NoExpiry || r.ExpectedOwner != r.Owner {
			t.Fatalf("audit record %+v", r)
		}
	}
}

func TestClearStaleKeepsLockWithExpiry(t *testing.T) {
	t.Parallel()
	// The scan found the lock stale, but it was re-taken with an expiry by
	// the same driver before the clear: the script must leave it.
	ctl, rdb, _ := newController(t)
	ctx := context.Background()
	rdb.Set(ctx, LockKey("8121"), "driver-1", 5*time.Second)
	r, err := ctl.clearKey(ctx, LockKey("8121"), ClearOptions{Owner: "driver-1"}, true)
	if err != nil || r.Outcome != NotStale {
		t.Fatalf("clearKey stale-only = %+v, %v; want not_stale", r, err)
	}
	if rdb.Get(ctx, LockKey("8121")).Val() != "driver-1" {
		t.Fatal("lock with an expiry was deleted by a stale clear")
	}
}

func TestKeyThatIsNotALock(t *testing.T) {
	t.Parallel()
	ctl, rdb, _ := newController(t)
	ctx := context.Background()
	rdb.HSet(ctx, LockKey("77"), "owner", "driver-1")

	if _, err := ctl.Show(ctx, "77"); !errors.Is(err, ErrNotLock) {
		t.Fatalf("Show = %v, want ErrNotLock", err)
	}
	r, err := ctl.Clear(ctx, "77", ClearOptions{})
	if !errors.Is(err, ErrNotLock) || !strings.Contains(err.Error(), "is a hash") {
		t.Fatalf("Clear = %+v, %v; want ErrNotLock naming the type", r, err)
	}
	if rdb.Type(ctx, LockKey("77")).Val() != "hash" {
		t.Fatal("Clear deleted a key that is not a lock")
	}
	if err.Error() != `clear lock 77: order_lock:77 is a hash: lockctl: key is not a lock` {
		t.Fatalf("message %q", err)
	}
}

func TestInvalidOrderIDNeverReachesRedis(t *testing.T) {
	t.Parallel()
	// A client to a port nobody listens on: any command would fail with a
	// connection error, not ErrInvalidOrderID.
	dead := redis.NewClient(&redis.Options{Addr: hubtest.DeadAddr(t), MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { dead.Close() })
	ctl := New(dead)
	ctx := context.Background()

	for _, id := range []string{"", "a b", "8121*", "x:y", "../x", "ünïcode", strings.Repeat("a", 65)} {
		if _, err := ctl.Show(ctx, id); !errors.Is(err, ErrInvalidOrderID) {
			t.Errorf("Show(%q) = %v, want ErrInvalidOrderID", id, err)
		}
		if _, err := ctl.Clear(ctx, id, ClearOptions{}); !errors.Is(err, ErrInvalidOrderID) {
			t.Errorf("Clear(%q) = %v, want ErrInvalidOrderID", id, err)
		}
		if id == "" {
			continue // an empty --order means every order
		}
		if _, err := ctl.List(ctx, Filter{OrderID: id}, func(Lock) error { return nil }); !errors.Is(err, ErrInvalidOrderID) {
			t.Errorf("List(--order %q) = %v, want ErrInvalidOrderID", id, err)
		}
	}
	for _, id := range []string{"8121", "A-z_09", strings.Repeat("a", 64)} {
		if err := ValidateOrderID(id); err != nil {
			t.Errorf("ValidateOrderID(%q) = %v, want nil", id, err)
		}
	}
	// A valid id does go to Redis, which is down: a plain error.
	_, err := ctl.Show(ctx, "8121")
	if err == nil || errors.Is(err, ErrInvalidOrderID) {
		t.Fatalf("Show(8121) on a dead server = %v, want a connection error", err)
	}
	_, err = ctl.List(ctx, Filter{}, func(Lock) error { return nil })
	if err == nil || !strings.HasPrefix(err.Error(), "list locks: ") {
		t.Fatalf("List on a dead server = %v, want a wrapped connection error", err)
	}
}

func TestClusterListShowClearAudit(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t)
	rdb := cl.Client(t)
	ctl := New(rdb)
	ctx := context.Background()
	seedLocks(t, rdb, 10000, odd)

	// The locks are spread: every master holds some, so a list that found
	// all of them walked every master.
	for _, s := range cl.Servers {
		if n := s.Client(t).DBSize(ctx).Val(); n == 0 {
			t.Fatalf("master %s holds no lock", s.Addr())
		}
	}
	checkTenThousand(t, ctl)

	// Masters are walked concurrently; the callback's error still comes
	// back as is, not another master's cancellation.
	stop := errors.New("reader went away")
	calls := 0
	if _, err := ctl.List(ctx, Filter{}, func(Lock) error {
		calls++
		if calls == 5 {
			return stop
		}
		return nil
	}); err != stop || calls != 5 {
		t.Fatalf("List on cluster with a failing callback = %v after %d calls, want its error after 5", err, calls)
	}

	rdb.HSet(ctx, "order:42", "status", "open", "user_id", "rider-1")
	rdb.SAdd(ctx, "order_viewers:42", "driver-0", "driver-5")
	d, err := ctl.Show(ctx, "42")
	if err != nil || d.Lock == nil || d.Lock.Owner != "driver-0" || d.Order == nil || d.Order.Status != "open" || len(d.Viewers) != 2 {
		t.Fatalf("Show on cluster = %+v, %v", d, err)
	}
	if _, err := ctl.Clear(ctx, "42", ClearOptions{Owner: "driver-1"}); !errors.Is(err, ErrOwnerDiffers) {
		t.Fatalf("Clear --owner mismatch on cluster = %v", err)
	}
	if _, err := ctl.Clear(ctx, "42", ClearOptions{Owner: "driver-0", Actor: "alice"}); err != nil {
		t.Fatalf("Clear on cluster: %v", err)
	}
	if rdb.Exists(ctx, LockKey("42")).Val() != 0 {
		t.Fatal("lock 42 still there")
	}
	totals, err := ctl.ClearStale(ctx, ClearOptions{Owner: "driver-3", Actor: "alice"}, func(Result) error { return nil })
	if err != nil || totals.Found == 0 || totals.Cleared != totals.Found {
		t.Fatalf("ClearStale on cluster = %+v, %v", totals, err)
	}
	recs, err := ctl.Audit(ctx, 5)
	if err != nil || len(recs) != 5 {
		t.Fatalf("Audit on cluster = %d records, %v", len(recs), err)
	}
}
