package loadtest

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// maxBadOrders bounds the bad orders a report lists one by one.
const maxBadOrders = 1000

// fill merges the parent's counts, every fleet's result and the targets'
// stats into r.
func (b *Bench) fill(r *Report, results []*fleetResult, targets []TargetReport) {
	o := b.opts
	delivery, connect, accept, reconnect := newHist(), newHist(), b.acceptLat.snapshot(), newHist()
	var merr []error
	var riders []riderWatch
	races := make(map[string][2]int32)
	b.mu.Lock()
	for id, t := range b.races {
		races[id] = t
	}
	b.mu.Unlock()

	c := &r.Connections
	d := &r.Deliveries
	for _, res := range results {
		if res == nil {
			continue
		}
		for _, pair := range []struct {
			into *hdrhistogram.Histogram
			s    *hdrhistogram.Snapshot
		}{{delivery, res.Delivery}, {connect, res.Connect}, {accept, res.Accept}, {reconnect, res.Reconnects.Latency}} {
			if err := importHist(pair.into, pair.s); err != nil {
				merr = append(merr, err)
			}
		}
		p := res.Progress
		c.Planned += p.Planned
		c.Connected += p.Planned - p.Failed
		c.Failed += p.Failed
		c.Dropped += p.Dropped
		c.DriversAtStart += res.DriversAtStart
		c.FailuresBy = mergeCounts(c.FailuresBy, res.DialErrors)
		d.Lost += res.Tally.Lost
		d.Duplicated += res.Tally.Duplicated
		d.Foreign += res.Tally.Foreign
		d.InSnapshot += res.Tally.InSnapshot
		r.Events.add(res.Events)
		r.Reconnects.add(res.Reconnects)
		riders = append(riders, res.Tally.Riders...)
		d.Warm += p.Warm
		d.Frames += p.Frames
		r.Errors = mergeCounts(r.Errors, res.Errors)
		r.Limits = append(r.Limits, res.FileLimit)
		for id, t := range res.Tally.Races {
			sum := races[id]
			races[id] = [2]int32{sum[0] + t[0], sum[1] + t[1]}
		}
	}
	r.Errors = mergeCounts(r.Errors, b.errors.snapshot())
	r.Events.judgeRiders(riders, races, o.RunID)
	r.Events.finish()
	r.Reconnects.Enabled = *o.Reconnect
	r.Reconnects.Latency = summarize(reconnect)
	for _, err := range merr {
		r.Notes = append(r.Notes, err.Error())
	}
	for _, l := range r.Limits {
		if l.Warning != "" {
			r.Notes = append(r.Notes, l.Warning)
		}
	}
	c.Latency = summarize(connect)
	if n := b.leftOpen.Load(); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d orders could not be cancelled at the end; they expire with the hub's order retention", n))
	}

	created, warm := b.created.Load(), b.warm.Load()
	r.Orders = OrderReport{
		Planned:   b.sched.total(),
		Sent:      b.sent.Load(),
		Created:   created,
		Warm:      warm,
		Failed:    b.failed.Load(),
		Skipped:   b.skipped.Load(),
		Cancelled: b.cancelled.Load(),
		LeftOpen:  b.leftOpen.Load(),
		Latency:   summarize(b.createLat.snapshot()),
		SendLag:   summarize(b.sendLag.snapshot()),
	}
	if span := (o.WarmUp + o.Duration).Seconds(); span > 0 && o.Scenario != Connect {
		r.Orders.Rate = float64(created) / span
	}
	d.Expected = (created - warm) * c.DriversAtStart
	d.Latency = summarize(delivery)
	d.Received = d.Latency.Count
	if d.Expected > 0 {
		d.LossRate = float64(d.Lost) / float64(d.Expected)
	}
	// The measured orders span (created-warm)/rate seconds of the schedule;
	// for a full run that is Options.Duration, for an interrupted one less.
	if measured := created - warm; measured > 0 && o.Rate > 0 {
		d.PerSecond = float64(d.Received) / (float64(measured) / o.Rate)
	}

	if o.Scenario == Accept || o.Scenario == Soak {
		r.Accepts = acceptReport(o, b.createdIDs(), races, accept)
	}
	r.Server = serverReport(targets, d.Received+d.Warm)
}

