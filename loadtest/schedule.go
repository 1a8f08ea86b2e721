package loadtest

import (
	"math"
	"time"
)

// schedule is the open-loop plan of a run: order i is due at i/rate after the
// start, whatever happened to the orders before it. The first warm orders
// fall in the warm-up and are not measured.
type schedule struct {
	rate  float64 // orders per second, > 0
	warm  int64   // orders due during the warm-up
	count int64   // all orders, warm-up included
}

// scheduleFor plans rate orders per second over warmUp then duration.
func scheduleFor(rate float64, warmUp, duration time.Duration) schedule {
	if rate <= 0 {
		return schedule{}
	}
	return schedule{
		rate:  rate,
		warm:  ordersIn(rate, warmUp),
		count: ordersIn(rate, warmUp+duration),
	}
}

// ordersIn counts the due instants i/rate that fall in [0, d).
func ordersIn(rate float64, d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	// Rounding to a microsecond first keeps 50/s over 2s at exactly 100
	// instead of 100.00000000000001 rounding up to 101.
	n := math.Round(rate*d.Seconds()*1e6) / 1e6
	return int64(math.Ceil(n))
}

func (s schedule) total() int64 { return s.count }

func (s schedule) isWarm(i int64) bool { return i < s.warm }

// due is the instant order i is due, relative to the start.
func (s schedule) due(i int64) time.Duration {
	return time.Duration(math.Round(float64(i) * 1e9 / s.rate))
}

// next tells the sender how long to wait before sending order sent (the
// number sent so far) when elapsed has passed since the start. A negative or
// zero wait means the order is already due: the sender is behind and sends at
// once, without skipping, so its lateness shows in the latencies. stop is true
// when every order has been sent.
func (s schedule) next(elapsed time.Duration, sent int64) (wait time.Duration, stop bool) {
	if sent >= s.count || s.rate <= 0 {
		return 0, true
	}
	return s.due(sent) - elapsed, false
}
