package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSize is the number of masters: the smallest cluster redis-cli
// accepts, and enough for keys to land on different nodes.
const clusterSize = 3

// Cluster is a Redis Cluster of three masters without replicas, started for
// a test.
type Cluster struct {
	Servers []*Server
}

// StartCluster starts three redis-server processes in cluster mode, joins
// them with redis-cli --cluster create and waits until every node reports
// cluster_state:ok. The servers are killed when the test ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	requireBinaries(t, "redis-server", "redis-cli")
	c := &Cluster{}
	for i := range clusterSize {
		dir := t.TempDir()
		extra := []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", i),
			"--cluster-node-timeout", "5000",
		}
		c.Servers = append(c.Servers, start(t, dir, extra, true))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.waitOK(ctx); err != nil {
		t.Fatalf("redistest: cluster not ready: %v\nredis-cli said:\n%s", err, out)
	}
	return c
}

// waitOK polls CLUSTER INFO on every node until all say cluster_state:ok and
// know all the nodes, so that a client's first slot map is complete.
func (c *Cluster) waitOK(ctx context.Context) error {
	for _, s := range c.Servers {
		cl := redis.NewClient(&redis.Options{Addr: s.Addr()})
		defer cl.Close()
		var last string
		for {
			info, err := cl.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", clusterSize)) {
				break
			}
			last = info
			if err != nil {
				last = err.Error()
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s: %w (last CLUSTER INFO: %s)", s.Addr(), ctx.Err(), last)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// Addrs returns host:port of every master.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		addrs[i] = s.Addr()
	}
	return addrs
}

// URL returns the seed list in the form --redis-url accepts for Cluster:
// "redis://127.0.0.1:a,127.0.0.1:b,127.0.0.1:c".
func (c *Cluster) URL() string { return "redis://" + strings.Join(c.Addrs(), ",") }

// Client returns a cluster client seeded with every master, closed when the
// test ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}
