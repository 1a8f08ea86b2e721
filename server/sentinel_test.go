package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// startSentinel runs a real redis-server in sentinel mode watching the
// master on masterPort as "mymaster", and returns its address.
func startSentinel(t *testing.T, masterPort int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster 127.0.0.1 %d 1\n", port, dir, masterPort)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sentinel: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c := redis.NewSentinelClient(&redis.Options{Addr: addr})
	defer c.Close()
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		_, err := c.GetMasterAddrByName(context.Background(), "mymaster").Result()
		return err
	})
	return addr
}

func TestSentinelURLServesTheCluster(t *testing.T) {
	srv := redistest.Start(t)
	sentinel := startSentinel(t, srv.Port())
	nodes := startNodes(t, "redis-sentinel://"+sentinel+"/mymaster", 2)
	d := mustDial(t, nodes[1].wsURL("/ws/driver/d1"))
	d.next(t, TypeConnected, nil)
	o := nodes[0].createOrder(t, "u1")
	var got Order
	d.next(t, TypeNewOrder, &got)
	if got.OrderID != o.OrderID {
		t.Fatalf("new_order %s, want %s", got.OrderID, o.OrderID)
	}
	if n, _ := srv.Client(t).Exists(context.Background(), orderKey(o.OrderID)).Result(); n != 1 {
		t.Fatal("order not in the master found through the sentinel")
	}
}
