package loadtest

import (
	"context"
	"time"
)

// Progress is a sample of a running bench, for live displays.
type Progress struct {
	Phase        string        // one of the Phase constants
	Elapsed      time.Duration // since Run started
	PhaseElapsed time.Duration
	PhaseLength  time.Duration // expected length of the phase, 0 if unknown

	Clients int64 // feeds planned (drivers + riders)
	Open    int64 // feeds open now
	Failed  int64 // dials failed
	Dropped int64 // feeds the hub closed

	OrdersPlanned int64
	OrdersSent    int64
	OrdersCreated int64
	OrdersFailed  int64

	Expected       int64   // deliveries expected for measured orders created so far
	Delivered      int64   // deliveries of measured orders received
	WarmExpected   int64   // the same for warm-up orders
	WarmDelivered  int64   //
	Reached        int64   // (driver, order) pairs of either reached by a frame or a snapshot
	Frames         int64   // every frame received
	AcceptsPending int64   // WebSocket accepts not yet answered
	Settled        int64   // storm: drivers greeted, wrongly greeted or out of time
	Errors         int64   // errors of every kind so far
	P99            float64 // delivery p99 so far in ms (worst process), refreshed each second
}

// Progress samples the run now; safe to call at any time.
func (b *Bench) Progress() Progress {
	ph := b.phase.Load()
	p := Progress{
		Phase:         ph.name,
		PhaseElapsed:  time.Since(ph.start),
		PhaseLength:   ph.length,
		OrdersPlanned: b.sched.total(),
		OrdersSent:    b.sent.Load(),
		OrdersCreated: b.created.Load(),
		OrdersFailed:  b.failed.Load(),
		Errors:        b.errors.total(),
	}
	if !b.startedAt.IsZero() {
		p.Elapsed = time.Since(b.startedAt)
	}
	warm := b.warm.Load()
	drivers := b.driversAtStart.Load()
	p.Expected = (p.OrdersCreated - warm) * drivers
	p.WarmExpected = warm * drivers
	for _, f := range b.fleetsNow() {
		fp := f.progress()
		p.Clients += fp.Planned
		p.Open += fp.Open
		p.Failed += fp.Failed
		p.Dropped += fp.Dropped
		p.Delivered += fp.Delivered
		p.WarmDelivered += fp.Warm
		p.Reached += fp.Reached
		p.Frames += fp.Frames
		p.AcceptsPending += fp.AcceptsPending
		p.Settled += fp.Settled
		p.Errors += fp.Errors
		p.P99 = max(p.P99, fp.P99)
	}
	return p
}

func (b *Bench) fleetsNow() []fleetHandle {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fleets
}

// intervals samples the run every Options.Interval for the soak report until
// ctx ends.
func (b *Bench) intervals(ctx context.Context) []Interval {
	var out []Interval
	start := time.Now()
	t := time.NewTicker(b.opts.Interval)
	defer t.Stop()
	last := b.Progress()
	lastAt := start
	for {
		select {
		case <-ctx.Done():
			return out
		case now := <-t.C:
			p := b.Progress()
			secs := now.Sub(lastAt).Seconds()
			delivered := p.Delivered + p.WarmDelivered - last.Delivered - last.WarmDelivered
			iv := Interval{
				Seconds:   now.Sub(start).Seconds(),
				Orders:    p.OrdersCreated - last.OrdersCreated,
				Delivered: delivered,
				P99:       p.P99,
				Open:      p.Open,
				Errors:    p.Errors,
			}
			if secs > 0 {
				iv.PerSecond = float64(delivered) / secs
			}
			out = append(out, iv)
			b.opts.Logger.Info("soak", "seconds", int(iv.Seconds), "orders", iv.Orders, "delivered", iv.Delivered,
				"per_second", int(iv.PerSecond), "p99_ms", iv.P99, "open", iv.Open, "errors", iv.Errors)
			last, lastAt = p, now
		}
	}
}
