package server

import (
	"context"
	"sync"
	"time"
)

// skipFor is how long a skip mark waits for its event to come back from
// Redis before it is forgotten.
const skipFor = time.Minute

// sequencer is a node's position in one channel's event log: the last event
// it delivered. Events reach it from the subscription and from the log after
// a gap, possibly both; it delivers each once, in id order, and lets replies
// wait until an event they refer to is delivered.
type sequencer struct {
	ch      Channel
	deliver deliverFunc

	mu    sync.Mutex
	last  EventID
	epoch string
	known bool // last is a position in the log of epoch
	// skip holds the contents of events this node already delivered to its
	// clients from memory during an outage, and then logged in Redis when
	// it rejoined: they are not delivered here a second time.
	skip      map[string]int
	skipUntil time.Time
	// advanced is closed and replaced whenever last moves.
	advanced chan struct{}
}

func newSequencer(ch Channel, deliver deliverFunc) *sequencer {
	return &sequencer{ch: ch, deliver: deliver, advanced: make(chan struct{})}
}

// position returns the last delivered id and whether it is a position in
// the log of epoch.
func (s *sequencer) position(epoch string) (EventID, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.known && s.epoch == epoch
}

// reset moves to id in the log of epoch without delivering what lies
// between: the caller has sent snapshots instead.
func (s *sequencer) reset(id EventID, epoch string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last, s.epoch, s.known = id, epoch, true
	s.advanceLocked()
}

// arrive delivers ev unless an event at or after it was delivered already.
// It reports whether ev was new.
func (s *sequencer) arrive(ev Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.Less(ev.ID) {
		return false
	}
	s.last = ev.ID
	s.advanceLocked()
	if len(s.skip) > 0 && time.Now().After(s.skipUntil) {
		s.skip = nil
	}
	if n := s.skip[ev.content()]; n > 0 {
		if n == 1 {
			delete(s.skip, ev.content())
		} else {
			s.skip[ev.content()] = n - 1
		}
		return true
	}
	// Delivering under the lock keeps events in order; deliver only queues
	// frames and never blocks.
	s.deliver(ev)
	return true
}

// skipOnce marks an event's content as delivered here already.
func (s *sequencer) skipOnce(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.skip == nil {
		s.skip = map[string]int{}
	}
	s.skip[ev.content()]++
	s.skipUntil = time.Now().Add(skipFor)
}

func (s *sequencer) advanceLocked() {
	close(s.advanced)
	s.advanced = make(chan struct{})
}

// wait returns once id, or a later event, has been delivered, or when ctx
// ends.
func (s *sequencer) wait(ctx context.Context, id EventID) error {
	for {
		s.mu.Lock()
		done, ch := !s.last.Less(id), s.advanced
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
