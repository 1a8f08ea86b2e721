package monitor

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// View draws the whole screen: the title bar with the views, any banner,
// the current view, then the status line and the help. It is exactly
// m.height lines, each cut to m.width, so nothing scrolls or wraps.
func (m *model) View() string {
	top, bottom := m.chrome()
	height := m.bodyHeight(top, bottom)
	var body []string
	switch {
	case !m.have:
		body = []string{"", "  collecting the first snapshot…"}
	case m.view == viewOverview:
		body = m.overview()
	default:
		body = m.tableView(height)
	}
	if len(body) > height {
		body = body[:height]
	}
	for len(body) < height {
		body = append(body, "")
	}
	lines := append(append(top, body...), bottom...)
	for i, l := range lines {
		lines[i] = cut(l, m.width)
	}
	return strings.Join(lines, "\n")
}

func (m *model) bodyHeight(top, bottom []string) int {
	return max(0, m.height-len(top)-len(bottom))
}

// tableHeight is the room for a table's header and rows: the body less
// the summary line and the selected row's detail.
func (m *model) tableHeight() int {
	top, bottom := m.chrome()
	return m.bodyHeight(top, bottom) - 2 - len(m.detail())
}

// detail is what the table has no room for about the selected row: why a
// node is down or degraded, in full.
func (m *model) detail() []string {
	if m.view != viewNodes || !m.have {
		return nil
	}
	key := m.tables[viewNodes].key
	for _, n := range m.snap.Nodes {
		if n.NodeID != key {
			continue
		}
		if st, t := nodeState(n); t != toneNormal {
			lines := []string{""}
			for _, l := range wrapLines(fmt.Sprintf("%s %s: %s", n.NodeID, st, nodeNote(n)), m.width-3, 2) {
				lines = append(lines, t.style().Render("   "+l))
			}
			return lines
		}
	}
	return nil
}

// wrapLines wraps s at word boundaries to width, into at most n lines, the
// last one cut short with "…" if need be.
func wrapLines(s string, width, n int) []string {
	if width <= 0 {
		return nil
	}
	lines := strings.Split(ansi.Wrap(s, width, ""), "\n")
	if len(lines) > n {
		lines = lines[:n]
		lines[n-1] = ansi.Truncate(lines[n-1]+" …", width, "…")
	}
	return lines
}

// chrome returns the lines above and below the view.
func (m *model) chrome() (top, bottom []string) {
	top = append(top, m.titleBar())
	top = append(top, m.banners()...)
	top = append(top, "")

	bottom = append(bottom, m.statusLine())
	h := m.help
	h.ShowAll = m.showHelp
	keys := m.keys.forView(m.view, m.fx.clear != nil && m.snap.Redis != nil)
	bottom = append(bottom, strings.Split(h.View(keys), "\n")...)
	return top, bottom
}

func (m *model) titleBar() string {
	var b strings.Builder
	b.WriteString(styleTitle.Render(" taxi monitor "))
	for v := range numViews {
		label := fmt.Sprintf("%d %s", v+1, v)
		if v == m.view {
			b.WriteString(" " + styleTabActive.Render("["+label+"]"))
		} else {
			b.WriteString(" " + styleTab.Render(" "+label+" "))
		}
	}
	left := b.String()
	right := "connecting…"
	if m.have {
		right = fmt.Sprintf("updated %s · every %s ", m.snap.Time.Local().Format("15:04:05"), formatInterval(m.interval))
		if m.fetching {
			right = "refreshing · " + right
		}
	}
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return left
	}
	return left + strings.Repeat(" ", gap) + styleDim.Render(right)
}

