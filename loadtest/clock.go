package loadtest

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Timestamps that cross processes (an order's due instant set by the parent,
// its arrival seen by a worker) are nanoseconds of the system's
// CLOCK_MONOTONIC, the clock Go's own monotonic readings come from, so
// they compare directly on one machine and never jump with the wall clock.

var (
	clockOnce   sync.Once
	clockBase   time.Time // a monotonic reading of this process
	clockOffset int64     // CLOCK_MONOTONIC at clockBase
)

// calibrate finds CLOCK_MONOTONIC at clockBase. It brackets one system call
// between two readings of Go's clock and keeps the tightest bracket of a few
// tries, so the offset is right to within a microsecond or so; later readings
// then cost one time.Since instead of a system call.
func calibrate() {
	clockBase = time.Now()
	best := time.Duration(1<<63 - 1)
	for range 8 {
		var ts unix.Timespec
		before := time.Since(clockBase)
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			// Without the system clock the process still agrees with itself.
			clockOffset = 0
			return
		}
		after := time.Since(clockBase)
		if span := after - before; span < best {
			best = span
			clockOffset = ts.Nano() - int64(before+span/2)
		}
	}
}

// monoNow returns the system's monotonic clock in nanoseconds.
func monoNow() int64 {
	clockOnce.Do(calibrate)
	return clockOffset + int64(time.Since(clockBase))
}
