package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startTimeout bounds how long a server may take to answer PING. A cold
// redis-server answers in milliseconds; the margin is for a loaded CI machine.
const startTimeout = 15 * time.Second

// startAttempts is how many fresh ports Start tries when the chosen port was
// taken by someone else between picking it and redis-server binding it.
const startAttempts = 5

// Server is one redis-server process started for a test.
type Server struct {
	port  int
	dir   string
	extra []string // extra command-line arguments, kept for Restart

	mu   sync.Mutex
	proc *process // nil when stopped
}

// process is one run of redis-server. done is closed once the process has
// exited and been reaped; the goroutine that waits for it exits at that moment.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
	log  string
}

// Start starts a redis-server on a free 127.0.0.1 port and waits until it
// answers PING. The server is killed when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	requireBinaries(t, "redis-server")
	return start(t, t.TempDir(), nil, false)
}

// start launches a server with extra arguments, retrying on fresh ports when
// the bind fails. clusterPort asks for a port whose cluster bus (port+10000)
// is free as well.
func start(t testing.TB, dir string, extra []string, clusterPort bool) *Server {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < startAttempts; attempt++ {
		port, err := freePort(clusterPort)
		if err != nil {
			t.Fatalf("redistest: find a free port: %v", err)
		}
		s := &Server{port: port, dir: dir, extra: extra}
		err = s.launch()
		if err == nil {
			t.Cleanup(s.Kill)
			return s
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	t.Fatalf("redistest: start redis-server: %v", lastErr)
	return nil
}

var errAddrInUse = errors.New("address already in use")

// launch starts the process on s.port and waits for PING.
func (s *Server) launch() error {
	logPath := filepath.Join(s.dir, fmt.Sprintf("redis-%d.log", s.port))
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
	}
	args = append(args, s.extra...)
	cmd := exec.Command("redis-server", args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	p := &process{cmd: cmd, done: make(chan struct{}), log: logPath}
	// This goroutine reaps the process and exits as soon as it ends, which
	// Kill and Stop guarantee before the test finishes.
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	if err := waitReady(s.Addr(), p); err != nil {
		p.kill()
		logText := readLog(logPath)
		if strings.Contains(logText, "Address already in use") {
			return fmt.Errorf("port %d: %w", s.port, errAddrInUse)
		}
		return fmt.Errorf("port %d: %w\nredis-server log:\n%s", s.port, err, logText)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// waitReady polls PING until it answers, the process dies, or the deadline
// passes.
func waitReady(addr string, p *process) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("redis-server exited: %v", p.err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		lastErr = c.Ping(ctx).Err()
		cancel()
		if lastErr == nil {
			return nil
		}
		select {
		case <-p.done:
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("no PING answer within %v: %v", startTimeout, lastErr)
}

func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Addr returns host:port of the server.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port returns the server's TCP port.
func (s *Server) Port() int { return s.port }

// URL returns the server's address as a go-redis URL on database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Client returns a client for the server, closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Kill stops the server with SIGKILL, as a crash or an OOM kill would, and
// waits until the process is gone. It is safe to call more than once.
func (s *Server) Kill() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

// Stop shuts the server down with SIGTERM and waits until it has exited. It
// is safe to call more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(startTimeout):
		p.kill()
	}
}

// Restart starts the server again on the same port after Kill or Stop, so
// that clients configured with its address reconnect to it: an outage and its
// end. The data is gone (there is no persistence). It keeps retrying while the
// port is still held, for example by a socket in the kernel's teardown.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	deadline := time.Now().Add(startTimeout)
	for {
		err := s.launch()
		if err == nil {
			return
		}
		if !errors.Is(err, errAddrInUse) || time.Now().After(deadline) {
			t.Fatalf("redistest: restart redis-server: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort asks the kernel for a free loopback port. With cluster set, the
// port must be at most 55000 so that its cluster bus port (port+10000) is a
// valid port, and the bus port must be free too.
func freePort(cluster bool) (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !cluster {
			l.Close()
			return port, nil
		}
		if port > 55000 {
			l.Close()
			continue
		}
		bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		l.Close()
		if err != nil {
			continue
		}
		bus.Close()
		return port, nil
	}
	return 0, errors.New("no free port pair below 55000 after 100 tries")
}

// requireBinaries skips the test when a Redis binary is missing, or fails it
// under CI=true, where a skip would hide that nothing was tested.
func requireBinaries(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			msg := fmt.Sprintf("redistest: %s not found on PATH: install redis-server and redis-tools "+
				"(apt-get install redis-server redis-tools) to run the Redis tests", name)
			if os.Getenv("CI") == "true" {
				t.Fatal("!!! " + msg)
			}
			t.Skip(msg)
		}
	}
}

func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(bytes.TrimSpace(b))
}
