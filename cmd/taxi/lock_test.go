package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taxi-hub/taxi/internal/hubtest"
	"github.com/taxi-hub/taxi/internal/redistest"
	"github.com/taxi-hub/taxi/lockctl"
)

// lockTestIO is a lockCommon over in-memory streams.
type lockTestIO struct {
	*lockCommon
	out, errOut *syncBuffer
}

func newLockTestIO(url, input string, interactive bool) lockTestIO {
	ios, out, errOut := testIO(input)
	ios.inTTY, ios.errTTY = interactive, interactive
	return lockTestIO{lockCommon: &lockCommon{IO: ios, RedisURL: url}, out: out, errOut: errOut}
}

func startLockRedis(t *testing.T) (*redistest.Server, *redis.Client) {
	t.Helper()
	srv := redistest.Start(t)
	return srv, srv.Client(t)
}

func TestLockListRun(t *testing.T) {
	t.Parallel()
	srv, rdb := startLockRedis(t)
	ctx := context.Background()
	rdb.Set(ctx, "order_lock:8121", "driver-7", 0)
	rdb.Set(ctx, "order_lock:8122", "driver-8", time.Minute)

	io := newLockTestIO(srv.URL(), "", false)
	err := lockListRun(ctx, &lockListOptions{lockCommon: io.lockCommon})
	if exitCode(err) != 0 {
		t.Fatalf("list: %v", err)
	}
	out := io.out.String()
	for _, want := range []string{"ORDER", "8121", "driver-7", "STALE (no expiry)", "8122", "driver-8", "2 locks, 1 stale"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(lineWith(out, "8122"), "STALE") {
		t.Errorf("lock with a TTL marked stale:\n%s", out)
	}

	// --stale --json: one documented object per line, totals on stderr.
	io = newLockTestIO(srv.URL(), "", false)
	err = lockListRun(ctx, &lockListOptions{lockCommon: io.lockCommon, JSON: true, Filter: lockctl.Filter{Stale: true}})
	if exitCode(err) != 0 {
		t.Fatalf("list --json: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(io.out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("list --stale --json printed %d lines, want 1:\n%s", len(lines), io.out.String())
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &obj); err != nil {
		t.Fatalf("not JSON: %s: %v", lines[0], err)
	}
	want := map[string]any{"order_id": "8121", "key": "order_lock:8121", "owner": "driver-7", "ttl_ms": float64(-1), "stale": true}
	if fmt.Sprint(obj) != fmt.Sprint(want) {
		t.Fatalf("JSON object = %v, want %v", obj, want)
	}
	if !strings.Contains(io.errOut.String(), "1 lock, 1 stale") {
		t.Fatalf("totals not on stderr: %q", io.errOut.String())
	}

	// Nothing matched: exit 1.
	io = newLockTestIO(srv.URL(), "", false)
	err = lockListRun(ctx, &lockListOptions{lockCommon: io.lockCommon, Filter: lockctl.Filter{Owner: "nobody"}})
	if exitCode(err) != 1 {
		t.Fatalf("list --owner nobody: exit %d (%v), want 1", exitCode(err), err)
	}
}

func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestLockShowRun(t *testing.T) {
	t.Parallel()
	srv, rdb := startLockRedis(t)
	ctx := context.Background()
	rdb.Set(ctx, "order_lock:8121", "driver-7", 0)
	rdb.HSet(ctx, "order:8121", "order_id", "8121", "user_id", "rider-1", "status", "open", "driver_id", "",
		"created_at", time.Now().Add(-time.Minute).Format(time.RFC3339Nano))
	rdb.SAdd(ctx, "order_viewers:8121", "driver-7", "driver-9")

	io := newLockTestIO(srv.URL(), "", false)
	err := lockShowRun(ctx, &lockShowOptions{lockCommon: io.lockCommon, OrderID: "8121"})
	if err != nil {
		t.Fatalf("show: %v", err)
	}
	out := io.out.String()
	for _, want := range []string{"held by driver-7", "NO EXPIRY", "status open", "accepted by none", "rider rider-1",
		"viewers  2: driver-7, driver-9", "taxi lock clear 8121 --owner driver-7"} {
		if !strings.Contains(out, want) {
			t.Errorf("show output lacks %q:\n%s", want, out)
		}
	}

	io = newLockTestIO(srv.URL(), "", false)
	err = lockShowRun(ctx, &lockShowOptions{lockCommon: io.lockCommon, OrderID: "9999"})
	if exitCode(err) != 1 || !strings.Contains(io.out.String(), "lock     none") {
		t.Fatalf("show of an order without lock: exit %d, output %q", exitCode(err), io.out.String())
	}
}

func TestLockClearRefusesWithoutTerminal(t *testing.T) {
	t.Parallel()
	srv, rdb := startLockRedis(t)
	ctx := context.Background()
	rdb.Set(ctx, "order_lock:8121", "driver-7", 0)

	io := newLockTestIO(srv.URL(), "y\n", false)
	err := lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, OrderID: "8121", Actor: "alice"})
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("clear without a terminal: exit %d (%v), want 2 naming --yes", exitCode(err), err)
	}
	if rdb.Get(ctx, "order_lock:8121").Val() != "driver-7" {
		t.Fatal("lock deleted without confirmation")
	}

	// --yes is the non-interactive consent.
	io = newLockTestIO(srv.URL(), "", false)
	err = lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, OrderID: "8121", Yes: true, Actor: "alice"})
	if err != nil {
		t.Fatalf("clear --yes: %v", err)
	}
	if rdb.Exists(ctx, "order_lock:8121").Val() != 0 {
		t.Fatal("clear --yes left the lock")
	}
	out := io.out.String()
	if !strings.Contains(out, "deleted order_lock:8121 (held by driver-7") || !strings.Contains(out, "taxi:lock_audit") || !strings.Contains(out, "by alice") {
		t.Fatalf("clear output does not report the deletion and its audit record:\n%s", out)
	}
}

