package monitor

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/taxibuild"
)

// requireTool skips the test when a program is missing, or fails it under
// CI=true, where a skip would hide that nothing was tested.
func requireTool(t *testing.T, name, install string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		msg := fmt.Sprintf("%s not found on PATH: %s to run this test", name, install)
		if os.Getenv("CI") == "true" {
			t.Fatal("!!! " + msg)
		}
		t.Skip(msg)
	}
}

// TestSmokeTmux drives the real binary in a real terminal: start it on a
// live cluster, switch through the views, quit, and check the terminal was
// given back.
func TestSmokeTmux(t *testing.T) {
	t.Parallel()
	requireTool(t, "tmux", "apt-get install tmux (scripts/install-test-deps.sh does)")
	bin := taxibuild.Binary(t)
	e := newTestEnv(t)

	// A tmux server of its own, so the test never touches the user's.
	sock := fmt.Sprintf("taxi-monitor-test-%d", os.Getpid())
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", append([]string{"-L", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", sock, "kill-server").Run() })

	// After the monitor exits, the shell says how, then waits, so that the
	// restored screen can be read.
	script := fmt.Sprintf("%s monitor --redis-url %s --interval 500ms; echo monitor exited with status $?; read wait",
		bin, e.redis.URL())
	tmux("new-session", "-d", "-s", "smoke", "-x", "120", "-y", "35", script)

	screen := func() string { return tmux("capture-pane", "-p", "-t", "smoke") }
	waitScreen := func(what string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			s := screen()
			missing := ""
			for _, w := range want {
				if !strings.Contains(s, w) {
					missing = w
					break
				}
			}
			if missing == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: screen lacks %q after 15s:\n%s", what, missing, s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	keys := func(k ...string) { tmux(append([]string{"send-keys", "-t", "smoke"}, k...)...) }

	waitScreen("start", "[1 overview]", "Drivers online  3", "1 up · 1 DOWN (n2)", "1 WITHOUT EXPIRY")
	if tmux("display-message", "-p", "-t", "smoke", "#{alternate_on}") != "1\n" {
		t.Errorf("the monitor should draw on the alternate screen")
	}
	keys("2")
	waitScreen("nodes view", "[2 nodes]", "2 nodes, 1 up", "n1", "redis  up", "DOWN")
	keys("Down")
	waitScreen("select the down node", "n2 DOWN: stats: dial tcp")
	keys("3")
	waitScreen("locks view", "[3 locks]", "ord-1001", "NO EXPIRY", "stuck: never expires")
	keys("4")
	waitScreen("orders view", "[4 orders]", "VIEWERS", "ord-1001", "open")
	keys("?")
	waitScreen("help", "previous view", "page down")
	keys("Tab")
	waitScreen("tab wraps to the overview", "[1 overview]")
	keys("q")
	waitScreen("quit", "monitor exited with status 0")

	if s := screen(); strings.Contains(s, "taxi monitor") || strings.Contains(s, "Drivers online") {
		t.Errorf("the monitor's screen is still shown after it quit:\n%s", s)
	}
	if got := tmux("display-message", "-p", "-t", "smoke", "#{alternate_on} #{cursor_flag}"); got != "0 1\n" {
		t.Errorf("terminal not restored: alternate screen and cursor flags %q, want \"0 1\"", got)
	}
}
