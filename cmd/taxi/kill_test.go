package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/eventually"
	"github.com/taxi-hub/taxi/internal/hubtest"
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

// A node killed with SIGKILL says no goodbye; the surviving node must remove
// its drivers from active_drivers once its heartbeat expires.
func TestKilledNodeLeavesNoGhost(t *testing.T) {
	t.Parallel()
	rds := redistest.Start(t)
	rdb := rds.Client(t)
	ctx := context.Background()

	base := hubtest.FreeAddr(t)
	victim := exec.Command(os.Args[0], "serve", "--insecure", "--node-id", "victim",
		"--addr", base, "--redis-url", rds.URL(),
		"--heartbeat-interval", "200ms", "--log-level", "error")
	victim.Env = append(os.Environ(), "TAXI_TEST_MAIN=1")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = victim.Process.Kill(); _ = victim.Wait() })

	hubtest.Start(t, hubtest.Redis(rds.URL()), hubtest.NodeID("survivor"), func(c *server.Config) {
		c.HeartbeatInterval = 200 * time.Millisecond
	})

	eventually.Check(t, 15*time.Second, func() error { return hubtest.Ready("http://" + base) })
	hubtest.Dial(t, "ws://"+base+"/ws/driver/ghost-d1")
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
