package monitor

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/taxi-hub/taxi/contract"
	"github.com/taxi-hub/taxi/lockctl"
	"github.com/taxi-hub/taxi/server"
)

// fakeFx records the commands the model asks for instead of doing I/O.
type fakeFx struct {
	fetches int
	ticks   []int
	clears  []lockctl.Lock
}

type (
	fetchCmdMsg struct{}
	tickCmdMsg  struct{ gen int }
	clearCmdMsg struct{ lock lockctl.Lock }
)

func (f *fakeFx) effects(withClear bool) effects {
	fx := effects{
		fetch: func() tea.Cmd {
			f.fetches++
			return func() tea.Msg { return fetchCmdMsg{} }
		},
		tick: func(_ time.Duration, gen int) tea.Cmd {
			f.ticks = append(f.ticks, gen)
			return func() tea.Msg { return tickCmdMsg{gen} }
		},
	}
	if withClear {
		fx.clear = func(l lockctl.Lock) tea.Cmd {
			f.clears = append(f.clears, l)
			return func() tea.Msg { return clearCmdMsg{l} }
		}
	}
	return fx
}

func newTestModel(t *testing.T, withClear bool) (*model, *fakeFx) {
	t.Helper()
	f := &fakeFx{}
	m := newModel(Options{Interval: 2 * time.Second, Actor: "alice"}.withDefaults(), f.effects(withClear))
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	return m, f
}

func press(m *model, keys ...string) tea.Cmd {
	var cmds []tea.Cmd
	for _, k := range keys {
		var msg tea.KeyMsg
		switch k {
		case "tab":
			msg = tea.KeyMsg{Type: tea.KeyTab}
		case "shift+tab":
			msg = tea.KeyMsg{Type: tea.KeyShiftTab}
		case "up":
			msg = tea.KeyMsg{Type: tea.KeyUp}
		case "down":
			msg = tea.KeyMsg{Type: tea.KeyDown}
		case "enter":
			msg = tea.KeyMsg{Type: tea.KeyEnter}
		case "esc":
			msg = tea.KeyMsg{Type: tea.KeyEsc}
		case "pgup":
			msg = tea.KeyMsg{Type: tea.KeyPgUp}
		case "backspace":
			msg = tea.KeyMsg{Type: tea.KeyBackspace}
		case "ctrl+c":
			msg = tea.KeyMsg{Type: tea.KeyCtrlC}
		default:
			msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		}
		_, cmd := m.Update(msg)
		cmds = append(cmds, cmd)
	}
	return cmds[len(cmds)-1]
}

// sampleSnapshot is a cluster of three nodes (one down, one degraded), a
// stuck lock and a live one, and two viewed orders.
func sampleSnapshot(at time.Time, framesSent int64) Snapshot {
	stats := func(id, mode string, drivers, frames int64) *server.Stats {
		return &server.Stats{
			NodeID: id, Mode: mode, StartedAt: at.Add(-time.Hour).Truncate(time.Hour), UptimeSeconds: 3600,
			Connections: server.ConnStats{Drivers: drivers, Users: 1},
			Counters:    server.CounterStats{OrdersCreated: frames / 10, FramesSent: frames},
			RSSBytes:    20 << 20,
		}
	}
	degraded := stats("n3", "memory", 2, framesSent/2)
	degraded.Redis = &server.RedisStats{Status: "degraded", DegradedSeconds: 12, LastError: "ping: i/o timeout"}
	return Snapshot{
		Time: at,
		Redis: &RedisSnapshot{
			URL: "redis://redis:6379/0", LatencyMs: 0.3, ActiveDrivers: 11, ActiveUsers: 3, LocatedDrivers: 9, Rides: 1,
			Channels: []Channel{{Name: string(contract.ChannelDrivers), Subscribers: 2}, {Name: string(contract.ChannelUsers), Subscribers: 2}},
			Server:   ServerInfo{Version: "7.2.4", UsedMemoryBytes: 3 << 20, ConnectedClients: 12, OpsPerSec: 80, Masters: 1},
			Locks: Locks{Total: 2, Stale: 1, Items: []lockctl.Lock{
				{OrderID: "ord-2", Owner: "d5", TTL: 3 * time.Second},
				{OrderID: "ord-1", Owner: "d7", TTL: lockctl.NoExpiry},
			}},
			Viewed: Viewed{Orders: 2, Viewers: 5, Top: []ViewedOrder{
				{OrderID: "ord-1", Viewers: 4, Status: "open", UserID: "u1", LockOwner: "d7"},
				{OrderID: "ord-3", Viewers: 1, Status: "open", UserID: "u2"},
			}},
		},
		Nodes: []Node{
			{NodeID: "n1", Up: true, StatsURL: "http://n1/ws/stats", Stats: stats("n1", "redis", 7, framesSent)},
			{NodeID: "n2", Up: false, Error: "stats: connection refused"},
			{NodeID: "n3", Up: true, StatsURL: "http://n3/ws/stats", Stats: degraded},
		},
	}
}