func TestLockClearConfirmation(t *testing.T) {
	t.Parallel()
	srv, rdb := startLockRedis(t)
	ctx := context.Background()
	rdb.Set(ctx, "order_lock:8121", "driver-7", 0)

	// Answering no changes nothing and exits 1.
	io := newLockTestIO(srv.URL(), "n\n", true)
	err := lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, OrderID: "8121", Actor: "alice"})
	if exitCode(err) != 1 || !strings.Contains(io.errOut.String(), "Delete order_lock:8121 held by driver-7? [y/N]") {
		t.Fatalf("answer no: exit %d (%v), prompt %q", exitCode(err), err, io.errOut.String())
	}
	if rdb.Get(ctx, "order_lock:8121").Val() != "driver-7" {
		t.Fatal("lock deleted after answering no")
	}
	if n := rdb.XLen(ctx, lockctl.AuditStream).Val(); n != 0 {
		t.Fatalf("%d audit records after answering no, want 0", n)
	}

	// Answering yes deletes it.
	io = newLockTestIO(srv.URL(), "yes\n", true)
	if err := lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, OrderID: "8121", Actor: "alice"}); err != nil {
		t.Fatalf("answer yes: %v", err)
	}
	if rdb.Exists(ctx, "order_lock:8121").Val() != 0 {
		t.Fatal("lock left after answering yes")
	}
}

func TestLockClearOwnerAndDryRun(t *testing.T) {
	t.Parallel()
	srv, rdb := startLockRedis(t)
	ctx := context.Background()
	rdb.Set(ctx, "order_lock:8121", "driver-7", time.Minute)

	io := newLockTestIO(srv.URL(), "", false)
	err := lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, OrderID: "8121", Owner: "driver-1", Yes: true})
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "owner differs") {
		t.Fatalf("clear --owner mismatch: exit %d (%v), want 1", exitCode(err), err)
	}

	io = newLockTestIO(srv.URL(), "", false)
	err = lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, OrderID: "8121", DryRun: true})
	if err != nil || !strings.Contains(io.out.String(), "dry run") {
		t.Fatalf("dry run: %v, output %q", err, io.out.String())
	}
	if rdb.Get(ctx, "order_lock:8121").Val() != "driver-7" || rdb.Exists(ctx, lockctl.AuditStream).Val() != 0 {
		t.Fatal("mismatch or dry run changed Redis")
	}

	io = newLockTestIO(srv.URL(), "", false)
	err = lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, OrderID: "404", Yes: true})
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "has no lock") {
		t.Fatalf("clear of a missing lock: exit %d (%v), want 1", exitCode(err), err)
	}
}

