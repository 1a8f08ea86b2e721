package monitor

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/taxi-hub/taxi/lockctl"
)

// view is the screen shown.
type view int

const (
	viewOverview view = iota
	viewNodes
	viewLocks
	viewOrders
	numViews
)

func (v view) String() string {
	return [...]string{"overview", "nodes", "locks", "orders"}[v]
}

// model is the top bubbletea model: the latest snapshot, its history, the
// view shown and each table's cursor, sort and filter. Update never does
// I/O; it asks for it with the commands of effects.
type model struct {
	fx       effects
	interval time.Duration
	actor    string
	keys     keyMap
	help     help.Model

	view          view
	width, height int

	snap Snapshot
	have bool // a snapshot has arrived
	hist *history

	// gen numbers the scheduled refreshes; fetching is true while a
	// collection runs, so that at most one is ever in flight.
	gen      int
	fetching bool

	tables    [numViews]tableState
	filtering bool          // the filter prompt has the keyboard
	confirm   *lockctl.Lock // the lock awaiting y/n
	status    string        // the outcome of the last action
	statusTo  tone
	showHelp  bool
}

func newModel(opts Options, fx effects) *model {
	h := help.New()
	h.ShortSeparator = " · "
	return &model{
		fx:       fx,
		interval: opts.Interval,
		actor:    opts.Actor,
		keys:     newKeyMap(),
		help:     h,
		hist:     newHistory(),
		fetching: true, // Init starts the first collection
		width:    100,
		height:   30,
	}
}

// Init starts the first collection.
func (m *model) Init() tea.Cmd { return m.fx.fetch() }

// Update applies one message. The refresh loop follows bubbletea's realtime
// example: each snapshot schedules the next tick, each tick one fetch.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
	case snapshotMsg:
		m.snap, m.have = msg.snap, true
		m.hist.add(msg.snap)
		m.fetching = false
		for v := viewNodes; v < numViews; v++ {
			m.tables[v].follow(m.rows(v))
		}
		m.gen++
		return m, m.fx.tick(m.interval, m.gen)
	case tickMsg:
		if msg.gen != m.gen || m.fetching {
			return m, nil
		}
		return m, m.refresh()
	case clearedMsg:
		m.status, m.statusTo = clearOutcome(msg, m.actor)
		return m, m.refresh()
	case tea.KeyMsg:
		return m, m.press(msg)
	}
	return m, nil
}

// press handles a key message. Keys typed faster than the terminal is read
// (or sent by a script, as tmux send-keys does) arrive as one message of
// several runes; each is a key press of its own. A paste is text, for the
// filter prompt only.
func (m *model) press(msg tea.KeyMsg) tea.Cmd {
	if msg.Type != tea.KeyRunes || len(msg.Runes) < 2 || msg.Paste {
		return m.key(msg)
	}
	var cmds []tea.Cmd
	for _, r := range msg.Runes {
		cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}))
	}
	return tea.Batch(cmds...)
}

// refresh starts a collection now unless one is running; its snapshot
// schedules the next tick.
func (m *model) refresh() tea.Cmd {
	if m.fetching {
		return nil
	}
	m.fetching = true
	m.gen++ // a tick already scheduled is now stale
	return m.fx.fetch()
}

func (m *model) key(msg tea.KeyMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		return tea.Quit
	}
	switch {
	case m.confirm != nil:
		return m.answerConfirm(msg)
	case m.filtering:
		m.editFilter(msg)
		return nil
	}
	// The last action's outcome stays until the next key.
	m.status = ""
	k := m.keys.forView(m.view, m.fx.clear != nil && m.snap.Redis != nil)
	st := &m.tables[m.view]
	rows := m.rows(m.view)
	page := max(1, m.tableHeight()-1)
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.NextView):
		m.view = (m.view + 1) % numViews
	case key.Matches(msg, k.PrevView):
		m.view = (m.view + numViews - 1) % numViews
	case key.Matches(msg, k.Views):
		m.view = view(msg.Runes[0] - '1')
	case key.Matches(msg, k.Up):
		st.move(rows, -1)
	case key.Matches(msg, k.Down):
		st.move(rows, 1)
	case key.Matches(msg, k.PageUp):
		st.move(rows, -page)
	case key.Matches(msg, k.PageDown):
		st.move(rows, page)
	case key.Matches(msg, k.Top):
		st.move(rows, -len(rows))
	case key.Matches(msg, k.Bottom):
		st.move(rows, len(rows))
	case key.Matches(msg, k.Filter):
		m.filtering = true
	case key.Matches(msg, k.Sort):
		st.sort = (st.sort + 1) % len(m.sorts(m.view))
		st.follow(m.rows(m.view))
	case key.Matches(msg, k.Refresh):
		return m.refresh()
	case key.Matches(msg, k.Clear):
		if l, ok := m.selectedLock(); ok {
			m.confirm = &l
		}
	case key.Matches(msg, k.Help):
		m.showHelp = !m.showHelp
	case msg.Type == tea.KeyEsc:
		m.showHelp = false
		st.filter = ""
		st.follow(m.rows(m.view))
	}
	return nil
}