var t0 = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

func TestRefreshLoop(t *testing.T) {
	t.Parallel()
	m, f := newTestModel(t, true)
	if _, ok := m.Init()().(fetchCmdMsg); !ok || f.fetches != 1 || !m.fetching {
		t.Fatalf("Init should start one fetch: fetches %d, fetching %v", f.fetches, m.fetching)
	}
	// While the first fetch runs, r and stale ticks start nothing.
	if cmd := press(m, "r"); cmd != nil || f.fetches != 1 {
		t.Fatalf("r during a fetch started another (%d fetches)", f.fetches)
	}

	_, cmd := m.Update(snapshotMsg{snap: sampleSnapshot(t0, 100)})
	tick, ok := cmd().(tickCmdMsg)
	if !ok || m.fetching || len(f.ticks) != 1 {
		t.Fatalf("a snapshot should schedule one tick: %v %+v", cmd(), f)
	}
	m.Update(tickMsg(tick))
	if f.fetches != 2 || !m.fetching {
		t.Fatalf("the tick should start the second fetch: %d fetches", f.fetches)
	}
	m.Update(tickMsg(tick))
	if f.fetches != 2 {
		t.Fatalf("a repeated tick started a fetch during a fetch")
	}

	// r when idle fetches now and makes the scheduled tick stale.
	_, cmd = m.Update(snapshotMsg{snap: sampleSnapshot(t0.Add(2*time.Second), 120)})
	tick = cmd().(tickCmdMsg)
	press(m, "r")
	if f.fetches != 3 {
		t.Fatalf("r should fetch at once: %d fetches", f.fetches)
	}
	m.Update(snapshotMsg{snap: sampleSnapshot(t0.Add(3*time.Second), 130)})
	if _, cmd := m.Update(tickMsg(tick)); cmd != nil || f.fetches != 3 {
		t.Fatalf("a tick scheduled before r should be ignored: %d fetches", f.fetches)
	}
}

func TestViewSwitching(t *testing.T) {
	t.Parallel()
	m, _ := newTestModel(t, true)
	m.Update(snapshotMsg{snap: sampleSnapshot(t0, 100)})
	for _, step := range []struct {
		keys []string
		want view
	}{
		{[]string{"tab"}, viewNodes},
		{[]string{"tab", "tab"}, viewOrders},
		{[]string{"tab"}, viewOverview}, // wraps
		{[]string{"shift+tab"}, viewOrders},
		{[]string{"3"}, viewLocks},
		{[]string{"1"}, viewOverview},
		{[]string{"4"}, viewOrders},
		{[]string{"2"}, viewNodes},
	} {
		press(m, step.keys...)
		if m.view != step.want {
			t.Fatalf("after %v: view %v, want %v", step.keys, m.view, step.want)
		}
		if title := strings.SplitN(m.View(), "\n", 2)[0]; !strings.Contains(title, fmt.Sprintf("[%d %s]", step.want+1, step.want)) {
			t.Fatalf("title bar does not mark %v: %q", step.want, title)
		}
	}
}

func TestQuitKeys(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"q", "ctrl+c"} {
		m, _ := newTestModel(t, true)
		if cmd := press(m, k); cmd == nil || cmd() != tea.Quit() {
			t.Errorf("%s should quit", k)
		}
	}
	// q typed into the filter is text; ctrl+c still quits.
	m, _ := newTestModel(t, true)
	m.Update(snapshotMsg{snap: sampleSnapshot(t0, 100)})
	if cmd := press(m, "2", "/", "q"); cmd != nil || m.tables[viewNodes].filter != "q" {
		t.Errorf("q in the filter prompt should be typed, filter %q", m.tables[viewNodes].filter)
	}
	if cmd := press(m, "ctrl+c"); cmd == nil || cmd() != tea.Quit() {
		t.Errorf("ctrl+c should quit from the filter prompt")
	}
}