func TestLockClearStaleRun(t *testing.T) {
	t.Parallel()
	srv, rdb := startLockRedis(t)
	ctx := context.Background()
	rdb.Set(ctx, "order_lock:1", "driver-1", 0)
	rdb.Set(ctx, "order_lock:2", "driver-2", 0)
	rdb.Set(ctx, "order_lock:3", "driver-3", time.Minute)

	io := newLockTestIO(srv.URL(), "", false)
	err := lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, Stale: true, DryRun: true})
	if err != nil || !strings.Contains(io.out.String(), "would delete 2 stale locks") {
		t.Fatalf("clear --stale --dry-run: %v, output:\n%s", err, io.out.String())
	}
	if rdb.Exists(ctx, "order_lock:1", "order_lock:2").Val() != 2 {
		t.Fatal("dry run deleted stale locks")
	}

	io = newLockTestIO(srv.URL(), "", false)
	err = lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, Stale: true, Yes: true, Actor: "alice"})
	if err != nil || !strings.Contains(io.out.String(), "cleared 2 of 2 stale locks") {
		t.Fatalf("clear --stale --yes: %v, output:\n%s", err, io.out.String())
	}
	if rdb.Exists(ctx, "order_lock:1", "order_lock:2").Val() != 0 || rdb.Exists(ctx, "order_lock:3").Val() != 1 {
		t.Fatal("clear --stale deleted the wrong locks")
	}

	io = newLockTestIO(srv.URL(), "", false)
	err = lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, Stale: true, Yes: true})
	if exitCode(err) != 1 || !strings.Contains(io.out.String(), "no stale locks") {
		t.Fatalf("clear --stale with none left: exit %d, output %q", exitCode(err), io.out.String())
	}

	// The audit command shows both clears, newest first.
	io = newLockTestIO(srv.URL(), "", false)
	if err := lockAuditRun(ctx, &lockAuditOptions{lockCommon: io.lockCommon, N: 10}); err != nil {
		t.Fatalf("audit: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(io.out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("audit printed %d lines, want 2:\n%s", len(lines), io.out.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "alice@") || !strings.Contains(l, "cleared") || !strings.Contains(l, "no expiry") {
			t.Fatalf("audit line %q lacks actor, outcome or previous TTL", l)
		}
	}
}

func TestLockErrors(t *testing.T) {
	t.Parallel()
	srv, rdb := startLockRedis(t)
	ctx := context.Background()
	rdb.HSet(ctx, "order_lock:77", "x", "y")
	dead := hubtest.DeadAddr(t)

	tests := []struct {
		name    string
		run     func(*lockCommon) error
		code    int
		message string
	}{
		{"invalid id", func(c *lockCommon) error {
			return lockShowRun(ctx, &lockShowOptions{lockCommon: c, OrderID: "81 21"})
		}, 2, "invalid order id"},
		{"invalid id in clear", func(c *lockCommon) error {
			return lockClearRun(ctx, &lockClearOptions{lockCommon: c, OrderID: "*", Yes: true})
		}, 2, "invalid order id"},
		{"invalid id in list", func(c *lockCommon) error {
			return lockListRun(ctx, &lockListOptions{lockCommon: c, Filter: lockctl.Filter{OrderID: "a:b"}})
		}, 2, "invalid order id"},
		{"not a lock", func(c *lockCommon) error {
			return lockClearRun(ctx, &lockClearOptions{lockCommon: c, OrderID: "77", Yes: true})
		}, 1, "key is not a lock"},
		{"neither id nor --stale", func(c *lockCommon) error {
			return lockClearRun(ctx, &lockClearOptions{lockCommon: c, Yes: true})
		}, 2, "ORDER_ID or --stale"},
		{"audit -n 0", func(c *lockCommon) error {
			return lockAuditRun(ctx, &lockAuditOptions{lockCommon: c, N: 0})
		}, 2, "-n must be"},
		{"bad url", func(c *lockCommon) error {
			c.RedisURL = "http://localhost"
			return lockListRun(ctx, &lockListOptions{lockCommon: c})
		}, 2, "--redis-url"},
		{"unreachable", func(c *lockCommon) error {
			c.RedisURL = "redis://" + dead + "/0"
			return lockListRun(ctx, &lockListOptions{lockCommon: c})
		}, 3, "cannot reach redis at redis://" + dead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			io := newLockTestIO(srv.URL(), "", false)
			err := tt.run(io.lockCommon)
			if exitCode(err) != tt.code || err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("exit %d, error %v; want exit %d and %q", exitCode(err), err, tt.code, tt.message)
			}
			if strings.Contains(err.Error(), "wrong-secret") {
				t.Fatalf("error shows the password: %v", err)
			}
			if strings.Contains(err.Error(), "goroutine ") {
				t.Fatalf("error is a stack trace: %v", err)
			}
		})
	}
}

