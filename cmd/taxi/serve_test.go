package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/server"
)

func TestServeRunsAndStopsOnCancel(t *testing.T) {
	t.Parallel()
	ios, _, logs := testIO("")
	addrs := make(chan net.Addr, 1)
	opts := &serveOptions{
		IO:        ios,
		cfg:       server.Config{Addr: "127.0.0.1:0", Insecure: true, Memory: true, NodeID: "cmd-test", RedisURL: "redis://:hunter2-password@r:6379/0"},
		logFormat: "json",
		logLevel:  "info",
		ready:     func(a net.Addr) { addrs <- a },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveRun(ctx, opts) }()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve not ready within 10s")
	}
	resp, err := http.Get(fmt.Sprintf("http://%s/ws/stats", addr))
	if err != nil {
		t.Fatal(err)
	}
	var st server.Stats
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(raw, &st); err != nil || st.NodeID != "cmd-test" || st.Mode != "memory" {
		t.Fatalf("stats %s: %v", raw, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10s of cancel")
	}
	if !strings.Contains(logs.String(), "without authentication") {
		t.Errorf("insecure mode not warned about in logs: %s", logs.String())
	}

	// The effective configuration is logged at start, defaults filled in,
	// durations readable and the Redis password hidden.
	var cfg map[string]any
	for sc := bufio.NewScanner(strings.NewReader(logs.String())); sc.Scan(); {
		var line struct {
			Msg    string
			Config map[string]any
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "configuration" {
			cfg = line.Config
		}
	}
	want := map[string]any{"node_id": "cmd-test", "ping_interval": "25s", "lock_ttl": "5s", "send_queue": float64(256),
		"memory": true, "auth_secret": "none", "redis_url": "redis://:xxxxx@r:6379/0"}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("logged config %s = %v, want %v", k, cfg[k], v)
		}
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Error("the Redis password is in the logs")
	}
	if strings.Contains(logs.String(), `"timeout":15000000000`) || !strings.Contains(logs.String(), `"timeout":"15s"`) {
		t.Errorf("durations in JSON logs should read like 15s:\n%s", logs.String())
	}
}

// Every field of server.Config but the logger is in the start log, so a new
// setting cannot be left out of it.
func TestLoggedConfigCoversEveryField(t *testing.T) {
	t.Parallel()
	n := reflect.TypeFor[server.Config]().NumField() - 1
	if got := len(loggedConfig(server.Config{}).LogValue().Group()); got != n {
		t.Fatalf("loggedConfig logs %d settings, server.Config has %d", got, n)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("configuration", "config", loggedConfig(server.Config{AuthSecret: "sixteen-bytes-secret!"}))
	if strings.Contains(b.String(), "sixteen") || !strings.Contains(b.String(), "config.auth_secret=(redacted)") {
		t.Fatalf("the secret is not redacted: %s", b.String())
	}
}

// A malformed setting, in a flag or in the environment, stops taxi serve
// before it starts, with exit status 2 and a message naming it.
func TestServeConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"int variable", map[string]string{"TAXI_MAX_CONNS": "abc"}, nil, []string{`TAXI_MAX_CONNS="abc": want a whole number`}},
		{"duration without unit", map[string]string{"TAXI_PING_INTERVAL": "25"}, nil, []string{`TAXI_PING_INTERVAL="25": want a duration with a unit`}},
		{"every bad variable at once", map[string]string{"TAXI_MEMORY": "yes please", "TAXI_MSG_RATE": "fast"},
			nil, []string{`TAXI_MEMORY="yes please": want true or false`, `TAXI_MSG_RATE="fast": want a number`}},
		{"bad REDIS_URL", map[string]string{"REDIS_URL": "http://:pw-in-url@localhost"}, nil, []string{"REDIS_URL: redisconn: parse"}},
		{"bad --redis-url", nil, []string{"--redis-url", "mysql://x"}, []string{"--redis-url: redisconn: parse"}},
		{"negative variable", map[string]string{"TAXI_DRAIN_DELAY": "-1s"}, nil, []string{"TAXI_DRAIN_DELAY -1s: must not be negative"}},
		{"negative flag", nil, []string{"--max-conns", "-3"}, []string{"--max-conns -3: must not be negative"}},
		{"bad flag value", nil, []string{"--max-conns", "abc"}, []string{`invalid argument "abc" for "--max-conns"`}},
		{"bad log format", map[string]string{"TAXI_LOG_FORMAT": "xml"}, nil, []string{`TAXI_LOG_FORMAT "xml": want text or json`}},
		{"short secret", map[string]string{"TAXI_AUTH_SECRET": "short"}, nil, []string{"TAXI_AUTH_SECRET: auth secret is 5 bytes"}},
		{"drain longer than shutdown", nil, []string{"--drain-delay", "20s"}, []string{"drain delay must be shorter"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TAXI_AUTH_SECRET", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			// Were the configuration accepted, the hub would start on a
			// free port and the test would time out rather than pass.
			args := append([]string{"serve", "--insecure", "--addr", "127.0.0.1:0"}, tc.args...)
			if _, ok := tc.env["TAXI_AUTH_SECRET"]; ok {
				args = []string{"serve", "--addr", "127.0.0.1:0"}
			}
			ios, _, errOut := testIO("")
			code := run(context.Background(), ios, args)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut.String(), "pw-in-url") {
				t.Errorf("a password is in the message: %s", errOut)
			}
		})
	}
}

// A flag on the command line wins over its variable, which then is not
// read at all.
func TestServeFlagWinsOverEnvironment(t *testing.T) {
	t.Setenv("TAXI_MAX_CONNS", "abc")
	t.Setenv("TAXI_SEND_QUEUE", "64")
	ios, _, _ := testIO("")
	var got *serveOptions
	cmd := newCmdServe(ios, func(_ context.Context, o *serveOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--max-conns", "10"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.cfg.MaxConns != 10 || got.cfg.SendQueue != 64 || got.sources.name("send-queue") != "TAXI_SEND_QUEUE" || got.sources.name("max-conns") != "--max-conns" {
		t.Fatalf("max conns %d, send queue %d, sources %v", got.cfg.MaxConns, got.cfg.SendQueue, got.sources)
	}
	// --help shows the built-in defaults, never the environment's values.
	t.Setenv("TAXI_AUTH_SECRET", "do-not-print-this-secret")
	ios, out, _ := testIO("")
	cmd = newCmdServe(ios, nil)
	cmd.SetOut(out)
	cmd.SetArgs([]string{"--help"})
	if err := cmd.Execute(); err != nil || strings.Contains(out.String(), "do-not-print") || !strings.Contains(out.String(), "(env TAXI_MAX_CONNS)") {
		t.Fatalf("help (%v):\n%s", err, out)
	}
}
