package monitor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/taxi-hub/taxi/internal/eventually"
)

// screenSize is the terminal the golden screens are drawn for.
const screenWidth, screenHeight = 100, 30

// liveScreen runs the real program under teatest on a live cluster (a
// redis-server and a hub), through a source that makes volatile values
// stable. It takes two snapshots with an order created in between, so the
// rates and sparklines have something to show.
type liveScreen struct {
	tm  *teatest.TestModel
	out bytes.Buffer // everything the program wrote so far
}

func startLiveScreen(t *testing.T, e *testEnv, opts Options) *liveScreen {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := e.collector(t, opts)
	// An hour between ticks: the test refreshes with r, so the screens
	// show exactly two snapshots.
	opts = Options{Interval: time.Hour, Actor: "oncall"}.withDefaults()
	m := newModel(opts, newEffects(ctx, e.stable(c), c.clearer(), opts.Actor, time.Second))
	s := &liveScreen{tm: teatest.NewTestModel(t, m, teatest.WithInitialTermSize(screenWidth, screenHeight))}
	t.Cleanup(func() { _ = s.tm.Quit() })
	s.waitFor(t, "updated 09:30:01")
	e.createOrder(t)
	s.tm.Type("r")
	s.waitFor(t, "updated 09:30:02")
	return s
}

// waitFor waits until the program has written text.
func (s *liveScreen) waitFor(t *testing.T, text string) {
	t.Helper()
	teatest.WaitFor(t, io.TeeReader(s.tm.Output(), &s.out), func([]byte) bool {
		return bytes.Contains(s.out.Bytes(), []byte(text))
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// final quits and returns the screen as the model last drew it.
func (s *liveScreen) final(t *testing.T) string {
	t.Helper()
	if err := s.tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := s.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*model)
	return m.View()
}

// TestScreens compares each view, drawn from a live cluster, with its
// golden file in testdata/TestScreens/. Run with -update to rewrite them
// after a deliberate change, and read the diff.
func TestScreens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		keys  string
		shown string // text that says the view is drawn
	}{
		{"overview", "", "Node totals"},
		{"nodes", "2j", "n2 DOWN: stats: dial tcp"}, // the down node selected
		{"locks", "3", "OWNER"},
		{"orders", "4", "VIEWERS"},
		{"help", "3?", "previous view"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			s := startLiveScreen(t, e, Options{})
			s.tm.Type(tc.keys)
			s.waitFor(t, tc.shown)
			screen := s.final(t)
			if len(strings.Split(screen, "\n")) != screenHeight {
				t.Errorf("screen is %d lines, want %d", len(strings.Split(screen, "\n")), screenHeight)
			}
			teatest.RequireEqualOutput(t, []byte(screen))
		})
	}
}

// TestScreenRedisDown: Redis dies under the running program; the banner
// says so on the next refresh and the node is still read.
func TestScreenRedisDown(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	s := startLiveScreen(t, e, Options{Timeout: 300 * time.Millisecond})
	s.tm.Type("2")
	s.waitFor(t, "NODE ")
	e.redis.Kill()
	eventually.Check(t, 10*time.Second, func() error {
		if st := e.hub.Stats(t); st.Mode != "memory" {
			return fmt.Errorf("hub still in %s mode", st.Mode)
		}
		return nil
	})
	s.tm.Type("r")
	s.waitFor(t, "updated 09:30:03")
	screen := s.final(t)
	for _, want := range []string{"Redis unreachable at redis://redis:6379/0", "connection refused", "n1 degraded: redis degraded 12s"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	teatest.RequireEqualOutput(t, []byte(screen))
}

// TestScreenClearLock clears the stuck lock from the locks view, through
// lockctl, against the live Redis: the lock goes and the audit record says
// who cleared it.
func TestScreenClearLock(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	s := startLiveScreen(t, e, Options{})
	s.tm.Type("3c")
	s.waitFor(t, "[y/N]")
	s.tm.Type("y")
	s.waitFor(t, "· audit ")
	s.waitFor(t, "1 lock, 0 without expiry")
	screen := s.final(t)
	if !strings.Contains(screen, "deleted order_lock:ord-1001 (held by d7, no expiry) · audit ") || !strings.Contains(screen, " by oncall") {
		t.Errorf("status line:\n%s", screen)
	}
	ctx := context.Background()
	if n, _ := e.rdb.Exists(ctx, "order_lock:ord-1001").Result(); n != 0 {
		t.Errorf("the stuck lock is still in Redis")
	}
	recs, err := e.rdb.XRange(ctx, "taxi:lock_audit", "-", "+").Result()
	if err != nil || len(recs) != 1 || recs[0].Values["actor"] != "oncall" || recs[0].Values["result"] != "cleared" {
		t.Errorf("audit stream: %+v %v", recs, err)
	}
}

// TestProgramRestoresTerminalOnPanic: a panic inside the program ends it
// with the terminal restored (alternate screen left, cursor shown) and an
// error, not a raw terminal.
func TestProgramRestoresTerminalOnPanic(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := newModel(Options{Interval: time.Hour}.withDefaults(), newEffects(ctx, panicSource{}, nil, "x", time.Second))
	var out bytes.Buffer
	_, err := newProgram(ctx, m, strings.NewReader(""), &out).Run()
	if err := programError(ctx, err); err == nil || !strings.Contains(err.Error(), "terminal restored") {
		t.Fatalf("Run after a panic: %v", err)
	}
	for _, seq := range []string{"\x1b[?1049l", "\x1b[?25h"} { // leave the alternate screen, show the cursor
		if !strings.Contains(out.String(), seq) {
			t.Errorf("output lacks %q: the terminal was not restored", seq)
		}
	}
}

type panicSource struct{}

func (panicSource) Collect(context.Context) Snapshot { panic("collector bug") }

// TestProgramEndsWithContext: a signal (ctx ending) stops the program
// cleanly, which Run reports as a normal exit.
func TestProgramEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	m := newModel(Options{Interval: time.Hour}.withDefaults(), newEffects(ctx, blockingSource{}, nil, "x", time.Second))
	done := make(chan error, 1)
	go func() {
		_, err := newProgram(ctx, m, strings.NewReader(""), io.Discard).Run()
		done <- programError(ctx, err)
	}()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after ctx ended: %v, want a normal exit", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the program did not end with its context")
	}
}

// blockingSource collects until ctx ends, like a fetch in flight.
type blockingSource struct{}

func (blockingSource) Collect(ctx context.Context) Snapshot {
	<-ctx.Done()
	return Snapshot{}
}

var _ tea.Model = (*model)(nil)
