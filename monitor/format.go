package monitor

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/taxi-hub/taxi/lockctl"
)

// formatBytes prints a size in binary units with one decimal: "1.2 MiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// formatRate prints a per-second rate: no decimals once it is large, one
// below, "0" for nothing.
func formatRate(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}

// formatUptime prints the two largest units: "3d04h", "2h05m", "4m09s".
func formatUptime(seconds float64) string {
	d := time.Duration(math.Round(seconds)) * time.Second
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%02dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, d%time.Minute/time.Second)
	default:
		return fmt.Sprintf("%ds", d/time.Second)
	}
}

// formatTTL is a lock's time left, as taxi lock prints it.
func formatTTL(d time.Duration) string {
	if d == lockctl.NoExpiry {
		return "NO EXPIRY"
	}
	return d.Round(100 * time.Millisecond).String()
}

// formatInterval prints a refresh period without zero units: "2s",
// "1m30s", "1h".
func formatInterval(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// orDash shows an unknown value as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