// selectedLine returns the table line marked as selected.
func selectedLine(t *testing.T, screen string) string {
	t.Helper()
	for l := range strings.Lines(screen) {
		if strings.HasPrefix(l, "› ") {
			return l
		}
	}
	t.Fatalf("no selected row on screen:\n%s", screen)
	return ""
}

func TestNodesTableCursorFilterSort(t *testing.T) {
	t.Parallel()
	m, _ := newTestModel(t, true)
	m.Update(snapshotMsg{snap: sampleSnapshot(t0, 100)})
	press(m, "2")
	screen := m.View()
	if !strings.Contains(selectedLine(t, screen), "n1") {
		t.Fatalf("first row should be selected:\n%s", screen)
	}
	for _, want := range []string{"n2", "DOWN", "n3", "memory", "degraded", "20.0 MiB", "1h00m"} {
		if !strings.Contains(screen, want) {
			t.Errorf("nodes view lacks %q:\n%s", want, screen)
		}
	}
	press(m, "down")
	screen = m.View()
	if !strings.Contains(selectedLine(t, screen), "n2") || !strings.Contains(screen, "   n2 DOWN: stats: connection refused") {
		t.Fatalf("down should select n2 and show why it is down:\n%s", screen)
	}
	press(m, "down", "down", "down") // clamped at the last row
	if screen := m.View(); !strings.Contains(selectedLine(t, screen), "n3") || m.tables[viewNodes].cursor != 2 ||
		!strings.Contains(screen, "n3 degraded: redis degraded 12s: ping: i/o timeout") {
		t.Fatalf("cursor should stop at n3: %+v", m.tables[viewNodes])
	}

	// The selection follows n3 when a refresh reorders the rows.
	press(m, "s") // sort: state, down first
	screen = m.View()
	if !strings.Contains(screen, "sort: state") || !strings.Contains(selectedLine(t, screen), "n3") {
		t.Fatalf("after s:\n%s", screen)
	}
	if rows := m.rows(viewNodes); rows[0].key != "n2" || rows[1].key != "n3" {
		t.Fatalf("sort by state should put the down node first, then the degraded: %v", rows)
	}

	// The filter narrows the table as it is typed; esc drops it.
	press(m, "/", "n", "2")
	screen = m.View()
	if strings.Contains(screen, "n1 ") || !strings.Contains(screen, `filter "n2": 1 shown`) || !strings.Contains(screen, "filter: n2▏") {
		t.Fatalf("filter n2:\n%s", screen)
	}
	press(m, "backspace", "3", "enter")
	if m.filtering || m.tables[viewNodes].filter != "n3" || !strings.Contains(selectedLine(t, m.View()), "n3") {
		t.Fatalf("enter should keep the filter n3: %+v", m.tables[viewNodes])
	}
	press(m, "esc")
	if m.tables[viewNodes].filter != "" || len(m.rows(viewNodes)) != 3 {
		t.Fatalf("esc should drop the filter: %+v", m.tables[viewNodes])
	}
	// Each view keeps its own filter.
	if m.tables[viewLocks].filter != "" {
		t.Fatalf("the locks view got the nodes filter")
	}
}

func TestLocksViewHighlightsStaleLocks(t *testing.T) {
	t.Parallel()
	m, _ := newTestModel(t, true)
	m.Update(snapshotMsg{snap: sampleSnapshot(t0, 100)})
	press(m, "3")
	screen := m.View()
	rows := m.rows(viewLocks)
	if rows[0].key != "ord-1" || rows[0].tone != toneAlert || rows[1].tone != toneNormal {
		t.Fatalf("the stale lock should come first, as an alert: %+v", rows)
	}
	for _, want := range []string{"2 locks, 1 without expiry", "NO EXPIRY", "stuck: never expires — c to clear", "3s", "c clear lock"} {
		if !strings.Contains(screen, want) {
			t.Errorf("locks view lacks %q:\n%s", want, screen)
		}
	}
}