// banners are the warnings that must not be missed, whatever the view.
func (m *model) banners() []string {
	r := m.snap.Redis
	if !m.have || r == nil {
		return nil
	}
	var out []string
	if r.Error != "" {
		msg := fmt.Sprintf("Redis unreachable at %s, retrying every %s · %s", r.URL, formatInterval(m.interval), r.Error)
		for _, l := range wrapLines(msg, m.width-2, 2) {
			out = append(out, styleBanner.Render(fit(" "+l, m.width, false)))
		}
	}
	for i, w := range r.Warnings {
		if i == 2 {
			out = append(out, styleWarn.Render(fmt.Sprintf(" and %d more Redis warnings", len(r.Warnings)-2)))
			break
		}
		out = append(out, styleWarn.Render(" Redis: "+w))
	}
	return out
}

func (m *model) statusLine() string {
	st := m.tables[m.view]
	switch {
	case m.confirm != nil:
		l := m.confirm
		return styleAlert.Render(fmt.Sprintf(" Clear %s held by %s (%s)? The order can be accepted again. [y/N] ",
			l.Key(), l.Owner, strings.ToLower(formatTTL(l.TTL))))
	case m.filtering:
		return fmt.Sprintf(" filter: %s▏ (enter keep · esc drop)", st.filter)
	case m.status != "":
		return m.statusTo.style().Render(" " + m.status)
	}
	return ""
}

// tableView draws a table view: a summary line, then the table.
func (m *model) tableView(height int) []string {
	st := m.tables[m.view]
	rows := m.rows(m.view)
	var cols []column
	var summary string
	switch m.view {
	case viewNodes:
		cols = nodeColumns
		summary = fmt.Sprintf("%d %s, %d up", len(m.snap.Nodes), plural(int64(len(m.snap.Nodes)), "node", "nodes"), m.snap.NodesUp())
	case viewLocks:
		cols = lockColumns
		summary = m.locksSummary()
	case viewOrders:
		cols = orderColumns
		summary = m.ordersSummary()
	}
	summary += " · sort: " + m.sorts(m.view)[st.sort]
	if st.filter != "" {
		summary += fmt.Sprintf(" · filter %q: %d shown", st.filter, len(rows))
	}
	detail := m.detail()
	page := height - 3 - len(detail) // less the summary, a blank line and the header
	if page > 0 && len(rows) > page {
		first := window(st.cursor, page)
		summary += fmt.Sprintf(" · rows %d-%d of %d", first+1, min(first+page, len(rows)), len(rows))
	}
	lines := []string{" " + summary, ""}
	if (m.view == viewLocks || m.view == viewOrders) && !m.snap.RedisOK() {
		return append(lines, "  "+redisMissing(m.snap))
	}
	if len(rows) == 0 {
		return append(append(lines, renderTable(cols, nil, 0, m.width, 1, false)...), "  (none)")
	}
	lines = append(lines, renderTable(cols, rows, st.cursor, m.width, height-2-len(detail), true)...)
	return append(lines, detail...)
}

func (m *model) locksSummary() string {
	r := m.snap.Redis
	if r == nil || r.Error != "" {
		return "locks"
	}
	l := r.Locks
	s := fmt.Sprintf("%d %s, %d without expiry", l.Total, plural(int64(l.Total), "lock", "locks"), l.Stale)
	if l.Truncated {
		s += fmt.Sprintf(" · showing %d", len(l.Items))
	}
	return s
}

func (m *model) ordersSummary() string {
	r := m.snap.Redis
	if r == nil || r.Error != "" {
		return "orders being viewed"
	}
	v := r.Viewed
	s := fmt.Sprintf("%d %s viewed by %d %s", v.Orders, plural(int64(v.Orders), "order", "orders"),
		v.Viewers, plural(v.Viewers, "driver", "drivers"))
	if v.Orders > len(v.Top) {
		s += fmt.Sprintf(" · top %d", len(v.Top))
	}
	return s
}

// redisMissing explains an empty Redis-backed view.
func redisMissing(s Snapshot) string {
	if s.Redis == nil {
		return "running without Redis (--no-redis): locks and viewed orders live in Redis"
	}
	return "Redis unreachable: nothing to show until it answers"
}