// answerConfirm clears the lock on y and on nothing else: a stray key must
// never delete a lock.
func (m *model) answerConfirm(msg tea.KeyMsg) tea.Cmd {
	l := *m.confirm
	m.confirm = nil
	if msg.String() != "y" && msg.String() != "Y" {
		m.status, m.statusTo = fmt.Sprintf("not cleared: %s left in place", l.Key()), toneNormal
		return nil
	}
	m.status, m.statusTo = fmt.Sprintf("clearing %s…", l.Key()), toneNormal
	return m.fx.clear(l)
}

// editFilter is the filter prompt: a line of text, enter to keep it, esc
// to drop it. The table narrows as it is typed.
func (m *model) editFilter(msg tea.KeyMsg) {
	st := &m.tables[m.view]
	switch msg.Type {
	case tea.KeyEnter:
		m.filtering = false
	case tea.KeyEsc:
		m.filtering = false
		st.filter = ""
	case tea.KeyBackspace:
		if r := []rune(st.filter); len(r) > 0 {
			st.filter = string(r[:len(r)-1])
		}
	case tea.KeyRunes, tea.KeySpace:
		st.filter += string(msg.Runes)
	}
	st.follow(m.rows(m.view))
}

// rows are the rows of a table view as shown: sorted and filtered.
func (m *model) rows(v view) []row {
	st := m.tables[v]
	var rows []row
	switch v {
	case viewNodes:
		rows = nodeRows(m.snap, m.hist, st.sort)
	case viewLocks:
		rows = lockRows(m.snap, st.sort, func(lockctl.Lock) string {
			if m.fx.clear == nil {
				return ""
			}
			return "c to clear"
		})
	case viewOrders:
		rows = orderRows(m.snap, st.sort)
	}
	return filterRows(rows, st.filter)
}

func (m *model) sorts(v view) []string {
	switch v {
	case viewNodes:
		return nodeSorts
	case viewLocks:
		return lockSorts
	case viewOrders:
		return orderSorts
	}
	return []string{""}
}

// clearOutcome says in one line what a clear did, as taxi lock clear does.
func clearOutcome(msg clearedMsg, actor string) (string, tone) {
	r, key := msg.res, msg.lock.Key()
	switch {
	case r.Outcome == lockctl.Cleared && msg.err != nil:
		return fmt.Sprintf("deleted %s (held by %s) but the audit record failed: %v", key, r.Owner, msg.err), toneWarn
	case r.Outcome == lockctl.Cleared:
		return fmt.Sprintf("deleted %s (held by %s, %s) · audit %s by %s",
			key, r.Owner, strings.ToLower(formatTTL(r.TTL)), r.AuditID, actor), toneNormal
	case errors.Is(msg.err, lockctl.ErrOwnerDiffers):
		return fmt.Sprintf("%s changed since it was shown: now held by %s; left in place", key, r.Owner), toneWarn
	case errors.Is(msg.err, lockctl.ErrLockNotFound):
		return fmt.Sprintf("%s is already gone (released or expired); nothing deleted", key), toneNormal
	case msg.err != nil:
		return fmt.Sprintf("clear %s failed: %v", key, msg.err), toneAlert
	}
	return fmt.Sprintf("%s: %s", key, r.Outcome), toneNormal
}