func TestClearLockNeedsConfirmation(t *testing.T) {
	t.Parallel()
	m, f := newTestModel(t, true)
	m.Update(snapshotMsg{snap: sampleSnapshot(t0, 100)})
	press(m, "3", "c")
	if m.confirm == nil || !strings.Contains(m.View(), "Clear order_lock:ord-1 held by d7 (no expiry)? The order can be accepted again. [y/N]") {
		t.Fatalf("c should ask first:\n%s", m.View())
	}
	// A refresh while asking does not change what was asked about.
	m.Update(snapshotMsg{snap: sampleSnapshot(t0.Add(time.Second), 100)})
	// Anything but y keeps the lock.
	press(m, "n")
	if len(f.clears) != 0 || m.confirm != nil || !strings.Contains(m.View(), "not cleared: order_lock:ord-1 left in place") {
		t.Fatalf("n should not clear: %+v\n%s", f.clears, m.View())
	}

	press(m, "c", "y")
	if len(f.clears) != 1 || f.clears[0] != (lockctl.Lock{OrderID: "ord-1", Owner: "d7", TTL: lockctl.NoExpiry}) {
		t.Fatalf("y should clear the selected lock with its owner: %+v", f.clears)
	}
	fetches := f.fetches
	m.Update(clearedMsg{lock: f.clears[0], res: lockctl.Result{
		OrderID: "ord-1", Key: "order_lock:ord-1", Owner: "d7", TTL: lockctl.NoExpiry, Outcome: lockctl.Cleared, AuditID: "17-0",
	}})
	if want := "deleted order_lock:ord-1 (held by d7, no expiry) · audit 17-0 by alice"; !strings.Contains(m.View(), want) {
		t.Fatalf("status should say what was done, want %q:\n%s", want, m.View())
	}
	if f.fetches != fetches+1 {
		t.Fatalf("a clear should refresh the view")
	}
}

func TestClearOutcomes(t *testing.T) {
	t.Parallel()
	l := lockctl.Lock{OrderID: "ord-1", Owner: "d7", TTL: lockctl.NoExpiry}
	for _, tc := range []struct {
		msg  clearedMsg
		want string
		tone tone
	}{
		{clearedMsg{l, lockctl.Result{Owner: "d9", Outcome: lockctl.OwnerDiffers}, fmt.Errorf("x: %w", lockctl.ErrOwnerDiffers)},
			"order_lock:ord-1 changed since it was shown: now held by d9; left in place", toneWarn},
		{clearedMsg{l, lockctl.Result{Outcome: lockctl.NotFound}, fmt.Errorf("x: %w", lockctl.ErrLockNotFound)},
			"order_lock:ord-1 is already gone (released or expired); nothing deleted", toneNormal},
		{clearedMsg{l, lockctl.Result{Owner: "d7", Outcome: lockctl.Cleared}, fmt.Errorf("x: %w", lockctl.ErrAuditNotRecorded)},
			"deleted order_lock:ord-1 (held by d7) but the audit record failed", toneWarn},
		{clearedMsg{l, lockctl.Result{}, errors.New("dial tcp: refused")},
			"clear order_lock:ord-1 failed: dial tcp: refused", toneAlert},
	} {
		got, tone := clearOutcome(tc.msg, "alice")
		if !strings.Contains(got, tc.want) || tone != tc.tone {
			t.Errorf("clearOutcome(%+v) = %q (%v), want %q (%v)", tc.msg, got, tone, tc.want, tc.tone)
		}
	}
}

func TestClearNeedsRedis(t *testing.T) {
	t.Parallel()
	m, f := newTestModel(t, false) // --no-redis: no clearer
	m.Update(snapshotMsg{snap: sampleSnapshot(t0, 100)})
	press(m, "3", "c", "y")
	if m.confirm != nil || len(f.clears) != 0 {
		t.Fatalf("c without Redis should do nothing")
	}
	if s := m.View(); strings.Contains(s, "c clear lock") || strings.Contains(s, "c to clear") || !strings.Contains(s, "stuck: never expires") {
		t.Fatalf("the screen should not offer c without Redis:\n%s", s)
	}
}

// TestKeysInOneRead: keys that arrive in one read (fast typing, tmux
// send-keys) each count.
func TestKeysInOneRead(t *testing.T) {
	t.Parallel()
	m, f := newTestModel(t, true)
	m.Update(snapshotMsg{snap: sampleSnapshot(t0, 100)})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("3c")})
	if m.view != viewLocks || m.confirm == nil {
		t.Fatalf("\"3c\" should switch to locks and ask to clear: view %v, confirm %v", m.view, m.confirm)
	}
	// A paste is text, not keys: it answers no.
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("yy"), Paste: true})
	if m.confirm != nil || len(f.clears) != 0 {
		t.Fatalf("a pasted \"yy\" confirmed a clear: %+v", f.clears)
	}
}

