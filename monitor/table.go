package monitor

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// column is one column of a table; the last one takes the width left.
type column struct {
	title string
	width int
	right bool
}

// row is one line of a table. key names what it shows (a node or order id)
// so the selection follows it across refreshes and re-sorts.
type row struct {
	key   string
	cells []string
	tone  tone
}

// tableState is one table view's cursor, sort and filter.
type tableState struct {
	cursor int
	key    string
	sort   int
	filter string
}

// filterRows keeps the rows any of whose cells contain q, ignoring case.
func filterRows(rows []row, q string) []row {
	if q == "" {
		return rows
	}
	q = strings.ToLower(q)
	var out []row
	for _, r := range rows {
		if strings.Contains(strings.ToLower(strings.Join(r.cells, "\x00")), q) {
			out = append(out, r)
		}
	}
	return out
}

// follow puts the cursor back on the row with st.key if it is still
// there, else keeps it in range.
func (st *tableState) follow(rows []row) {
	for i, r := range rows {
		if r.key == st.key {
			st.cursor = i
			return
		}
	}
	st.cursor = max(0, min(st.cursor, len(rows)-1))
	st.key = ""
	if len(rows) > 0 {
		st.key = rows[st.cursor].key
	}
}

// move shifts the cursor by delta rows, clamped.
func (st *tableState) move(rows []row, delta int) {
	if len(rows) == 0 {
		return
	}
	st.cursor = max(0, min(st.cursor+delta, len(rows)-1))
	st.key = rows[st.cursor].key
}

// window returns the first row shown when page rows fit: the page scrolls
// only as far as needed to show the cursor.
func window(cursor, page int) int { return max(0, cursor-page+1) }

// renderTable draws the header and as many rows as fit in height, from
// window(cursor, height-1), each line cut to width. The selected row is
// marked "›" as well as highlighted.
func renderTable(cols []column, rows []row, cursor, width, height int, selectable bool) []string {
	if height <= 0 {
		return nil
	}
	widths := make([]int, len(cols))
	used := 2 // the selection mark and a space
	for i, c := range cols {
		widths[i] = c.width
		if i < len(cols)-1 {
			used += c.width + 1
		}
	}
	widths[len(cols)-1] = max(cols[len(cols)-1].width, width-used)

	line := func(cells []string) string {
		var b strings.Builder
		for i, c := range cols {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(fit(cells[i], widths[i], c.right))
		}
		return strings.TrimRight(b.String(), " ")
	}
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.title
	}
	lines := []string{styleHeader.Render(cut("  "+line(titles), width))}

	page := height - 1
	offset := window(cursor, page)
	for i := offset; i < len(rows) && i < offset+page; i++ {
		r := rows[i]
		mark := "  "
		st := r.tone.style()
		if selectable && i == cursor {
			mark = "› "
			st = st.Inherit(styleSelected)
		}
		lines = append(lines, st.Render(cut(mark+line(r.cells), width)))
	}
	return lines
}

// fit pads or truncates s to exactly w cells.
func fit(s string, w int, right bool) string {
	if lipgloss.Width(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	pad := strings.Repeat(" ", max(0, w-lipgloss.Width(s)))
	if right {
		return pad + s
	}
	return s + pad
}

// cut truncates a line to the terminal width, so nothing wraps.
func cut(s string, width int) string {
	if width <= 0 || lipgloss.Width(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}
