package scripts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taxi-hub/taxi/internal/eventually"
	"github.com/taxi-hub/taxi/internal/redistest"
	"github.com/taxi-hub/taxi/internal/taxibuild"
)

func TestMain(m *testing.M) {
	code := m.Run()
	taxibuild.Remove()
	os.Exit(code)
}

// output is a buffer the script writes to while the test reads it.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// script is a running cluster-local.sh.
type script struct {
	cmd            *exec.Cmd
	stdout, stderr output
	done           chan struct{}
	err            error
}

// startCluster runs cluster-local.sh with env added to the test's own, in
// a process group of its own that the test kills if it is still there at
// the end.
func startCluster(t *testing.T, env ...string) *script {
	t.Helper()
	requireTools(t, "bash", "redis-server", "redis-cli", "curl", "ss")
	s := &script{done: make(chan struct{})}
	s.cmd = exec.Command("bash", "cluster-local.sh")
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A process that escaped the group may hold the output pipes open:
	// Wait stops copying from them this long after the script exits.
	s.cmd.WaitDelay = 5 * time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start cluster-local.sh: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	})
	return s
}

// requireTools skips the test where a tool the script needs is missing,
// except under CI, where scripts/install-test-deps.sh installs them.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed", n)
			}
			t.Skipf("%s is not installed", n)
		}
	}
}

// exit waits for the script to end and returns its exit code.
func (s *script) exit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(within):
		t.Fatalf("cluster-local.sh still runs after %v\nstdout:\n%s\nstderr:\n%s", within, s.stdout.String(), s.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode()
	}
	if s.err != nil {
		t.Fatalf("cluster-local.sh: %v", s.err)
	}
	return 0
}

// requireFailure checks the script stopped with exit 1 and an error
// containing each of msgs.
func (s *script) requireFailure(t *testing.T, msgs ...string) {
	t.Helper()
	if code := s.exit(t, 60*time.Second); code != 1 {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", code, s.stderr.String())
	}
	for _, m := range msgs {
		if !strings.Contains(s.stderr.String(), m) {
			t.Errorf("stderr does not say %q:\n%s", m, s.stderr.String())
		}
	}
	s.requireNoProcessLeft(t)
}

// requireNoProcessLeft checks nothing of the script's process group runs
// any more: every redis-server and node it started was stopped.
func (s *script) requireNoProcessLeft(t *testing.T) {
	t.Helper()
	eventually.Check(t, 10*time.Second, func() error {
		if err := syscall.Kill(-s.cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("processes of the script still run (kill -0: %v)", err)
		}
		return nil
	})
}

// TestClusterLocalRefusesForeignRedis gives the script the port of a Redis
// it did not start: it must stop with an error naming the port, without
// connecting to that Redis, let alone writing keys into it.
func TestClusterLocalRefusesForeignRedis(t *testing.T) {
	t.Parallel()
	foreign := redistest.Start(t)
	// One connection, reused: the connections Redis counts after it are
	// someone else's.
	c := redis.NewClient(&redis.Options{Addr: foreign.Addr(), PoolSize: 1})
	t.Cleanup(func() { _ = c.Close() })
	before := connectionsReceived(t, c)

	s := startCluster(t, fmt.Sprintf("REDIS_PORT=%d", foreign.Port()), "TAXI="+taxibuild.Binary(t))
	s.requireFailure(t, fmt.Sprintf("port %d", foreign.Port()), "in use by another process")

	if after := connectionsReceived(t, c); after != before {
		t.Errorf("the foreign Redis counted connections %s before the script and %s after it", before, after)
	}
	if n, err := c.DBSize(context.Background()).Result(); err != nil || n != 0 {
		t.Errorf("the foreign Redis holds %d keys (err %v), want 0", n, err)
	}
}

func connectionsReceived(t *testing.T, c *redis.Client) string {
	t.Helper()
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`total_connections_received:(\d+)`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no total_connections_received in INFO stats:\n%s", info)
	}
	return m[1]
}

// TestClusterLocalRefusesTakenNodePort holds the port the second node would
// get from BASE_PORT: the script must refuse before starting anything, and
// never connect to the listener holding it.
func TestClusterLocalRefusesTakenNodePort(t *testing.T) {
	t.Parallel()
	base, held := consecutivePorts(t)
	var accepted sync.WaitGroup
	conns := make(chan struct{}, 16)
	accepted.Add(1)
	go func() {
		defer accepted.Done()
		for {
			c, err := held.Accept()
			if err != nil {
				return
			}
			conns <- struct{}{}
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = held.Close(); accepted.Wait() })

	s := startCluster(t, fmt.Sprintf("BASE_PORT=%d", base), "NODES=2", "TAXI="+taxibuild.Binary(t))
	s.requireFailure(t, fmt.Sprintf("port %d", base+1), "in use by another process")
	if strings.Contains(s.stderr.String(), "redis-server on") {
		t.Errorf("the script started redis-server before checking the ports it was given:\n%s", s.stderr.String())
	}
	if n := len(conns); n != 0 {
		t.Errorf("the script connected %d times to the listener holding the port", n)
	}
}

