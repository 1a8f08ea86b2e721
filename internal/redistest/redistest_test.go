package redistest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStartServesAndCleansUp(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got := c.Get(ctx, "k").Val(); got != "v" {
		t.Fatalf("GET k = %q, want v", got)
	}
	if want := "redis://" + s.Addr() + "/0"; s.URL() != want {
		t.Fatalf("URL() = %q, want %q", s.URL(), want)
	}
	// No persistence: nothing may be written to the data directory.
	if cfg := c.ConfigGet(ctx, "save").Val()["save"]; cfg != "" {
		t.Fatalf("save = %q, want empty", cfg)
	}
	if cfg := c.ConfigGet(ctx, "appendonly").Val()["appendonly"]; cfg != "no" {
		t.Fatalf("appendonly = %q, want no", cfg)
	}
	dir := c.ConfigGet(ctx, "dir").Val()["dir"]
	if !strings.HasPrefix(dir, os.TempDir()) {
		t.Fatalf("dir = %q, want under %s", dir, os.TempDir())
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err == nil {
		t.Fatal("dump.rdb written despite --save \"\"")
	}
}

func TestKillAndRestartOnSamePort(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	addr := s.Addr()

	s.Kill()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err := c.Ping(pctx).Err()
	cancel()
	if err == nil {
		t.Fatal("PING answered after Kill")
	}
	s.Kill() // a second Kill is harmless

	s.Restart(t)
	if s.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", s.Addr(), addr)
	}
	// The same client reconnects by itself; the data is gone.
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	if n := c.Exists(ctx, "k").Val(); n != 0 {
		t.Fatalf("key survived a restart without persistence: EXISTS = %d", n)
	}

	s.Stop()
	pctx, cancel = context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err == nil {
		t.Fatal("PING answered after Stop")
	}
}

func TestTwoServersGetDifferentPorts(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("both servers on %s", a.Addr())
	}
}

func TestCluster(t *testing.T) {
	cl := StartCluster(t)
	ctx := context.Background()
	c := cl.Client(t)
	if len(cl.Addrs()) != 3 {
		t.Fatalf("Addrs() = %v, want 3 masters", cl.Addrs())
	}
	if want := "redis://" + strings.Join(cl.Addrs(), ","); cl.URL() != want {
		t.Fatalf("URL() = %q, want %q", cl.URL(), want)
	}
	// Keys spread over the slots must all be writable through the client,
	// and every master must hold some of them.
	for i := range 300 {
		if err := c.Set(ctx, fmt.Sprintf("key:%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET through cluster: %v", err)
		}
	}
	for _, s := range cl.Servers {
		n := s.Client(t).DBSize(ctx).Val()
		if n == 0 {
			t.Fatalf("master %s holds no key: slots not spread", s.Addr())
		}
	}
}

// recordingTB stands in for testing.TB to observe Skip and Fatal, which end
// the calling goroutine as the real ones do.
type recordingTB struct {
	testing.TB
	mu             sync.Mutex
	skipped, fatal string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Skip(args ...any) {
	r.mu.Lock()
	r.skipped = fmt.Sprint(args...)
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recordingTB) Fatal(args ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprint(args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func runRequire(tb *recordingTB) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		requireBinaries(tb, "redis-server-that-does-not-exist")
	}()
	<-done
}

func TestMissingBinarySkipsOrFailsUnderCI(t *testing.T) {
	t.Setenv("CI", "")
	local := &recordingTB{TB: t}
	runRequire(local)
	if local.fatal != "" || !strings.Contains(local.skipped, "install redis-server and redis-tools") {
		t.Fatalf("without CI: skipped=%q fatal=%q, want a skip naming the packages", local.skipped, local.fatal)
	}

	t.Setenv("CI", "true")
	ci := &recordingTB{TB: t}
	runRequire(ci)
	if ci.skipped != "" || !strings.Contains(ci.fatal, "install redis-server and redis-tools") {
		t.Fatalf("under CI=true: skipped=%q fatal=%q, want a loud failure", ci.skipped, ci.fatal)
	}
}
