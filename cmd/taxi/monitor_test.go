package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/hubtest"
	"github.com/taxi-hub/taxi/internal/redistest"
	"github.com/taxi-hub/taxi/monitor"
)

// execMonitor parses taxi monitor's command line without running it, and
// returns the options the run would get.
func execMonitor(t *testing.T, args ...string) (*monitorOptions, string, error) {
	t.Helper()
	var got *monitorOptions
	ios, out, _ := testIO("")
	cmd := newCmdMonitor(ios, func(_ context.Context, o *monitorOptions) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(out)
	cmd.SetContext(context.Background())
	err := cmd.Execute()
	return got, out.String(), err
}

func TestMonitorFlags(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	o, _, err := execMonitor(t)
	if err != nil {
		t.Fatal(err)
	}
	if o.RedisURL != defaultRedisURL || o.Interval != monitor.DefaultInterval || o.Once || o.JSON || o.NoRedis || len(o.StatsURLs) != 0 {
		t.Errorf("defaults: %+v", o.Options)
	}
	if o.Actor == "" || o.Out == nil || o.In == nil || !o.NoColor {
		t.Errorf("actor, streams and colour should be set (no colour off a terminal): %+v", o.Options)
	}
	// Without any flag, it also looks for the hub make run starts.
	if o.LocalHubURL != "http://127.0.0.1:8080" {
		t.Errorf("local hub URL %q", o.LocalHubURL)
	}

	o, _, err = execMonitor(t, "--stats", "http://a:1", "--stats", "http://b:2/ws/stats",
		"--interval", "5s", "--once", "--json", "--no-redis")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(o.StatsURLs) != "[http://a:1 http://b:2/ws/stats]" || o.Interval != 5*time.Second || !o.Once || !o.JSON || !o.NoRedis {
		t.Errorf("flags: %+v", o.Options)
	}
	if o.LocalHubURL != "" {
		t.Errorf("with --stats, no local hub should be looked for: %q", o.LocalHubURL)
	}
}

func TestMonitorRedisURLFromEnvironment(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://:s3cret@env-host:6390/2")
	o, _, _ := execMonitor(t)
	if o.RedisURL != "redis://:s3cret@env-host:6390/2" || o.LocalHubURL != "" {
		t.Errorf("REDIS_URL not used, or a local hub looked for beside it: %+v", o.Options)
	}
	o, _, _ = execMonitor(t, "--redis-url", "redis://flag-host:1/0")
	if o.RedisURL != "redis://flag-host:1/0" {
		t.Errorf("--redis-url should win over REDIS_URL: %q", o.RedisURL)
	}
	_, help, err := execMonitor(t, "--help")
	if err != nil || !strings.Contains(help, "--redis-url") || strings.Contains(help, "s3cret") {
		t.Errorf("--help must not show the password from REDIS_URL (err %v):\n%s", err, help)
	}
}

func TestMonitorExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		result error
		want   int
	}{
		{nil, 0},
		{fmt.Errorf("%w: bad", monitor.ErrInvalidOptions), 2},
		{fmt.Errorf("%w: redis", monitor.ErrUnreachable), 3},
		{errors.New("display crashed"), 1},
	} {
		if got := exitCode(monitorError(tc.result)); got != tc.want {
			t.Errorf("monitor returning %v: exit %d, want %d", tc.result, got, tc.want)
		}
	}
	if _, _, err := execMonitor(t, "extra-arg"); exitCode(err) != 2 {
		t.Errorf("an argument: %v, want exit 2", err)
	}
	// The live view needs a terminal.
	ios, _, _ := testIO("")
	err := monitorRun(context.Background(), &monitorOptions{IO: ios, Options: monitor.Options{RedisURL: "redis://" + hubtest.DeadAddr(t)}})
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "not a terminal") {
		t.Errorf("live view without a terminal: %v, want exit 2", err)
	}
}

// TestMonitorOnceAgainstRedis runs the real command on a real Redis.
func TestMonitorOnceAgainstRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	srv.Client(t).Set(context.Background(), "order_lock:8121", "driver-7", 0)

	ios, out, _ := testIO("")
	if code := run(context.Background(), ios, []string{"monitor", "--redis-url", srv.URL(), "--once", "--json"}); code != 0 {
		t.Fatalf("monitor --once --json: exit %d", code)
	}
	// The documented field names (docs/monitor.md), not Go's.
	var doc struct {
		Redis struct {
			Error string
			Locks struct {
				Stale int
				Items []struct {
					OrderID string `json:"order_id"`
					Owner   string
					TTLMs   int64 `json:"ttl_ms"`
				}
			}
		}
		Nodes []any
	}
	if err := json.Unmarshal([]byte(out.String()), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	r := doc.Redis
	if r.Error != "" || r.Locks.Stale != 1 || len(r.Locks.Items) != 1 || r.Locks.Items[0].OrderID != "8121" ||
		r.Locks.Items[0].Owner != "driver-7" || r.Locks.Items[0].TTLMs != -1 || doc.Nodes == nil {
		t.Errorf("snapshot:\n%s", out.String())
	}

	// JSON needs --once: a usage error, before anything is read.
	ios, _, _ = testIO("")
	if code := run(context.Background(), ios, []string{"monitor", "--redis-url", srv.URL(), "--json"}); code != 2 {
		t.Errorf("--json without --once: exit %d, want 2", code)
	}
}

func TestMonitorOnceRedisUnreachable(t *testing.T) {
	t.Parallel()
	ios, out, errOut := testIO("")
	code := run(context.Background(), ios, []string{"monitor", "--redis-url", "redis://:pw@" + hubtest.DeadAddr(t) + "/0", "--once"})
	if code != 3 {
		t.Fatalf("unreachable Redis: exit %d, want 3", code)
	}
	if !strings.Contains(out.String(), "UNREACHABLE") || strings.Contains(out.String()+errOut.String(), ":pw@") {
		t.Errorf("the snapshot should be printed with the password hidden:\n%s\n%s", out.String(), errOut.String())
	}
}
