package loadtest

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user plus system) this process has used, so
// a report can show when the load generator itself was saturated.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
