package server

import (
	"context"
	"sync"
	"time"
)

// memoryBroker is the broker of one node alone: Publish logs an event in a
// ring and hands it to this node at once, so events are delivered in id order
// before Publish returns.
type memoryBroker struct {
	deliver   deliverFunc
	retention time.Duration
	max       int

	mu   sync.Mutex
	last EventID
	logs map[Channel]*ring
}

var _ Broker = (*memoryBroker)(nil)

func newMemoryBroker(cfg *Config, deliver deliverFunc) *memoryBroker {
	return &memoryBroker{
		deliver:   deliver,
		retention: cfg.EventRetention,
		max:       cfg.EventRetentionMax,
		logs:      map[Channel]*ring{ChannelDrivers: {}, ChannelUsers: {}},
	}
}

// nextID returns an id after every earlier one, from the clock as Redis
// makes stream ids, so that ids of one node's lifetime keep their order.
func (b *memoryBroker) nextID(now time.Time) EventID {
	ms := uint64(now.UnixMilli())
	if ms > b.last.Ms {
		b.last = EventID{Ms: ms}
	} else {
		b.last.Seq++
	}
	return b.last
}

func (b *memoryBroker) Publish(_ context.Context, ev Event) (Event, error) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	ev = ev.withID(b.nextID(now))
	r := b.logs[ev.Channel]
	r.push(ev, b.max)
	r.trim(EventID{Ms: uint64(now.Add(-b.retention).UnixMilli())})
	// Delivering under the lock keeps delivery in id order; deliver only
	// queues frames and never blocks.
	b.deliver(ev)
	return ev, nil
}

func (b *memoryBroker) Since(_ context.Context, ch Channel, id EventID, max int) ([]Event, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	evs, ok := b.logs[ch].after(id, max)
	return evs, ok, nil
}

func (b *memoryBroker) Tail(_ context.Context, ch Channel) (EventID, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.logs[ch].tail(), nil
}

// Delivered returns at once: Publish delivers before it returns.
func (b *memoryBroker) Delivered(context.Context, Channel, EventID) error { return nil }

// all returns every logged event of both channels in id order, for the
// write-back after an outage.
func (b *memoryBroker) all() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, u := b.logs[ChannelDrivers].events(), b.logs[ChannelUsers].events()
	out := make([]Event, 0, len(d)+len(u))
	for len(d) > 0 || len(u) > 0 {
		if len(u) == 0 || (len(d) > 0 && d[0].ID.Less(u[0].ID)) {
			out, d = append(out, d[0]), d[1:]
		} else {
			out, u = append(out, u[0]), u[1:]
		}
	}
	return out
}

// ring is one channel's log, oldest first.
type ring struct {
	evs []Event
}

func (r *ring) push(ev Event, max int) {
	r.evs = append(r.evs, ev)
	if over := len(r.evs) - max; over > 0 {
		r.drop(over)
	}
}

// trim drops events older than floor.
func (r *ring) trim(floor EventID) {
	n := 0
	for n < len(r.evs) && r.evs[n].ID.Less(floor) {
		n++
	}
	r.drop(n)
}

func (r *ring) drop(n int) {
	if n == 0 {
		return
	}
	clear(r.evs[:n])
	r.evs = r.evs[n:]
	if cap(r.evs) > 2*len(r.evs)+64 {
		r.evs = append([]Event(nil), r.evs...)
	}
}

func (r *ring) tail() EventID {
	if len(r.evs) == 0 {
		return EventID{}
	}
	return r.evs[len(r.evs)-1].ID
}

// after returns the events after id; ok is false when id is not in the ring
// or more than max follow it.
func (r *ring) after(id EventID, max int) ([]Event, bool) {
	for i := len(r.evs) - 1; i >= 0; i-- {
		if r.evs[i].ID == id {
			rest := r.evs[i+1:]
			if len(rest) > max {
				return nil, false
			}
			return append([]Event(nil), rest...), true
		}
		if r.evs[i].ID.Less(id) {
			break
		}
	}
	return nil, false
}

func (r *ring) events() []Event { return append([]Event(nil), r.evs...) }
