package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/server"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := versionRun(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"taxi ", "commit ", "go1."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version output %q lacks %q", out.String(), want)
		}
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"--help"}, 0},
		{[]string{"version"}, 0},
		{[]string{"nonsense"}, 2},
		{[]string{"serve", "--bogus-flag"}, 2},
		{[]string{"version", "extra"}, 2},
		{[]string{"token", "--role", "driver", "--sub", "d1"}, 2}, // no secret
		{[]string{"serve", "--memory"}, 2},                        // no secret, not --insecure
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("TAXI_AUTH_SECRET", "")
			if got := run(context.Background(), tt.args); got != tt.want {
				t.Fatalf("exit %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTokenRun(t *testing.T) {
	var out bytes.Buffer
	opts := &tokenOptions{secret: "a-secret-of-16-bytes!", role: "driver", sub: "d42", ttl: time.Minute, out: &out}
	if err := tokenRun(opts); err != nil {
		t.Fatal(err)
	}
	if parts := strings.Split(strings.TrimSpace(out.String()), "."); len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", out.String())
	}
	opts.role = "admin"
	if err := tokenRun(opts); err == nil {
		t.Fatal("role admin accepted")
	}
}

// syncBuffer is a log sink that the serve goroutine writes while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeRunsAndStopsOnCancel(t *testing.T) {
	logs := &syncBuffer{}
	addrs := make(chan net.Addr, 1)
	opts := &serveOptions{
		cfg:       server.Config{Addr: "127.0.0.1:0", Insecure: true, Memory: true, NodeID: "cmd-test"},
		logFormat: "json",
		logLevel:  "info",
		logOut:    logs,
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
}