// createdIDs lists the ids of every order the run created.
func (b *Bench) createdIDs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids := make([]string, len(b.orders))
	for i, o := range b.orders {
		ids[i] = o.id
	}
	return ids
}

// acceptReport judges every raced order: exactly one racer must have won.
func acceptReport(o Options, ids []string, races map[string][2]int32, lat *hdrhistogram.Histogram) *AcceptReport {
	a := &AcceptReport{Orders: int64(len(ids)), Racers: o.Racers, Via: o.RaceVia, Latency: summarize(lat), BadOrders: []BadOrder{}}
	for _, id := range ids {
		t := races[id]
		a.Wins += int64(t[0])
		a.Losses += int64(t[1])
		if t[0] == 1 && int(t[0]+t[1]) < o.Racers {
			a.Unfinished++
			continue
		}
		if t[0] == 1 {
			a.OneWinner++
			continue
		}
		a.BadCount++
		a.BadOrders = append(a.BadOrders, BadOrder{OrderID: id, Wins: t[0], Losses: t[1]})
	}
	slices.SortFunc(a.BadOrders, func(x, y BadOrder) int { return cmp.Compare(x.OrderID, y.OrderID) })
	if len(a.BadOrders) > maxBadOrders {
		a.BadOrders = a.BadOrders[:maxBadOrders]
	}
	a.Attempts = a.Wins + a.Losses
	if a.Orders > 0 {
		a.Contention = float64(a.Losses) / float64(a.Orders)
	}
	return a
}

// serverReport sums the targets' stats: CPU from the end of the ramp to the
// end of the run, memory and connections over the ramp.
func serverReport(targets []TargetReport, deliveries int64) ServerReport {
	s := ServerReport{Targets: targets}
	for _, t := range targets {
		if t.Ramped != nil && t.After != nil {
			s.CPUSeconds += t.After.CPUSeconds - t.Ramped.CPUSeconds
		}
		if t.Before != nil && t.Ramped != nil {
			s.RSSDeltaBytes += t.Ramped.RSSBytes - t.Before.RSSBytes
			s.HeapDeltaBytes += t.Ramped.HeapBytes - t.Before.HeapBytes
			s.ConnectionsGained += conns(t.Ramped) - conns(t.Before)
		}
		if t.Ramped != nil {
			s.PeakConnections += conns(t.Ramped)
		}
		if t.Before != nil && t.After != nil {
			s.FramesDropped += t.After.Counters.FramesDropped - t.Before.Counters.FramesDropped
			s.SlowDisconnected += t.After.Counters.SlowClientsDisconnected - t.Before.Counters.SlowClientsDisconnected
			if t.Before.Redis != nil && t.After.Redis != nil {
				s.Outages += t.After.Redis.Outages - t.Before.Redis.Outages
			}
		}
	}
	if deliveries > 0 {
		s.CPUPerDeliveryUS = s.CPUSeconds * 1e6 / float64(deliveries)
	}
	if s.ConnectionsGained > 0 {
		s.MemoryPerConnection = float64(s.RSSDeltaBytes) / float64(s.ConnectionsGained)
	}
	return s
}

func conns(s *HubStats) int64 { return s.Connections.Drivers + s.Connections.Users }

// fillCPU reports bench's own CPU: this process plus every worker.
func (b *Bench) fillCPU(r *Report, results []*fleetResult, self time.Duration) {
	secs := self.Seconds()
	if b.opts.Procs > 1 {
		for _, res := range results {
			if res != nil {
				secs += res.CPUSeconds
			}
		}
	}
	cpu := CPUReport{Seconds: secs}
	if r.Seconds > 0 {
		cpu.Cores = secs / r.Seconds
	}
	if n := r.Deliveries.Received + r.Deliveries.Warm; n > 0 {
		cpu.PerDeliveryUS = secs * 1e6 / float64(n)
	}
	cpu.Saturated = cpu.Cores > 0.8*float64(r.Machine.CPUs)
	r.BenchCPU = cpu
}
