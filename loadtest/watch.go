package loadtest

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Watch shows the samples of a run on w until ch is closed: progress bars
// when terminal is true, otherwise (pipes, CI logs, --quiet) one plain line
// every interval and at each phase change. It returns when ch is closed and
// the display is flushed.
func Watch(w io.Writer, ch <-chan Progress, terminal bool, every time.Duration) {
	if every <= 0 {
		every = DefaultInterval
	}
	if terminal {
		watchBars(w, ch)
		return
	}
	watchLines(w, ch, every)
}

// watchLines prints a line per interval and per phase change.
func watchLines(w io.Writer, ch <-chan Progress, every time.Duration) {
	var last Progress
	var lastAt time.Time
	for p := range ch {
		if p.Phase == last.Phase && time.Since(lastAt) < every {
			continue
		}
		rate := 0.0
		if secs := time.Since(lastAt).Seconds(); !lastAt.IsZero() && secs > 0 {
			rate = float64(p.Delivered+p.WarmDelivered-last.Delivered-last.WarmDelivered) / secs
		}
		fmt.Fprintln(w, progressLine(p, rate))
		last, lastAt = p, time.Now()
	}
}

// progressLine is one plain progress line.
func progressLine(p Progress, rate float64) string {
	s := fmt.Sprintf("%6.1fs %-8s clients %s/%s", p.Elapsed.Seconds(), p.Phase, count(p.Open), count(p.Clients))
	if p.Failed > 0 || p.Dropped > 0 {
		s += fmt.Sprintf(" (%s failed, %s dropped)", count(p.Failed), count(p.Dropped))
	}
	if p.OrdersPlanned > 0 {
		s += fmt.Sprintf("  orders %s/%s  deliveries %s/%s (%s/s)  p99 %s",
			count(p.OrdersCreated), count(p.OrdersPlanned),
			count(p.Delivered+p.WarmDelivered), count(p.Expected+p.WarmExpected), count(int64(rate)), p99Text(p.P99))
	}
	return s + fmt.Sprintf("  errors %s", count(p.Errors))
}

// watchBars draws three bars (clients, orders, deliveries) with mpb.
func watchBars(w io.Writer, ch <-chan Progress) {
	pr := mpb.New(mpb.WithOutput(w), mpb.WithAutoRefresh(), mpb.WithWidth(100), mpb.WithRefreshRate(200*time.Millisecond))
	var mu sync.Mutex
	var cur Progress
	latest := func() Progress {
		mu.Lock()
		defer mu.Unlock()
		return cur
	}
	name := func(s string) decor.Decorator {
		return decor.Name(s, decor.WC{C: decor.DindentRight | decor.DextraSpace})
	}
	clients := pr.AddBar(1,
		mpb.PrependDecorators(name("clients"), decor.CountersNoUnit("%d / %d", decor.WCSyncWidth)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			p := latest()
			return fmt.Sprintf("%s  failed %s  dropped %s", p.Phase, count(p.Failed), count(p.Dropped))
		})))
	var orders, deliveries *mpb.Bar
	var lastDelivered int64
	var lastAt time.Time
	var rate float64
	for p := range ch {
		mu.Lock()
		cur = p
		mu.Unlock()
		clients.SetTotal(max(p.Clients, 1), false)
		clients.SetCurrent(p.Open + p.Failed + p.Dropped)
		if p.OrdersPlanned > 0 && orders == nil {
			orders = pr.AddBar(p.OrdersPlanned,
				mpb.PrependDecorators(name("orders"), decor.CountersNoUnit("%d / %d", decor.WCSyncWidth)),
				mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
					p := latest()
					return fmt.Sprintf("created %s  failed %s  errors %s", count(p.OrdersCreated), count(p.OrdersFailed), count(p.Errors))
				})))
			deliveries = pr.AddBar(1,
				mpb.PrependDecorators(name("deliveries"), decor.CountersNoUnit("%d / %d", decor.WCSyncWidth)),
				mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
					p := latest()
					return fmt.Sprintf("%s/s  p99 %s", count(int64(rate)), p99Text(p.P99))
				})))
		}
		if orders != nil {
			orders.SetCurrent(p.OrdersSent)
			got := p.Delivered + p.WarmDelivered
			deliveries.SetTotal(max(p.Expected+p.WarmExpected, 1), false)
			deliveries.SetCurrent(got)
			if secs := time.Since(lastAt).Seconds(); secs >= 1 {
				if !lastAt.IsZero() {
					rate = float64(got-lastDelivered) / secs
				}
				lastDelivered, lastAt = got, time.Now()
			}
		}
	}
	// The run is over: complete every bar at its final count so Wait returns.
	for _, b := range []*mpb.Bar{clients, orders, deliveries} {
		if b != nil {
			b.SetTotal(-1, true)
		}
	}
	pr.Wait()
}

// p99Text shows a p99 so far, or a dash before the first measured delivery.
func p99Text(v float64) string {
	if v == 0 {
		return "-"
	}
	return ms(v) + " ms"
}
