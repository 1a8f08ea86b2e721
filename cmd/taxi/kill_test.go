package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taxi-hub/taxi/internal/eventually"
	"github.com/taxi-hub/taxi/internal/redistest"
	"github.com/taxi-hub/taxi/server"
)

// TestMain lets the test binary act as the taxi binary: with TAXI_TEST_MAIN
// set it runs the command line it was given, so tests can start real node
// processes and kill them.
func TestMain(m *testing.M) {
	if os.Getenv("TAXI_TEST_MAIN") == "1" {
		os.Exit(run(context.Background(), systemIO(), os.Args[1:]))
	}
	os.Exit(m.Run())
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePort(t))
}

// A node killed with SIGKILL says no goodbye; the surviving node must remove
// its drivers from active_drivers once its heartbeat expires.
func TestKilledNodeLeavesNoGhost(t *testing.T) {
	rds := redistest.Start(t)
	rdb := rds.Client(t)
	ctx := context.Background()

	port := freePort(t)
	victim := exec.Command(os.Args[0], "serve", "--insecure", "--node-id", "victim",
		"--addr", "127.0.0.1:"+strconv.Itoa(port), "--redis-url", rds.URL(),
		"--heartbeat-interval", "200ms", "--log-level", "error")
	victim.Env = append(os.Environ(), "TAXI_TEST_MAIN=1")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = victim.Process.Kill(); _ = victim.Wait() })

	survivor, err := server.New(server.Config{NodeID: "survivor", Insecure: true, RedisURL: rds.URL(), HeartbeatInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := survivor.Start(sctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = survivor.Shutdown(c)
	})

	base := fmt.Sprintf("127.0.0.1:%d", port)
	eventually.Check(t, 15*time.Second, func() error {
		resp, err := http.Get("http://" + base + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
	conn, _, err := websocket.Dial(ctx, "ws://"+base+"/ws/driver/ghost-d1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	eventually.Check(t, 10*time.Second, func() error {
		if ok, _ := rdb.SIsMember(ctx, "active_drivers", "ghost-d1").Result(); !ok {
			return fmt.Errorf("driver not present yet")
		}
		return nil
	})

	if err := victim.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = victim.Wait()
	eventually.Check(t, 30*time.Second, func() error {
		if ok, _ := rdb.SIsMember(ctx, "active_drivers", "ghost-d1").Result(); ok {
			return fmt.Errorf("ghost-d1 still in active_drivers")
		}
		return nil
	})
}
