package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/redistest"
	"github.com/taxi-hub/taxi/monitor"
)

// monitorExit returns the exit status run() gives err.
func monitorExit(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

// execMonitor runs taxi monitor with args and a fake library call, and
// returns the options it was given.
func execMonitor(t *testing.T, result error, args ...string) (monitor.Options, string, error) {
	t.Helper()
	var got monitor.Options
	cmd := newMonitorCmdRun(func(_ context.Context, o monitor.Options) error {
		got = o
		return result
	})
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetContext(context.Background())
	err := cmd.Execute()
	return got, out.String(), err
}

func TestMonitorFlags(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	o, _, err := execMonitor(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.RedisURL != defaultMonitorRedisURL || o.Interval != monitor.DefaultInterval || o.Once || o.JSON || o.NoRedis || len(o.StatsURLs) != 0 {
		t.Errorf("defaults: %+v", o)
	}
	if o.Actor == "" || o.Out == nil || o.In == nil {
		t.Errorf("actor and streams should be set: %+v", o)
	}

	o, _, err = execMonitor(t, nil, "--stats", "http://a:1", "--stats", "http://b:2/ws/stats",
		"--interval", "5s", "--once", "--json", "--no-redis")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(o.StatsURLs) != "[http://a:1 http://b:2/ws/stats]" || o.Interval != 5*time.Second || !o.Once || !o.JSON || !o.NoRedis {
		t.Errorf("flags: %+v", o)
	}
}

func TestMonitorRedisURLFromEnvironment(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://:s3cret@env-host:6390/2")
	o, _, _ := execMonitor(t, nil)
	if o.RedisURL != "redis://:s3cret@env-host:6390/2" {
		t.Errorf("REDIS_URL not used: %q", o.RedisURL)
	}
	o, _, _ = execMonitor(t, nil, "--redis-url", "redis://flag-host:1/0")
	if o.RedisURL != "redis://flag-host:1/0" {
		t.Errorf("--redis-url should win over REDIS_URL: %q", o.RedisURL)
	}
	_, help, err := execMonitor(t, nil, "--help")
	if err != nil || !strings.Contains(help, "--redis-url") || strings.Contains(help, "s3cret") {
		t.Errorf("--help must not show the password from REDIS_URL (err %v):\n%s", err, help)
	}
}

func TestMonitorExitCodes(t *testing.T) {
	for _, tc := range []struct {
		result error
		args   []string
		want   int
	}{
		{nil, nil, 0},
		{fmt.Errorf("%w: bad", monitor.ErrInvalidOptions), nil, 2},
		{fmt.Errorf("%w: redis", monitor.ErrUnreachable), nil, 3},
		{errors.New("display crashed"), nil, 1},
		{nil, []string{"extra-arg"}, 2},
	} {
		_, _, err := execMonitor(t, tc.result, tc.args...)
		if got := monitorExit(err); got != tc.want {
			t.Errorf("run returning %v, args %v: exit %d, want %d", tc.result, tc.args, got, tc.want)
		}
	}
}

// TestMonitorOnceAgainstRedis runs the real command on a real Redis.
func TestMonitorOnceAgainstRedis(t *testing.T) {
	srv := redistest.Start(t)
	srv.Client(t).Set(context.Background(), "order_lock:8121", "driver-7", 0)

	cmd := newMonitorCmd()
	var out bytes.Buffer
	cmd.SetArgs([]string{"--redis-url", srv.URL(), "--once", "--json"})
	cmd.SetOut(&out)
	cmd.SetContext(context.Background())
	if err := cmd.Execute(); err != nil {
		t.Fatalf("monitor --once --json: %v", err)
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
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	r := doc.Redis
	if r.Error != "" || r.Locks.Stale != 1 || len(r.Locks.Items) != 1 || r.Locks.Items[0].OrderID != "8121" ||
		r.Locks.Items[0].Owner != "driver-7" || r.Locks.Items[0].TTLMs != -1 || doc.Nodes == nil {
		t.Errorf("snapshot:\n%s", out.String())
	}

	// JSON needs --once: a usage error, before anything is read.
	cmd = newMonitorCmd()
	cmd.SetArgs([]string{"--redis-url", srv.URL(), "--json"})
	cmd.SetContext(context.Background())
	if err := cmd.Execute(); monitorExit(err) != 2 {
		t.Errorf("--json without --once: %v, want exit 2", err)
	}
}

func TestMonitorOnceRedisUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()

	cmd := newMonitorCmd()
	var out bytes.Buffer
	cmd.SetArgs([]string{"--redis-url", "redis://:pw@" + dead + "/0", "--once"})
	cmd.SetOut(&out)
	cmd.SetContext(context.Background())
	err = cmd.Execute()
	if monitorExit(err) != 3 {
		t.Fatalf("unreachable Redis: %v, want exit 3", err)
	}
	if !strings.Contains(out.String(), "UNREACHABLE") || strings.Contains(out.String()+err.Error(), ":pw@") {
		t.Errorf("the snapshot should be printed with the password hidden:\n%s\n%v", out.String(), err)
	}
}
