package monitor

import "strings"

var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the newest width samples of s as block characters scaled
// from zero to the largest of them, so a flat zero is a low line and a
// spike stands out. Until there are width samples the line is shorter: it
// grows to the right as samples come, the newest always last.
func sparkline(s series, width int) string {
	if width <= 0 {
		return ""
	}
	if len(s) > width {
		s = s[len(s)-width:]
	}
	peak := 0.0
	for _, v := range s {
		peak = max(peak, v)
	}
	var b strings.Builder
	top := len(sparkBlocks) - 1
	for _, v := range s {
		i := 0
		if peak > 0 && v > 0 {
			i = min(top, max(1, int(v/peak*float64(top)+0.5)))
		}
		b.WriteRune(sparkBlocks[i])
	}
	return b.String()
}