// consecutivePorts returns a free port p and a listener holding p+1.
func consecutivePorts(t *testing.T) (int, net.Listener) {
	t.Helper()
	for range 50 {
		held, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := held.Addr().(*net.TCPAddr).Port - 1
		if probe, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			_ = probe.Close()
			return p, held
		}
		_ = held.Close()
	}
	t.Fatal("no two consecutive free ports")
	return 0, nil
}

// TestClusterLocalStartsOnFreePorts runs the script as a developer does,
// with no port given: it picks free ports, the nodes share its own Redis,
// and Ctrl-C stops every process it started.
func TestClusterLocalStartsOnFreePorts(t *testing.T) {
	t.Parallel()
	s := startCluster(t, "TAXI="+taxibuild.Binary(t))
	eventually.Check(t, 60*time.Second, func() error {
		select {
		case <-s.done:
			return fmt.Errorf("the script ended: %v\n%s", s.err, s.stderr.String())
		default:
		}
		if !strings.Contains(s.stdout.String(), "Ctrl-C stops the cluster.") {
			return errors.New("the cluster is not up yet")
		}
		return nil
	})
	out := s.stdout.String()
	redisPort := regexp.MustCompile(`redis://127\.0\.0\.1:(\d+)/0`).FindStringSubmatch(out)
	nodes := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindAllString(strings.SplitN(out, "Logs:", 2)[0], -1)
	if redisPort == nil || len(nodes) != 2 {
		t.Fatalf("no Redis URL or not two node URLs in:\n%s", out)
	}
	for _, n := range nodes {
		body := get(t, n+"/ws/stats")
		if !strings.Contains(body, `"mode":"redis"`) {
			t.Errorf("node %s is not in Redis mode: %s", n, body)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + redisPort[1]})
	t.Cleanup(func() { _ = c.Close() })
	info, err := c.Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	pid := regexp.MustCompile(`process_id:(\d+)`).FindStringSubmatch(info)
	if pid == nil {
		t.Fatalf("no process_id in INFO server")
	}
	var ppid int
	if stat, err := os.ReadFile("/proc/" + pid[1] + "/stat"); err == nil {
		// pid (comm) state ppid ...
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		_, _ = fmt.Sscan(fields[1], &ppid)
		if ppid != s.cmd.Process.Pid {
			t.Errorf("the Redis on port %s is process %s with parent %d, not a child of the script (%d)", redisPort[1], pid[1], ppid, s.cmd.Process.Pid)
		}
	}

	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := s.exit(t, 30*time.Second); code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130\n%s", code, s.stderr.String())
	}
	s.requireNoProcessLeft(t)
	for _, addr := range append([]string{"127.0.0.1:" + redisPort[1]}, nodes...) {
		addr = strings.TrimPrefix(addr, "http://")
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			t.Errorf("%s still listens after the script stopped", addr)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return b.String()
}

// TestClusterLocalWithoutRedisServer runs the script where redis-server
// cannot be found: it must say so and start nothing.
func TestClusterLocalWithoutRedisServer(t *testing.T) {
	t.Parallel()
	requireTools(t, "bash")
	bin := t.TempDir()
	for _, tool := range []string{"bash", "dirname", "mktemp", "rm", "ss", "curl", "sed", "grep", "tail", "tr", "sleep", "redis-cli", "make"} {
		if path, err := exec.LookPath(tool); err == nil {
			if err := os.Symlink(path, filepath.Join(bin, tool)); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := startCluster(t, "PATH="+bin, "TAXI="+taxibuild.Binary(t))
	s.requireFailure(t, "redis-server is not installed")
}

// TestClusterLocalNodeFailsToStart gives the script a binary that exits at
// once: it must report the node and its log, and stop the Redis it started.
func TestClusterLocalNodeFailsToStart(t *testing.T) {
	t.Parallel()
	fake := filepath.Join(t.TempDir(), "taxi")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'serve: listen tcp: cannot bind' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startCluster(t, "TAXI="+fake)
	s.requireFailure(t, "node local-0 exited at start", "cannot bind")
	m := regexp.MustCompile(`redis-server on (127\.0\.0\.1:\d+)`).FindStringSubmatch(s.stderr.String())
	if m == nil {
		t.Fatalf("the script did not say where it started redis-server:\n%s", s.stderr.String())
	}
	if c, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
		_ = c.Close()
		t.Errorf("the script's redis-server on %s still listens", m[1])
	}
}
