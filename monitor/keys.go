package monitor

import "github.com/charmbracelet/bubbles/key"

// keyMap is every key the monitor answers, with the help it shows.
type keyMap struct {
	NextView key.Binding
	PrevView key.Binding
	Views    key.Binding // 1-4
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Filter   key.Binding
	Sort     key.Binding
	Refresh  key.Binding
	Clear    key.Binding
	Help     key.Binding
	Quit     key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		NextView: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next view")),
		PrevView: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous view")),
		Views:    key.NewBinding(key.WithKeys("1", "2", "3", "4"), key.WithHelp("1-4", "view")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "first")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Sort:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Refresh:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Clear:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "clear lock")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// forView enables the keys that do something in v, so help shows only
// those.
func (k keyMap) forView(v view, canClear bool) keyMap {
	table := v != viewOverview
	for _, b := range []*key.Binding{&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.Top, &k.Bottom, &k.Filter, &k.Sort} {
		b.SetEnabled(table)
	}
	k.Clear.SetEnabled(v == viewLocks && canClear)
	return k
}

// ShortHelp is the one-line help at the bottom of the screen.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.NextView, k.Views, k.Up, k.Down, k.Filter, k.Sort, k.Refresh, k.Clear, k.Help, k.Quit}
}

// FullHelp is the help shown with ?.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.NextView, k.PrevView, k.Views, k.Refresh},
		{k.Up, k.Down, k.PageUp, k.PageDown},
		{k.Top, k.Bottom, k.Filter, k.Sort},
		{k.Clear, k.Help, k.Quit},
	}
}
