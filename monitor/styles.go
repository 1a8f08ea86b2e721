package monitor

import "github.com/charmbracelet/lipgloss"

// Styles of the screen. Every state they show is also written in words
// ("DOWN", "NO EXPIRY", the "›" of the selected row), so the screen reads
// the same without colour: on a monochrome terminal, in a tmux capture, in
// the golden files.
var (
	styleTitle     = lipgloss.NewStyle().Bold(true)
	styleTab       = lipgloss.NewStyle().Faint(true)
	styleTabActive = lipgloss.NewStyle().Bold(true).Reverse(true)
	styleBanner    = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1"))
	styleWarn      = lipgloss.NewStyle().Foreground(lipgloss.Color("3"))
	styleAlert     = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("1"))
	styleDim       = lipgloss.NewStyle().Faint(true)
	styleLabel     = lipgloss.NewStyle().Bold(true)
	styleHeader    = lipgloss.NewStyle().Bold(true)
	styleSelected  = lipgloss.NewStyle().Reverse(true)
	styleSpark     = lipgloss.NewStyle().Foreground(lipgloss.Color("6"))
)

// tone is how a row or value should stand out.
type tone int

const (
	toneNormal tone = iota
	toneAlert       // needs action: a down node, a lock without expiry
	toneWarn        // worth a look: a degraded node
	toneDim         // idle
)

func (t tone) style() lipgloss.Style {
	switch t {
	case toneAlert:
		return styleAlert
	case toneWarn:
		return styleWarn
	case toneDim:
		return styleDim
	}
	return lipgloss.NewStyle()
}