// A server with requirepass refuses a URL without the password, and with a
// wrong one; the message says so and never shows the password.
func TestLockAuthRefused(t *testing.T) {
	t.Parallel()
	srv, rdb := startLockRedis(t)
	ctx := context.Background()
	if err := rdb.ConfigSet(ctx, "requirepass", "s3cret").Err(); err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{srv.URL(), "redis://:wrong-secret@" + srv.Addr() + "/0"} {
		io := newLockTestIO(url, "", false)
		err := lockListRun(ctx, &lockListOptions{lockCommon: io.lockCommon})
		if exitCode(err) != 3 || !strings.Contains(err.Error(), "refused authentication") || strings.Contains(err.Error(), "wrong-secret") {
			t.Fatalf("%s: exit %d, %v; want 3 and refused authentication, password hidden", url, exitCode(err), err)
		}
	}
	io := newLockTestIO("redis://:s3cret@"+srv.Addr()+"/0", "", false)
	err := lockListRun(ctx, &lockListOptions{lockCommon: io.lockCommon})
	if exitCode(err) != 1 { // authenticated, and no lock to list
		t.Fatalf("with the password: exit %d, %v; want 1 (nothing matched)", exitCode(err), err)
	}
}

// TestLockCommand runs the cobra command as taxi would: flag parsing, the
// REDIS_URL default, exit codes and help.
func TestLockCommand(t *testing.T) {
	srv, rdb := startLockRedis(t)
	ctx := context.Background()
	rdb.Set(ctx, "order_lock:8121", "driver-7", 0)
	t.Setenv("REDIS_URL", srv.URL())

	exec := func(args ...string) (int, string) {
		ios, out, errOut := testIO("y\n") // not a terminal: never read
		cmd := newCmdLock(ios)
		cmd.SetArgs(args)
		cmd.SetOut(out)
		cmd.SetErr(out)
		err := cmd.ExecuteContext(ctx)
		if err != nil {
			out.Write([]byte("error: " + err.Error()))
		}
		return exitCode(err), out.String() + errOut.String()
	}

	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"list"}, 0, "8121"},
		{[]string{"list", "--stale", "--owner", "driver-7", "--json"}, 0, `"stale":true`},
		{[]string{"list", "--order", "8121"}, 0, "driver-7"},
		{[]string{"list", "--bogus"}, 2, "unknown flag"},
		{[]string{"list", "extra"}, 2, "unknown command"},
		{[]string{"show"}, 2, "accepts 1 arg"},
		{[]string{"show", "8121"}, 0, "held by driver-7"},
		{[]string{"clear", "8121"}, 2, "--yes"}, // no terminal
		{[]string{"clear", "8121", "--stale", "--yes"}, 2, "not both"},
		{[]string{"clear", "8121", "--dry-run"}, 0, "dry run"},
		{[]string{"clear", "8121", "--owner", "driver-1", "--yes"}, 1, "owner differs"},
		{[]string{"clear", "8121", "--owner", "driver-7", "--yes"}, 0, "deleted order_lock:8121"},
		{[]string{"audit", "-n", "5"}, 0, "order_lock:8121"},
		{[]string{"--redis-url", "redis://127.0.0.1:1/0", "list"}, 3, "cannot reach redis"},
		{[]string{"clear", "--help"}, 0, "3  Redis error"},
		// REDIS_URL is read at run time and never printed in --help.
		{[]string{"list", "--help"}, 0, "env REDIS_URL"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out := exec(tt.args...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, want %d; output lacks %q?\n%s", code, tt.code, tt.want, out)
			}
		})
	}
	if rdb.Exists(ctx, "order_lock:8121").Val() != 0 {
		t.Fatal("clear --owner driver-7 --yes left the lock")
	}
}

func TestLockHelpDocumentsExitCodes(t *testing.T) {
	t.Parallel()
	for _, sub := range []string{"", "list", "show", "clear", "audit"} {
		ios, out, _ := testIO("")
		cmd := newCmdLock(ios)
		cmd.SetOut(out)
		args := []string{"--help"}
		if sub != "" {
			args = []string{sub, "--help"}
		}
		cmd.SetArgs(args)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"0  done", "1  nothing matched", "2  usage error", "3  Redis error"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("taxi lock %s --help lacks %q", sub, want)
			}
		}
	}
}