func TestRedisDownBanner(t *testing.T) {
	t.Parallel()
	m, _ := newTestModel(t, true)
	snap := sampleSnapshot(t0, 100)
	snap.Redis = &RedisSnapshot{URL: "redis://redis:6379/0", Error: "ping: dial tcp 10.0.0.9:6379: connect: connection refused"}
	m.Update(snapshotMsg{snap: snap})
	for v := range numViews {
		m.view = v
		screen := m.View()
		for _, want := range []string{"Redis unreachable at redis://redis:6379/0, retrying every 2s · ping: dial tcp 10.0.0.9:6379:", "connect: connection refused"} {
			if !strings.Contains(screen, want) {
				t.Errorf("%v view lacks the banner %q:\n%s", v, want, screen)
			}
		}
	}
	m.view = viewOverview
	if s := m.View(); !strings.Contains(s, "UNREACHABLE") || !strings.Contains(s, "Drivers online  9") {
		t.Errorf("overview should count drivers from the nodes' stats (7+2):\n%s", s)
	}
	m.view = viewLocks
	if s := m.View(); !strings.Contains(s, "Redis unreachable: nothing to show until it answers") {
		t.Errorf("locks view without Redis:\n%s", s)
	}
}

func TestOverview(t *testing.T) {
	t.Parallel()
	m, _ := newTestModel(t, true)
	m.Update(snapshotMsg{snap: sampleSnapshot(t0, 100)})
	m.Update(snapshotMsg{snap: sampleSnapshot(t0.Add(2*time.Second), 140)})
	screen := m.View()
	for _, want := range []string{
		"updated 09:30:02 · every 2s",
		"Drivers online  11",
		"Orders/s        3.0", // (14-10 + 7-5)/2s
		"Deliveries/s    30.0",
		"2 up (1 degraded: n3) · 1 DOWN (n2)",
		"7.2.4 · ping 0.30 ms · 3.0 MiB used · 12 clients · 80 ops/s",
		"drivers_channel 2 · users_channel 2",
		"2 held · 1 WITHOUT EXPIRY (stuck: see 3 locks)",
		"2 orders · 5 viewers · most viewed ord-1 (4)",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("overview lacks %q:\n%s", want, screen)
		}
	}
}

func TestViewFitsTheTerminal(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int{{100, 30}, {80, 24}, {160, 50}, {40, 10}, {20, 5}} {
		m, _ := newTestModel(t, true)
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		m.Update(snapshotMsg{snap: sampleSnapshot(t0, 100)})
		for v := range numViews {
			for _, help := range []bool{false, true} {
				m.view, m.showHelp = v, help
				lines := strings.Split(m.View(), "\n")
				if len(lines) > size[1] {
					t.Errorf("%dx%d %v help=%v: %d lines", size[0], size[1], v, help, len(lines))
				}
				for i, l := range lines {
					if w := lipgloss.Width(l); w > size[0] {
						t.Errorf("%dx%d %v: line %d is %d wide: %q", size[0], size[1], v, i, w, l)
					}
				}
			}
		}
	}
}

func TestBeforeFirstSnapshot(t *testing.T) {
	t.Parallel()
	m, _ := newTestModel(t, true)
	if s := m.View(); !strings.Contains(s, "collecting the first snapshot") || !strings.Contains(s, "connecting…") {
		t.Fatalf("before data:\n%s", s)
	}
	press(m, "3", "c", "down", "s") // nothing to act on yet: no panic, no confirm
	if m.confirm != nil {
		t.Fatalf("confirm without a lock")
	}
}