// Every lock subcommand takes --json: stdout then carries JSON only.
func TestLockJSON(t *testing.T) {
	t.Parallel()
	srv, rdb := startLockRedis(t)
	ctx := context.Background()
	rdb.Set(ctx, "order_lock:8121", "driver-7", 0)
	rdb.HSet(ctx, "order:8121", "order_id", "8121", "user_id", "rider-1", "status", "open", "driver_id", "",
		"pickup_lat", "52.52", "pickup_lng", "13.4", "dropoff_lat", "52.5", "dropoff_lng", "13.3",
		"created_at", time.Now().Add(-time.Minute).Format(time.RFC3339Nano))
	rdb.SAdd(ctx, "order_viewers:8121", "driver-7")

	io := newLockTestIO(srv.URL(), "", false)
	if err := lockShowRun(ctx, &lockShowOptions{lockCommon: io.lockCommon, OrderID: "8121", JSON: true}); err != nil {
		t.Fatalf("show --json: %v", err)
	}
	var show struct {
		OrderID string `json:"order_id"`
		Lock    struct {
			Owner string `json:"owner"`
			TTLMs int64  `json:"ttl_ms"`
			Stale bool   `json:"stale"`
		} `json:"lock"`
		NotLock bool `json:"not_lock"`
		Order   struct {
			Status string `json:"status"`
			UserID string `json:"user_id"`
			Pickup struct {
				Lat float64 `json:"lat"`
			} `json:"pickup"`
		} `json:"order"`
		Viewers  []string `json:"viewers"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(io.out.String()), &show); err != nil {
		t.Fatalf("show --json is not one object: %v\n%s", err, io.out)
	}
	if show.OrderID != "8121" || show.Lock.Owner != "driver-7" || show.Lock.TTLMs != -1 || !show.Lock.Stale || show.NotLock ||
		show.Order.Status != "open" || show.Order.UserID != "rider-1" || show.Order.Pickup.Lat != 52.52 ||
		fmt.Sprint(show.Viewers) != "[driver-7]" || show.Warnings == nil {
		t.Errorf("show --json:\n%s", io.out)
	}
	io = newLockTestIO(srv.URL(), "", false)
	err := lockShowRun(ctx, &lockShowOptions{lockCommon: io.lockCommon, OrderID: "404", JSON: true})
	if exitCode(err) != 1 || !strings.Contains(io.out.String(), `"lock":null`) || !strings.Contains(io.out.String(), `"order":null`) {
		t.Errorf("show --json of an order without lock: exit %d\n%s", exitCode(err), io.out)
	}

	// clear --json: one object per lock on stdout, the narrative on stderr.
	io = newLockTestIO(srv.URL(), "", false)
	if err := lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, OrderID: "8121", DryRun: true, JSON: true}); err != nil {
		t.Fatalf("clear --dry-run --json: %v", err)
	}
	if got := strings.TrimSpace(io.out.String()); got != `{"order_id":"8121","key":"order_lock:8121","owner":"driver-7","ttl_ms":-1,"outcome":"would_clear"}` {
		t.Errorf("clear --dry-run --json: %s", got)
	}
	if !strings.Contains(io.errOut.String(), "dry run") {
		t.Errorf("narrative not on stderr: %q", io.errOut)
	}
	io = newLockTestIO(srv.URL(), "", false)
	if err := lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, Stale: true, Yes: true, JSON: true, Actor: "alice"}); err != nil {
		t.Fatalf("clear --stale --json: %v", err)
	}
	var cleared struct {
		OrderID string `json:"order_id"`
		Outcome string `json:"outcome"`
		Actor   string `json:"actor"`
		AuditID string `json:"audit_id"`
	}
	if err := json.Unmarshal([]byte(io.out.String()), &cleared); err != nil || cleared.OrderID != "8121" || cleared.Outcome != "cleared" ||
		cleared.Actor != "alice" || cleared.AuditID == "" {
		t.Errorf("clear --stale --json (%v):\n%s", err, io.out)
	}

	// audit --json: one object per record.
	io = newLockTestIO(srv.URL(), "", false)
	if err := lockAuditRun(ctx, &lockAuditOptions{lockCommon: io.lockCommon, N: 5, JSON: true}); err != nil {
		t.Fatalf("audit --json: %v", err)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(io.out.String()), &rec); err != nil {
		t.Fatalf("audit --json is not one object a line: %v\n%s", err, io.out)
	}
	for k, v := range map[string]any{"order_id": "8121", "key": "order_lock:8121", "owner": "driver-7", "ttl_ms": float64(-1),
		"actor": "alice", "outcome": "cleared", "expected_owner": "driver-7", "id": cleared.AuditID} {
		if rec[k] != v {
			t.Errorf("audit --json %s = %v, want %v", k, rec[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(rec["time"])); err != nil {
		t.Errorf("audit --json time %v: %v", rec["time"], err)
	}
}