func TestHistoryRates(t *testing.T) {
	t.Parallel()
	h := newHistory()
	s1 := sampleSnapshot(t0, 100)
	h.add(s1)
	if len(h.orders) != 0 || len(h.drivers) != 1 {
		t.Fatalf("one snapshot has no rate: %+v", h)
	}
	h.add(sampleSnapshot(t0.Add(2*time.Second), 200))
	if r := h.rates["n1"]; r.FramesPerSec != 50 {
		t.Fatalf("n1 frames/s %v, want (200-100)/2s", r.FramesPerSec)
	}
	if v, _ := h.deliveries.last(); v != 75 { // n1 50 + n3 25
		t.Fatalf("deliveries/s %v, want 75", v)
	}
	// n1 restarts: its counters start again and give no rate this time.
	s3 := sampleSnapshot(t0.Add(4*time.Second), 220)
	s3.Nodes[0].Stats.StartedAt = t0.Add(3 * time.Second)
	s3.Nodes[0].Stats.Counters.FramesSent = 5
	h.add(s3)
	if _, ok := h.rates["n1"]; ok {
		t.Fatalf("a restarted node got a rate: %+v", h.rates)
	}
	if v, _ := h.deliveries.last(); v != 5 { // n3 only: (110-100)/2s
		t.Fatalf("deliveries/s %v, want n3's 5", v)
	}
	for range historyLen + 10 {
		h.add(s3)
	}
	if len(h.drivers) != historyLen {
		t.Fatalf("history grew to %d, want %d", len(h.drivers), historyLen)
	}
}

func TestSparkline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    series
		width int
		want  string
	}{
		{nil, 5, ""},
		{series{0, 0, 0}, 5, "▁▁▁"},                // nothing: a flat low line
		{series{1, 2, 4, 8}, 10, "▂▃▅█"},           // scaled from zero to the peak
		{series{8, 0, 8}, 3, "█▁█"},                // a gap shows
		{series{1, 2, 3, 4, 5, 6, 7, 8}, 3, "▆▇█"}, // the newest samples
		{series{0.001, 1000}, 2, "▂█"},             // a tiny value is not nothing
		{series{5}, 0, ""},
	} {
		if got := sparkline(tc.in, tc.width); got != tc.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	for got, want := range map[string]string{
		formatBytes(512):                   "512 B",
		formatBytes(1536):                  "1.5 KiB",
		formatBytes(25 << 20):              "25.0 MiB",
		formatUptime(42):                   "42s",
		formatUptime(3723):                 "1h02m",
		formatUptime(90061):                "1d01h",
		formatRate(0):                      "0",
		formatRate(2.25):                   "2.2",
		formatRate(1234.5):                 "1234",
		formatTTL(lockctl.NoExpiry):        "NO EXPIRY",
		formatTTL(4260 * time.Millisecond): "4.3s",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestLongTableScrolls(t *testing.T) {
	t.Parallel()
	m, _ := newTestModel(t, true)
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 20})
	snap := sampleSnapshot(t0, 100)
	snap.Redis.Viewed.Top = nil
	for i := range 60 {
		snap.Redis.Viewed.Top = append(snap.Redis.Viewed.Top, ViewedOrder{OrderID: fmt.Sprintf("ord-%02d", i), Viewers: int64(100 - i), Status: "open"})
	}
	m.Update(snapshotMsg{snap: snap})
	press(m, "4")
	screen := m.View()
	if !strings.Contains(screen, "rows 1-") || !strings.Contains(selectedLine(t, screen), "ord-00") {
		t.Fatalf("a long table should say which rows it shows:\n%s", screen)
	}
	press(m, "G")
	screen = m.View()
	if !strings.Contains(screen, "of 60") || !strings.Contains(screen, "-60 of 60") || !strings.Contains(selectedLine(t, screen), "ord-59") {
		t.Fatalf("end should show the last rows:\n%s", screen)
	}
	if lines := strings.Split(screen, "\n"); len(lines) != 20 {
		t.Fatalf("screen is %d lines, want 20", len(lines))
	}
	press(m, "pgup")
	if c := m.tables[viewOrders].cursor; c >= 59 || c < 40 {
		t.Fatalf("page up moved the cursor to %d", c)
	}
	press(m, "g")
	if !strings.Contains(selectedLine(t, m.View()), "ord-00") {
		t.Fatalf("home should go back to the first row")
	}
}

func TestStatusLastsUntilTheNextKey(t *testing.T) {
	t.Parallel()
	m, _ := newTestModel(t, true)
	m.Update(snapshotMsg{snap: sampleSnapshot(t0, 100)})
	press(m, "3", "c", "n")
	if !strings.Contains(m.View(), "not cleared") {
		t.Fatalf("the answer's outcome should show")
	}
	m.Update(snapshotMsg{snap: sampleSnapshot(t0.Add(time.Second), 100)})
	if !strings.Contains(m.View(), "not cleared") {
		t.Fatalf("a refresh should not hide the outcome")
	}
	press(m, "1")
	if strings.Contains(m.View(), "not cleared") {
		t.Fatalf("the outcome should go with the next key")
	}
}
